"""PowerPoint presentations (.pptx) through python-pptx (the only module that imports it).

Each slide in order: its title as a "#" heading ("# Slide N" when it has none), the
text of its other shapes in shape order (groups opened, a table one block of " | "
rows), then its speaker notes as a paragraph starting "Notes: ". Author, keywords and
date are the core properties'; untitled there, the presentation takes its first slide
title, else the file's stem. The checks and limits are ``office``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pptx
from pptx.shapes.group import GroupShape

from ingest.readers import office
from ingest.readers.base import FileResult


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    with office.opened(path, "PowerPoint presentation") as package:
        fields = office.core_properties(package)
        slides = list(pptx.Presentation(str(path)).slides)
        blocks = [block for number, slide in enumerate(slides, 1)
                  for block in _slide(number, slide)]
        first = next((title for title in map(_title, slides) if title), path.stem)
    fields["title"] = fields.get("title") or first
    return office.result(path, file_id, blocks, fields)


def _title(slide: Any) -> str:
    shape = slide.shapes.title
    return " ".join(shape.text_frame.text.split()) if shape is not None else ""


def _slide(number: int, slide: Any) -> Iterator[str]:
    yield office.heading(1, _title(slide) or f"Slide {number}")
    title_shape = slide.shapes.title
    title_id = title_shape.shape_id if title_shape is not None else None
    yield from _shapes(shape for shape in slide.shapes if shape.shape_id != title_id)
    notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
    if notes is not None and (text := _lines(notes.text)):
        yield f"Notes: {text}"


def _shapes(shapes: Iterable[Any]) -> Iterator[str]:
    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _shapes(shape.shapes)
        elif shape.has_text_frame:
            yield _lines(shape.text_frame.text)
        elif shape.has_table:
            yield office.table_block((cell.text for cell in row.cells)
                                     for row in shape.table.rows)


def _lines(text: str) -> str:
    """The text's non-blank lines, stripped: one block, however its paragraphs were spaced."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
