"""Plain text: the first non-empty line is the title. A text file has no date: its
modification time says when it was copied or ingested, not when it was written."""

from __future__ import annotations

from pathlib import Path

from indexer.language import detect_language
from indexer.records import Document
from ingest.fields import clean_text
from ingest.readers.base import FileResult, first_line, read_text, require_text


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    body = clean_text(require_text(read_text(path), path))
    doc = Document(id=file_id, title=first_line(body) or path.stem, body=body,
                   language=detect_language(body), source=str(path))
    return FileResult(documents=[doc])
