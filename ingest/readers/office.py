"""What the Office, OpenDocument and RTF readers share: the checks made before a library
opens a file, the OOXML core properties, the layout of the text, and the document built.

Checks: a file over MAX_OFFICE_BYTES is refused unread; an OLE2 compound file under a
zip format's extension is an encrypted (password protected) Office file; the zip is
refused if it would unpack to too much (``base.check_zip``) before a library unpacks
it; what a library raises on a damaged file becomes one IngestError naming the format.

Layout: the chunker reads Markdown headings and blank-line paragraphs, so a heading is
a line of "#" of its level, blocks are separated by a blank line, and a table is one
block, a line per row with its filled cells joined by " | ", so its rows stay in one
passage. Spreadsheets stop after MAX_CELLS filled cells, with a problem saying so.

Properties: OOXML core properties are read from the package here, not through the
libraries, which invent them for a file that has none (python-docx titles it "Word
Document" and dates it today; openpyxl dates it today). What a tool writes when nobody
filled a field in (``base.PLACEHOLDERS``, the dates of the libraries' templates) counts
as absent.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax import SAXException

from indexer.errors import IngestError
from ingest.documents import parse_document
from ingest.readers.base import (
    FileResult,
    Problem,
    check_size,
    check_zip,
    filled_in,
    first_line,
    require_text,
)

MAX_OFFICE_BYTES = 256 << 20  # a .docx, .pptx, .xlsx or OpenDocument file, packed
MAX_CELLS = 1_000_000  # filled cells read from one spreadsheet (100,000 rows of 10)
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
# What the libraries raise on a damaged file (SyntaxError: lxml's and ElementTree's
# parse errors; LookupError: a part missing from the zip).
_DAMAGED = (zipfile.BadZipFile, zlib.error, LookupError, ValueError, TypeError, EOFError,
            SyntaxError, SAXException, RecursionError)
_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DC, _TERMS = "{http://purl.org/dc/elements/1.1/}", "{http://purl.org/dc/terms/}"
_KEYWORDS = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}keywords"
# The dates of the templates python-docx and python-pptx start every file from.
_TEMPLATE_DATES = frozenset({"2013-12-23T23:15:00Z", "2013-01-27T09:14:16Z",
                             "2013-01-27T09:15:58Z"})


@contextmanager
def opened(path: Path, kind: str) -> Iterator[zipfile.ZipFile]:
    """The file as a checked zip, for the block that reads it; what a library raises on
    a damaged file inside the block becomes an IngestError naming ``kind``."""
    check_size(path, MAX_OFFICE_BYTES)
    with open(path, "rb") as handle:
        if handle.read(len(_OLE2)) == _OLE2:
            raise IngestError("the file is encrypted (password protected)",
                              "remove the password before ingesting (an old .doc, .xls or "
                              ".ppt file renamed must be saved in the new format)")
    try:
        with zipfile.ZipFile(path) as package:
            check_zip(package)
            yield package
    except _DAMAGED as exc:
        reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise IngestError(f"corrupt or unreadable {kind}: {reason or type(exc).__name__}",
                          "check that it opens, and save it again") from exc


def core_properties(package: zipfile.ZipFile) -> dict[str, Any]:
    """title, authors, tags and updated_at of an OOXML package (dc:creator is its author;
    who saved it last is not)."""
    try:
        rels = ElementTree.fromstring(package.read("_rels/.rels"))
        target = next(r.get("Target") or "" for r in rels.iter(_RELATIONSHIP)
                      if r.get("Type") == _CORE)
        core = ElementTree.fromstring(package.read(target.lstrip("/")))
    except (KeyError, StopIteration, ElementTree.ParseError):  # none, or none to read
        return {}
    dates = (core.findtext(f"{_TERMS}{name}") or "" for name in ("modified", "created"))
    found = (iso_date(d) for d in dates if d.strip() not in _TEMPLATE_DATES)
    return {"title": filled_in(core.findtext(f"{_DC}title")),
            "authors": filled_in(core.findtext(f"{_DC}creator")),
            "tags": filled_in(core.findtext(_KEYWORDS)),
            "updated_at": next((d for d in found if d), None)}


def iso_date(text: str | None) -> str | None:
    """The date (YYYY-MM-DD) a timestamp like 2024-05-01T10:00:00Z starts with, if any."""
    try:
        return dt.date.fromisoformat((text or "").strip()[:10]).isoformat()
    except ValueError:
        return None


def heading(level: int, text: str) -> str:
    """A heading line the chunker recognises ("## Text"), its level held to 1..6."""
    return f"{'#' * min(max(level, 1), 6)} {' '.join(text.split())}"


def table_block(rows: Iterable[Iterable[str]]) -> str:
    """A table as one block: a line per row, its filled cells (each made one line)
    joined by " | "; empty rows dropped."""
    lines = (" | ".join(c for c in (" ".join(cell.split()) for cell in row) if c)
             for row in rows)
    return "\n".join(line for line in lines if line)


def cell_text(value: object) -> str:
    """A spreadsheet value as plain text: 3.0 as "3", a date as ISO (a time of midnight
    left out), booleans as TRUE and FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def sheet_blocks(sheets: Iterable[tuple[str, Iterable[Iterable[object]]]], path: Path,
                 problems: list[Problem]) -> Iterator[str]:
    """Each sheet with a filled cell as "# name" and a block of its rows, up to MAX_CELLS
    filled cells in all; a sheet cut short adds a problem and ends the reading."""
    budget = MAX_CELLS
    for name, rows in sheets:
        lines, cut = [], False
        for row in rows:
            cells = [text for text in map(cell_text, row) if text]
            if len(cells) > budget:
                cut = True
                break
            budget -= len(cells)
            if cells:
                lines.append(" | ".join(cells))
        if lines:
            yield heading(1, name)
            yield "\n".join(lines)
        if cut:
            problems.append(Problem(str(path), f"only the first {MAX_CELLS:,} filled cells "
                                    f"were read: sheet {name!r} was cut short"))
            return


def result(path: Path, file_id: str, blocks: Iterable[str], fields: dict[str, Any],
           problems: list[Problem] | None = None) -> FileResult:
    """The file's one document: the blocks separated by blank lines, with the fields
    found; untitled, it takes its first line as title, else the file's stem."""
    body = require_text("\n\n".join(b for b in (block.strip() for block in blocks) if b),
                        path)
    record = {key: value for key, value in fields.items() if value}
    record["title"] = record.get("title") or first_line(body) or path.stem
    record["body"] = body
    return FileResult(documents=[parse_document(record, file_id, str(path))],
                      problems=problems or [])
