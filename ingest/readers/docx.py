"""Word documents (.docx) through python-docx (the only module that imports it).

The body is read in document order, paragraphs and tables as they come (content
controls opened): a paragraph styled "Title" or "Heading N" becomes a "#" heading of
its level, a table one block of " | " rows (each cell once, however far it spans).
Title, author, keywords and date are the core properties'; the checks and limits
(256 MB packed, zip bombs, encryption) are ``office``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from ingest.readers import office
from ingest.readers.base import FileResult

_P, _TABLE, _ROW, _CELL = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_CONTROL, _CONTROL_CONTENT = qn("w:sdt"), qn("w:sdtContent")
_HEADING = re.compile(r"(?:Heading ([1-9])|Title)")


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    with office.opened(path, "Word document") as package:
        fields = office.core_properties(package)
        document = docx.Document(str(path))
        blocks = list(_blocks(document, document.element.body, {}))
    return office.result(path, file_id, blocks, fields)


def _blocks(document: Any, container: Any, levels: dict[str | None, int]) -> Iterator[str]:
    """The paragraphs and tables under ``container`` in order; ``levels`` caches each
    paragraph style's heading level (0: not a heading)."""
    for child in container.iterchildren():
        if child.tag == _P:
            paragraph = Paragraph(child, document)
            level = _level(child.style, paragraph, levels)
            text = paragraph.text
            yield office.heading(level, text) if level and text.strip() else text
        elif child.tag == _TABLE:
            yield office.table_block(
                ("\n".join(Paragraph(p, document).text for p in cell.iterchildren(_P))
                 for cell in row.iterchildren(_CELL))
                for row in child.iterchildren(_ROW))
        elif child.tag == _CONTROL and (content := child.find(_CONTROL_CONTENT)) is not None:
            yield from _blocks(document, content, levels)


def _level(style_id: str | None, paragraph: Paragraph, levels: dict[str | None, int]) -> int:
    if style_id not in levels:
        match = _HEADING.fullmatch(getattr(paragraph.style, "name", None) or "")
        levels[style_id] = int(match.group(1) or 1) if match else 0
    return levels[style_id]
