"""Markdown, with optional YAML front matter holding the document's fields."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from indexer.errors import IngestError
from ingest.documents import parse_document
from ingest.readers.base import FileResult, file_date, first_line, read_text, require_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"front matter is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(meta, dict):
        raise IngestError("front matter must be a mapping of fields")
    return meta, text[match.end():]


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    meta, body = split_front_matter(read_text(path))
    require_text(body, path)
    record = {"title": first_line(body) or path.stem, "updated_at": file_date(path), **meta,
              "body": body}
    return FileResult(documents=[parse_document(record, file_id, str(path))])
