"""Record files: JSON (one record or a list), JSON lines, YAML and CSV.

Each record becomes a person (``"type": "person"``, or any record of a file
given with ``--people``), or a document or lesson. A malformed line or record is
reported with its line number and skipped; the rest of the file is read. So is a
line of a JSON-lines or CSV file that is not UTF-8: those files are decoded line by
line, so one bad byte costs one record, not the file.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from indexer.errors import IngestError, InvalidRecord
from indexer.records import Document, Person
from ingest import hr
from ingest.documents import parse_document
from ingest.people import parse_person
from ingest.readers.base import (
    SNIFF_BYTES,
    FileResult,
    Problem,
    check_looks_like_text,
    load_yaml,
    not_utf8,
    read_text,
)

_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # a line end on its own, as old Mac files have


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    return FileResult.of(iter_records(path, file_id, people))


def iter_records(path: Path, file_id: str, people: bool = False,
                 people_map: Mapping[str, str] | None = None
                 ) -> Iterator[Document | Person | Problem]:
    """The file's records one at a time; JSON lines and CSV are read as a stream, so a
    file larger than memory can be ingested. A people CSV's columns are mapped by
    ``ingest.hr`` (HR systems' column names, and ``people_map``)."""
    found = False
    for position, (line, record) in enumerate(_records(path, people, people_map), start=1):
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


def _records(path: Path, people: bool, people_map: Mapping[str, str] | None
             ) -> Iterator[tuple[int | None, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _json_lines(path)
    elif suffix == ".json":
        yield from ((None, r) for r in _json_records(read_text(path)))
    elif suffix in (".yaml", ".yml"):
        for data in load_yaml(read_text(path)):
            yield from ((None, r) for r in (data if isinstance(data, list) else [data]))
    else:
        yield from _csv_records(path, people, people_map)


def _json_records(text: str) -> list[Any]:
    if not text.strip():
        raise IngestError("no records found", "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise IngestError("the JSON is nested too deeply", "records need only a few "
                          "levels") from exc
    return data if isinstance(data, list) else [data]


def _lines(path: Path, bad: dict[int, str]) -> Iterator[str]:
    """The file's lines with their ends, decoded one by one (a BOM dropped). A line that
    is not UTF-8 comes with U+FFFD in place of its bad bytes and its number and the
    reason in ``bad``, for the caller to report: a guess at another encoding would
    index garbage unnoticed."""
    with open(path, "rb") as handle:
        check_looks_like_text(handle.read(SNIFF_BYTES))
        handle.seek(0)
        number = 0
        for raw in handle:
            if number == 0:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                text = raw.decode("utf-8", "replace")
                bad[number + 1] = str(not_utf8(raw[exc.start], number + 1))
            for piece in _LONE_CR.split(text) if "\r" in text else [text]:
                if piece:
                    number += 1
                    yield piece


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    bad: dict[int, str] = {}
    for number, line in enumerate(_lines(path, bad), start=1):
        if number in bad:
            yield number, Problem(str(path), bad.pop(number), number)
        elif line.strip():
            yield number, _json_line(path, number, line)


def _json_line(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return Problem(str(path), f"invalid JSON: {exc.msg}", number)
    except RecursionError:
        return Problem(str(path), "the JSON is nested too deeply", number)


def _csv_records(path: Path, people: bool = False,
                 people_map: Mapping[str, str] | None = None) -> Iterator[tuple[int, Any]]:
    bad: dict[int, str] = {}
    reader = csv.DictReader(_lines(path, bad))
    if not reader.fieldnames:
        raise IngestError("the CSV file has no header row")
    if bad:
        raise IngestError(f"the header row: {bad[min(bad)]}")
    # Checked before any row is read: a file missing a column is refused whole.
    fields = hr.column_fields([f.strip() for f in reader.fieldnames], people_map) if (
        people) else None
    done = reader.line_num
    for row in reader:
        # A row may span lines (a quoted cell with line ends): any bad line spoils it.
        spoiled = [bad.pop(n) for n in range(done + 1, reader.line_num + 1) if n in bad]
        done = reader.line_num
        if spoiled:
            yield reader.line_num, Problem(str(path), spoiled[0], reader.line_num)
        elif None in row or any(v is None for v in row.values()):
            yield reader.line_num, f"expected {len(reader.fieldnames)} columns"
        else:
            record = {k.strip(): v for k, v in row.items() if k}
            yield reader.line_num, hr.person_record(record, fields) if fields else record
