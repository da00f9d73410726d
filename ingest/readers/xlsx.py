"""Excel workbooks (.xlsx) through openpyxl (the only module that imports it), read-only
and with the values last computed (formulas are not evaluated).

Every worksheet with a filled cell, in workbook order, as ``office.sheet_blocks`` lays
it out: "# name", then a line per row. The dimensions a sheet declares are ignored, so
one stray cell far out does not pad every row to its column. Author, keywords and date
are the core properties'; untitled there, a workbook takes its file's stem (its sheets'
names, "Sheet1", say nothing). The checks and limits are ``office``'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl

from ingest.readers import office
from ingest.readers.base import FileResult, Problem

# openpyxl warns about what it cannot use (data validation, a missing default style);
# none of it touches the text.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    problems: list[Problem] = []
    with office.opened(path, "Excel workbook") as package:
        fields = office.core_properties(package)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            blocks = list(office.sheet_blocks(_sheets(workbook), path, problems))
        finally:
            workbook.close()
    fields["title"] = fields.get("title") or path.stem
    return office.result(path, file_id, blocks, fields, problems)


def _sheets(workbook: Any) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    for sheet in workbook.worksheets:
        sheet.reset_dimensions()
        yield sheet.title, sheet.iter_rows(values_only=True)
