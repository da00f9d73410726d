"""Markdown, with optional YAML front matter holding the document's fields."""

from __future__ import annotations

import re
from pathlib import Path

from indexer.errors import IngestError
from ingest.documents import parse_document
from ingest.readers.base import (
    FileResult,
    first_line,
    load_yaml,
    read_text,
    require_text,
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        documents = load_yaml(match.group(1), lines_before=1)  # the opening ---
    except IngestError as exc:
        raise IngestError(f"front matter: {exc.message}", exc.hint) from exc
    meta = documents[0] if documents else {}
    if not isinstance(meta, dict):
        raise IngestError("front matter must be a mapping of fields")
    return meta, text[match.end():]


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    meta, body = split_front_matter(read_text(path))
    require_text(body, path)
    # Dated by its front matter only (a file's modification time is when it was copied).
    record = {"title": first_line(body) or path.stem, **meta, "body": body}
    return FileResult(documents=[parse_document(record, file_id, str(path))])
