"""Record files: JSON (one record or a list), JSON lines, YAML and CSV.

Each record becomes a person (``"type": "person"``, or any record of a file
given with ``--people``), or a document or lesson. A malformed line or record is
reported with its line number and skipped; the rest of the file is read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from indexer.errors import IngestError, InvalidRecord
from indexer.records import Document, Person
from ingest.documents import parse_document
from ingest.people import parse_person
from ingest.readers.base import FileResult, Problem, read_text


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    result = FileResult()
    for item in iter_records(path, file_id, people):
        if isinstance(item, Problem):
            result.problems.append(item)
        elif isinstance(item, Person):
            result.people.append(item)
        else:
            result.documents.append(item)
    return result


def iter_records(path: Path, file_id: str, people: bool = False
                 ) -> Iterator[Document | Person | Problem]:
    """The file's records one at a time; JSON lines and CSV are read as a stream, so a
    file larger than memory can be ingested."""
    found = False
    for position, (line, record) in enumerate(_records(path), start=1):
        found = True
        try:
            if isinstance(record, Problem):
                yield record
                continue
            if isinstance(record, str):  # a CSV row the reader could not split
                raise InvalidRecord(record)
            if not isinstance(record, dict):
                raise InvalidRecord("a record must be an object of fields")
            if people or str(record.get("type", "")).lower() == "person":
                yield parse_person(record, str(path))
            else:
                yield parse_document(record, f"{file_id}#{position}", str(path))
        except InvalidRecord as exc:
            yield Problem(str(path), str(exc), line)
    if not found:
        raise IngestError("no records found", "the file is empty")


def _records(path: Path) -> Iterator[tuple[int | None, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _json_lines(path)
    elif suffix == ".json":
        text = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        yield from ((None, r) for r in (data if isinstance(data, list) else [data]))
    elif suffix in (".yaml", ".yml"):
        yield from _yaml_records(read_text(path))
    else:
        yield from _csv_records(path)


def _open(path: Path) -> IO[str]:
    """A text stream; UTF-8 (a BOM is dropped), else Latin-1 as read_text decides."""
    with open(path, "rb") as probe:
        head = probe.read(1 << 20)
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:  # a cut multi-byte character at the end is fine
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "latin-1"
    return open(path, encoding=encoding, errors="replace", newline="")


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    with _open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, Problem(str(path), f"invalid JSON: {exc.msg}", number)


def _yaml_records(text: str) -> Iterator[tuple[int | None, Any]]:
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise IngestError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    for data in documents:
        yield from ((None, r) for r in (data if isinstance(data, list) else [data]))


def _csv_records(path: Path) -> Iterator[tuple[int, Any]]:
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise IngestError("the CSV file has no header row")
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                yield reader.line_num, f"expected {len(reader.fieldnames)} columns"
                continue
            yield reader.line_num, {k.strip(): v for k, v in row.items() if k}
