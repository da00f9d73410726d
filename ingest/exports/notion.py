"""Notion exports ("Export > Markdown & CSV", unzipped): each page a document, and each
row of a database a document.

The layout read, where ``<id>`` is 32 hex digits, the page's or database's id::

    Team Wiki <id>.md               a page
    Team Wiki <id>/                 its subpages, databases and files
        Onboarding <id>.md
        Tasks <id>.csv              a database, one row a line (the view's rows)
        Tasks <id>_all.csv          every row (newer exports): read instead when present
        Tasks <id>/                 the rows' own pages
            Fix login <id>.md

A page is "# Title", then its properties one a line ("Created by: Jane Doe",
"Created: March 14, 2024 3:02 PM", "Tags: a, b"), then its text. A block of
"Key: value" lines right after the heading is taken for properties when one of its keys
names an author, a date or tags (or is a column of the page's database), so a first
line "Note: …" stays text. Properties become the authors (creator, owner, assignee,
last editor), the date (last edited, else created) and the tags, the others the
``properties`` field, and stay out of the body; a page with no text of its own has them
as its body. Images, and links whose target holds a Notion id, are replaced by their
text, so no id shows in the text. Other files (images, PDFs) are not read.

A page's id is ``<file_id>/<id>`` (it survives a rename and a re-export), or
``<file_id>/<path in the export>`` for a file not named by Notion. Its title is its
heading (else its file name without the id); its body starts with its place in the
tree ("Team Wiki › Onboarding"), also its ``path`` field, where it has parents. A
database row with a page of its own (in the database's folder, with the row's title as
heading or file name) is that page's document, with the row's cells added to its
properties; a row without one is a document of its own: id
``<file_id>/<database id>/<title>``, body its other cells as "Column: value" lines.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from indexer.errors import IngestError
from indexer.records import Document, Person
from ingest.documents import parse_document
from ingest.exports.dates import find_date
from ingest.exports.files import attempt, walk
from ingest.readers.base import Problem, read_text, require_text
from ingest.readers.html import squash

NAME = "notion"
SEPARATOR = " › "
_NAMED = re.compile(r"^(?:(?P<name>.*) )?(?P<id>[0-9a-f]{32})(?P<all>_all)?$")
_HEX_ID = re.compile(r"[0-9a-f]{32}")
# Properties read into fields, in order of preference (case ignored).
AUTHOR_KEYS = ("created by", "author", "authors", "owner", "owners", "assignee",
               "assignees", "assigned to", "last edited by")
DATE_KEYS = ("last edited time", "last edited", "last updated", "updated", "updated at",
             "created", "created time", "created at", "date")
TAG_KEYS = ("tags", "tag", "labels", "keywords")
_FIELDS = frozenset((*AUTHOR_KEYS, *DATE_KEYS, *TAG_KEYS))
_PROPERTY = re.compile(r"^(?P<key>[^\s:#>*|!\[-][^:]{0,59}): ?(?P<value>.*)$")
# [text](target) or [text](<target>); bounded, so that a "[" without "]" costs no scan
# to the end of the text (a file of them would take hours).
_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\[\]\n]{0,1000})\]"
                   r"\((?:<(?P<quoted>[^>\n]{0,2000})>|(?P<plain>[^)\s]{0,2000}))\)")


@dataclass(frozen=True)
class Row:
    """A database row: its title, its other cells, and where it was read."""

    title: str
    cells: dict[str, str]
    database: str  # the database's id (its path in the export, for a CSV Notion did not name)
    trail: tuple[str, ...]  # the database's place in the tree, the database last
    source: Path


class Rows:
    """The databases' rows, by the folder their pages are in and their title, each until
    a page claims it."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[Path, str], list[Row]] = {}
        self._columns: dict[Path, set[str]] = {}

    def add(self, row: Row) -> None:
        pages = pages_folder(row.source)
        self._waiting.setdefault((pages, row.title), []).append(row)
        self._columns.setdefault(pages, set()).update(row.cells)

    def columns(self, pages: Path) -> set[str]:
        """The columns of the database whose rows have their pages in ``pages``."""
        return self._columns.get(pages, set())

    def claim(self, pages: Path, *titles: str) -> Row | None:
        """The first row waiting with one of ``titles`` in ``pages``, taken."""
        group = next((g for t in titles if (g := self._waiting.get((pages, t)))), None)
        return group.pop(0) if group else None

    def unclaimed(self) -> Iterator[Row]:
        for group in self._waiting.values():
            yield from group


def detect(folder: Path) -> bool:
    """Pages or databases named as Notion names them, and no other ``.md`` or ``.csv``,
    in ``folder`` or in the one folder it holds (a zip's "Export-…" folder)."""
    entries = _visible(folder)
    if len(entries) == 1 and entries[0].is_dir():
        entries = _visible(entries[0])
    files = [p for p in entries if p.suffix.lower() in (".md", ".csv") and p.is_file()]
    return bool(files) and all(_NAMED.match(p.stem) for p in files)


def read(folder: Path, file_id: str) -> Iterator[Document | Person | Problem]:
    pages: list[Path] = []
    tables: dict[tuple[Path, str], Path] = {}
    for path in walk(folder):
        if isinstance(path, Problem):
            yield path
        elif path.suffix.lower() == ".md":
            pages.append(path)
        elif path.suffix.lower() == ".csv":
            key = (path.parent, path.stem.removesuffix("_all"))
            if key not in tables or path.stem.endswith("_all"):  # _all has every row
                tables[key] = path
    rows = Rows()
    for path in tables.values():
        table = attempt(path, read_table, path, folder)
        if isinstance(table, Problem):
            yield table
        else:
            for row in table:
                rows.add(row)
    for path in pages:
        yield attempt(path, read_page, path, folder, file_id, rows)
    seen: dict[str, int] = {}
    for row in rows.unclaimed():
        yield attempt(row.source, row_document, row, file_id, seen)


def notion_id(name: str) -> str | None:
    match = _NAMED.match(name)
    return match["id"] if match else None


def clean_name(name: str) -> str:
    """A file or folder name without Notion's id."""
    match = _NAMED.match(name)
    return (match["name"] or "Untitled") if match else name


def pages_folder(table: Path) -> Path:
    """Where a database's rows have their pages: "Tasks <id>.csv" -> "Tasks <id>/"."""
    return table.with_name(table.stem.removesuffix("_all"))


def trail_of(path: Path, folder: Path) -> list[str]:
    """The titles of the pages (and databases) above ``path``, from the folders Notion
    named after them; other folders (a zip's "Export-…") are not in the tree."""
    parents = path.relative_to(folder).parent.parts
    return [clean_name(p) for p in parents if _NAMED.match(p)]


def read_page(path: Path, folder: Path, file_id: str, rows: Rows) -> Document:
    heading, properties, text = split_page(read_text(path), rows.columns(path.parent))
    title = heading or clean_name(path.stem)
    row = rows.claim(path.parent, title, clean_name(path.stem))
    if row:
        properties = {**row.cells, **properties}
    # A page with no text of its own (a database row's, often) is what its properties say.
    text = unlink(text).strip() or "\n".join(f"{k}: {v}" for k, v in properties.items() if v)
    page_id = notion_id(path.stem) or path.relative_to(folder).as_posix()
    record = document_record(f"{file_id}/{page_id}", title, require_text(text, path),
                             trail_of(path, folder), properties)
    return parse_document(record, None, str(path))


def split_page(text: str, columns: set[str]) -> tuple[str | None, dict[str, str], str]:
    """The page's heading, its properties and its text. ``columns``: the properties of the
    database the page is a row of, if it is one."""
    lines = text.splitlines()
    start = _skip_blank(lines, 0)
    heading = None
    if start < len(lines) and lines[start].startswith("# "):
        heading = squash([lines[start][2:]]) or None
        start = _skip_blank(lines, start + 1)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    matches = [m for line in lines[start:end] if (m := _PROPERTY.match(line))]
    keys = [m["key"].strip() for m in matches]
    if (not matches or len(matches) < end - start
            or not any(k.lower() in _FIELDS or k in columns for k in keys)):
        return heading, {}, "\n".join(lines[start:])
    properties = {k: m["value"].strip() for k, m in zip(keys, matches, strict=True)}
    return heading, properties, "\n".join(lines[end:])


def unlink(markdown: str) -> str:
    """The Markdown with images, and links to Notion pages (in the export or not),
    replaced by their text: what is left has no page ids in it."""
    def text_of(match: re.Match[str]) -> str:
        target = unquote(match["quoted"] or match["plain"] or "")
        return match["text"] if match["image"] or _HEX_ID.search(target) else match[0]
    return _LINK.sub(text_of, markdown)


def read_table(path: Path, folder: Path) -> list[Row]:
    """The database's rows; the title is the "Name" or "Title" column, else the first
    (where Notion puts it)."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [squash([h]) for h in next(reader, [])]
        lowered = [h.lower() for h in header]
        at = next((lowered.index(k) for k in ("name", "title") if k in lowered), 0)
        cells = [[squash([c]) for c in line] for line in reader]
    except csv.Error as exc:
        raise IngestError(f"invalid CSV at line {reader.line_num}: {exc}") from exc
    database = notion_id(path.stem.removesuffix("_all")) or \
        path.relative_to(folder).with_suffix("").as_posix()
    trail = (*trail_of(path, folder), clean_name(path.stem.removesuffix("_all")))
    return [Row(line[at] if at < len(line) and line[at] else "Untitled",
                {h: c for i, (h, c) in enumerate(zip(header, line, strict=False))
                 if i != at and c}, database, trail, path)
            for line in cells if any(line)]


def row_document(row: Row, file_id: str, seen: dict[str, int]) -> Document:
    """A row without a page of its own; rows of one title get "(2)", "(3)" after the first."""
    doc_id = f"{file_id}/{row.database}/{row.title}"
    seen[doc_id] = seen.get(doc_id, 0) + 1
    if seen[doc_id] > 1:
        doc_id += f" ({seen[doc_id]})"
    text = "\n".join(f"{k}: {v}" for k, v in row.cells.items()) or row.title
    record = document_record(doc_id, row.title, text, list(row.trail), row.cells)
    return parse_document(record, None, str(row.source))


def document_record(doc_id: str, title: str, text: str, trail: list[str],
                    properties: dict[str, str]) -> dict[str, Any]:
    """A page's or a row's fields: properties become the authors, date and tags where
    their names say so, the others ``properties``."""
    by_key = {k.lower(): v for k, v in properties.items() if v}
    dates = (find_date(by_key[k]) for k in DATE_KEYS if k in by_key)
    path = SEPARATOR.join([*trail, title])
    return {
        "id": doc_id, "title": title, "body": f"{path}\n\n{text}" if trail else text,
        "authors": [a for k in AUTHOR_KEYS for a in by_key.get(k, "").split(",")],
        "updated_at": next((d for d in dates if d), None),
        "tags": next((by_key[k] for k in TAG_KEYS if k in by_key), None),
        "path": path if trail else None,
        "properties": {k: v for k, v in properties.items()
                       if v and k.lower() not in _FIELDS} or None}


def _skip_blank(lines: list[str], start: int) -> int:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), len(lines))


def _visible(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        return []
