"""OpenDocument text, presentations and spreadsheets (.odt, .odp, .ods) through odfpy
(the only module that imports it); what the file holds, not its extension, decides.

Text: headings (text:h) become "#" headings of their outline level, paragraphs and list
items paragraphs, a table one block of " | " rows, a frame one block of its lines, in
document order. Presentations: each page as the PowerPoint reader lays out a slide
(title, the other shapes, "Notes: "). Spreadsheets: each table as a sheet of
``office.sheet_blocks``, a number or date by its value (3, 2024-05-01), repeated rows
and cells repeated (a cell at most MAX_COLUMNS times in a row).

Fields: dc:title; the author is meta:initial-creator (dc:creator is who saved it last,
taken only when there is no initial creator); the date dc:date, else
meta:creation-date; tags the meta:keyword elements. A file encrypted by its application
(its manifest lists encryption data) is refused; the other checks and limits are
``office``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from odf.element import Node
from odf.namespaces import DCNS, DRAWNS, METANS, OFFICENS, PRESENTATIONNS, TABLENS, TEXTNS
from odf.opendocument import load

from indexer.errors import IngestError
from ingest.readers import office
from ingest.readers.base import FileResult, Problem, filled_in

MAX_COLUMNS = 16_384  # LibreOffice's and Excel's widest sheet: a genuine row fits
_H, _P = (TEXTNS, "h"), (TEXTNS, "p")
_BREAKS = {(TEXTNS, "s"): " ", (TEXTNS, "tab"): "\t", (TEXTNS, "line-break"): "\n"}
_TABLE, _ROW, _GROUP = (TABLENS, "table"), (TABLENS, "table-row"), (DRAWNS, "g")
_CELLS = {(TABLENS, "table-cell"), (TABLENS, "covered-table-cell")}
_ROW_GROUPS = {(TABLENS, n) for n in ("table-header-rows", "table-rows", "table-row-group")}
_OPENED = {(TEXTNS, n) for n in ("list", "list-item", "list-header", "section")}
_CLASS, _NOTES = (PRESENTATIONNS, "class"), (PRESENTATIONNS, "notes")
_VALUE_TYPE = (OFFICENS, "value-type")
_VALUES = {"float": "value", "percentage": "value", "currency": "value",
           "date": "date-value", "boolean": "boolean-value"}


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    problems: list[Problem] = []
    with office.opened(path, "OpenDocument file") as package:
        if b"encryption-data" in package.read("META-INF/manifest.xml"):
            raise IngestError("the file is encrypted (password protected)",
                              "remove the password before ingesting")
        document = load(str(path))
        fields = _fields(document.meta)
        if getattr(document, "spreadsheet", None) is not None:
            blocks = list(office.sheet_blocks(_sheets(document.spreadsheet), path, problems))
            fields["title"] = fields["title"] or path.stem
        elif getattr(document, "presentation", None) is not None:
            pages = [p for p in _elements(document.presentation) if p.qname == (DRAWNS, "page")]
            blocks = [b for number, page in enumerate(pages, 1) for b in _page(number, page)]
            first = next((title for title in map(_title, pages) if title), path.stem)
            fields["title"] = fields["title"] or first
        else:
            blocks = list(_blocks(_elements(getattr(document, "text", None) or document.body)))
    return office.result(path, file_id, blocks, fields, problems)


def _fields(meta: Any) -> dict[str, Any]:
    found: dict[tuple[str, str], str] = {}
    keywords = []
    for element in _elements(meta):
        if element.qname == (METANS, "keyword"):
            keywords.append(_text(element))
        found.setdefault(element.qname, _text(element))
    return {"title": filled_in(found.get((DCNS, "title"))),
            "authors": filled_in(found.get((METANS, "initial-creator")))
            or filled_in(found.get((DCNS, "creator"))),
            "tags": [keyword for keyword in keywords if filled_in(keyword)],
            "updated_at": office.iso_date(found.get((DCNS, "date")))
            or office.iso_date(found.get((METANS, "creation-date")))}


def _blocks(nodes: Iterable[Any]) -> Iterator[str]:
    for node in nodes:
        if node.qname == _H and (text := _text(node)).strip():
            level = node.attributes.get((TEXTNS, "outline-level")) or "1"
            yield office.heading(int(level), text)
        elif node.qname == _P:
            yield _text(node)
        elif node.qname == _TABLE:
            yield office.table_block(_rows(node))
        elif node.qname in _OPENED or node.qname == _GROUP:
            yield from _blocks(_elements(node))
        elif node.qname[0] == DRAWNS:  # a shape (frame, text box...): one block of lines
            lines = (line for block in _blocks(_elements(node)) for line in block.splitlines())
            yield "\n".join(line.strip() for line in lines if line.strip())


def _title(page: Any) -> str:
    frame = _title_frame(page)
    return " ".join(_text(frame).split()) if frame is not None else ""


def _title_frame(page: Any) -> Any:
    return next((node for node in _elements(page) if node.qname == (DRAWNS, "frame")
                 and node.attributes.get(_CLASS) == "title"), None)


def _page(number: int, page: Any) -> Iterator[str]:
    yield office.heading(1, _title(page) or f"Slide {number}")
    title = _title_frame(page)
    yield from _blocks(node for node in _elements(page)
                       if node is not title and node.qname != _NOTES)
    for notes in (node for node in _elements(page) if node.qname == _NOTES):
        lines = [line for block in _blocks(_elements(notes)) for line in block.splitlines()]
        if text := "\n".join(line.strip() for line in lines if line.strip()):
            yield f"Notes: {text}"


def _sheets(spreadsheet: Any) -> Iterator[tuple[str, Iterator[list[str]]]]:
    for table in _elements(spreadsheet):
        if table.qname == _TABLE:
            yield table.attributes.get((TABLENS, "name")) or "", _rows(table)


def _rows(node: Any) -> Iterator[list[str]]:
    """The rows in order, a repeated row as often as it is repeated (an empty one never)."""
    for child in _elements(node):
        if child.qname in _ROW_GROUPS:
            yield from _rows(child)
        elif child.qname == _ROW:
            cells = _cells(child)
            if cells:
                for _ in range(int(child.attributes.get((TABLENS, "number-rows-repeated"))
                                   or 1)):
                    yield cells


def _cells(row: Any) -> list[str]:
    cells: list[str] = []
    for cell in _elements(row):
        if cell.qname in _CELLS and (text := _value(cell)):
            repeated = int(cell.attributes.get((TABLENS, "number-columns-repeated")) or 1)
            cells += [text] * min(repeated, MAX_COLUMNS)
    return cells


def _value(cell: Any) -> str:
    """A cell's value as plain text (``office.cell_text``), else the text it shows."""
    kind = cell.attributes.get(_VALUE_TYPE)
    value = cell.attributes.get((OFFICENS, _VALUES.get(kind, "")))
    try:
        if kind == "date" and value:
            return office.cell_text(dt.datetime.fromisoformat(value))
        if kind == "boolean" and value:
            return office.cell_text(value == "true")
        if value:
            return office.cell_text(float(value))
    except ValueError:  # a value the file spells oddly: the text it shows will do
        pass
    return " ".join(" ".join(_text(p).split()) for p in _elements(cell) if p.qname == _P)


def _text(element: Any) -> str:
    """The element's text; a run of spaces (text:s) is one space, a tab and a line break
    stay (odfpy's extractText builds a string of any length a file asks for)."""
    parts = []
    for node in element.childNodes:
        if node.nodeType == Node.TEXT_NODE:
            parts.append(str(node.data))
        elif node.nodeType == Node.ELEMENT_NODE:
            parts.append(_BREAKS.get(node.qname) or _text(node))
    return "".join(parts)


def _elements(node: Any) -> Iterator[Any]:
    return (child for child in node.childNodes if child.nodeType == Node.ELEMENT_NODE)
