"""Record files: JSON (one record or a list), JSON lines, YAML and CSV.

Each record becomes a person (``"type": "person"``, or any record of a file
given with ``--people``), or a document or lesson. A malformed line or record is
reported with its line number and skipped; the rest of the file is read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from indexer.errors import IngestError, InvalidRecord
from ingest.documents import parse_document
from ingest.people import parse_person
from ingest.readers.base import FileResult, Problem, read_text


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    result = FileResult()
    text = read_text(path)
    for position, (line, record) in enumerate(_records(path, text, result), start=1):
        try:
            if isinstance(record, str):  # a CSV row the reader could not split
                raise InvalidRecord(record)
            if not isinstance(record, dict):
                raise InvalidRecord("a record must be an object of fields")
            if people or str(record.get("type", "")).lower() == "person":
                result.people.append(parse_person(record, str(path)))
            else:
                result.documents.append(
                    parse_document(record, f"{file_id}#{position}", str(path)))
        except InvalidRecord as exc:
            result.problems.append(Problem(str(path), str(exc), line))
    if not result.documents and not result.people and not result.problems:
        raise IngestError("no records found", "the file is empty")
    return result


def _records(path: Path, text: str, result: FileResult) -> Iterator[tuple[int | None, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _json_lines(path, text, result)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        yield from ((None, r) for r in (data if isinstance(data, list) else [data]))
    elif suffix in (".yaml", ".yml"):
        yield from _yaml_records(text)
    else:
        yield from _csv_records(text)


def _json_lines(path: Path, text: str, result: FileResult) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(str(path), f"invalid JSON: {exc.msg}", number))


def _yaml_records(text: str) -> Iterator[tuple[int | None, Any]]:
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise IngestError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    for data in documents:
        yield from ((None, r) for r in (data if isinstance(data, list) else [data]))


def _csv_records(text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise IngestError("the CSV file has no header row")
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            yield reader.line_num, f"expected {len(reader.fieldnames)} columns"
            continue
        yield reader.line_num, {k.strip(): v for k, v in row.items() if k}
