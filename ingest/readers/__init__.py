"""Readers turn one file into records. One module per format; ``read_file`` dispatches.

A reader returns what it could read and the problems it met (with line numbers
for record files); it raises ``IngestError`` only when the whole file is unusable.
"""

from __future__ import annotations

from pathlib import Path

from indexer.errors import IngestError
from ingest.readers import html, markdown, pdf, records, text
from ingest.readers.base import FileResult

READERS = {
    ".md": markdown.read, ".markdown": markdown.read,
    ".html": html.read, ".htm": html.read,
    ".txt": text.read,
    ".pdf": pdf.read,
    ".json": records.read, ".jsonl": records.read, ".yaml": records.read,
    ".yml": records.read, ".csv": records.read,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def read_file(path: Path, file_id: str, people: bool = False) -> FileResult:
    """Read one file. ``file_id`` is its stable path-derived id; ``people`` marks a people file."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise IngestError(f"unknown extension {path.suffix or '(none)'!r}",
                          "supported: " + ", ".join(sorted(READERS)))
    return reader(path, file_id, people)


__all__ = ["FileResult", "read_file", "supported"]
