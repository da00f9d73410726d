"""Readers turn one file into records. One module per format; ``read_file`` dispatches.

A reader returns what it could read and the problems it met (with line numbers
for record files); it raises ``IngestError`` only when the whole file is unusable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexer.errors import IngestError
from indexer.records import Document, Person
from ingest.readers import html, markdown, pdf, records, text
from ingest.readers.base import FileResult, Problem

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


def iter_file(path: Path, file_id: str, people: bool = False
              ) -> Iterator[Document | Person | Problem]:
    """Read one file as a stream of records and problems (record files record by record)."""
    if READERS.get(path.suffix.lower()) is records.read:
        yield from records.iter_records(path, file_id, people)
        return
    result = read_file(path, file_id, people)
    yield from result.problems
    yield from result.people
    yield from result.documents


def size_hint(path: Path) -> int:
    """Roughly how many records a file holds (lines of a JSON-lines or CSV file; else 1),
    so progress can move while one large file is read."""
    if path.suffix.lower() not in (".jsonl", ".csv"):
        return 1
    lines = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines, 1)


__all__ = ["FileResult", "Problem", "iter_file", "read_file", "size_hint", "supported"]
