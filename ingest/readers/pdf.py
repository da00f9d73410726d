"""PDF through pypdf (the only module that imports it)."""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from indexer.errors import IngestError
from ingest.documents import parse_document
from ingest.readers.base import FileResult, filled_in, first_line, require_text

logging.getLogger("pypdf").setLevel(logging.ERROR)


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise IngestError("the PDF is encrypted", "decrypt it before ingesting")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"corrupt or unreadable PDF: {exc}") from exc
    body = require_text("\n\n".join(p.strip() for p in pages if p.strip()), path)
    record = {"title": filled_in(info.get("/Title")) or first_line(body) or path.stem,
              "body": body, "updated_at": _pdf_date(info.get("/CreationDate"))}
    for key, field in (("/Author", "authors"), ("/Keywords", "tags")):
        if value := filled_in(info.get(key)):
            record[field] = value
    return FileResult(documents=[parse_document(record, file_id, str(path))])


def _pdf_date(value: object) -> str | None:
    text = str(value or "").removeprefix("D:")
    if len(text) >= 8 and text[:8].isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return None
