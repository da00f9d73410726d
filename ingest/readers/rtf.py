"""Rich Text Format (.rtf) through striprtf (the only module that imports it).

RTF is 7-bit ASCII with escapes (which striprtf decodes in the file's code page); a
byte above 0x7F, which some writers emit all the same, is read as Windows-1252. A file
over MAX_RTF_BYTES is refused unread: striprtf reads about 4 MB a second. Each line of
the text is a paragraph, a table's rows (striprtf ends each cell with "|") one block of
" | " rows. The title is the first line; the \\info group (author, dates) is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from striprtf.striprtf import rtf_to_text

from indexer.errors import IngestError
from ingest.readers import office
from ingest.readers.base import FileResult, check_size

MAX_RTF_BYTES = 32 << 20


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    check_size(path, MAX_RTF_BYTES)
    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise IngestError("not an RTF file: it does not start with {\\rtf",
                          "only RTF is read under this extension")
    try:
        text = rtf_to_text(data.decode("cp1252", errors="replace"), errors="replace")
    except (LookupError, ValueError) as exc:  # a code page Python does not know
        raise IngestError(f"unreadable RTF: {exc}") from exc
    return office.result(path, file_id, _blocks(text), {})


def _blocks(text: str) -> Iterator[str]:
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.rstrip().endswith("|"):
            rows.append(line.split("|"))
            continue
        if rows:
            yield office.table_block(rows)
            rows = []
        yield line
    if rows:
        yield office.table_block(rows)
