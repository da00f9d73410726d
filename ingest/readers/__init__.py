"""Readers turn one file into records. One module per format; ``read_file`` dispatches.

A reader is a module of this package with ``read(path, file_id, people) ->
FileResult``: what it could read and the problems it met (with line numbers for
record files); it raises ``IngestError`` only when the whole file is unusable.
Modules are imported when a file of theirs is first read, so a run that reads only
Markdown never pays for the Office libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from indexer.errors import IngestError
from indexer.records import Document, Person
from ingest.readers import records
from ingest.readers.base import FileResult, Problem

Reader = Callable[[Path, str, bool], FileResult]

# extension -> the module of this package that reads it
FORMATS = {
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html",
    ".txt": "text",
    ".pdf": "pdf",
    ".json": "records", ".jsonl": "records", ".yaml": "records", ".yml": "records",
    ".csv": "records",
    ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx",
    ".odt": "odf", ".odp": "odf", ".ods": "odf", ".rtf": "rtf",
    ".eml": "mail", ".mbox": "mail",
    ".zip": "archive",
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in FORMATS


def reader_for(path: Path) -> Reader:
    module = FORMATS.get(path.suffix.lower())
    if module is None:
        raise IngestError(f"unknown extension {path.suffix or '(none)'!r}",
                          "supported: " + ", ".join(sorted(FORMATS)))
    return importlib.import_module(f"ingest.readers.{module}").read


def read_file(path: Path, file_id: str, people: bool = False) -> FileResult:
    """Read one file. ``file_id`` is its stable path-derived id; ``people`` marks a people file."""
    return reader_for(path)(path, file_id, people)


def iter_file(path: Path, file_id: str, people: bool = False,
              people_map: Mapping[str, str] | None = None
              ) -> Iterator[Document | Person | Problem]:
    """Read one file as a stream of records and problems (record files record by record).
    ``people_map``: a people CSV's column names (``ingest.hr``)."""
    if FORMATS.get(path.suffix.lower()) == "records":
        yield from records.iter_records(path, file_id, people, people_map)
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
