"""Exports of team tools: a folder (or a zip, unpacked by ``ingest.readers.archive``)
laid out by Confluence, Notion, Slack or Stack Exchange, read as a whole.

Each is a module of this package with ``NAME``, ``detect(folder) -> bool`` (is this
folder laid out as that tool exports?) and ``read(folder, file_id) -> records``:
documents, people (the tool's accounts) and problems, as a stream. ``file_id`` is
the export's stable path-derived id; every document id starts with it. A
document's ``source`` is the file inside the export it was read from, so
``--sync`` removes what disappeared from a newer export.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from indexer.errors import IngestError
from indexer.records import Document, Person
from ingest.readers.base import Problem

# Tried in this order: the most specific layouts first.
SOURCES = ("slack", "stackexchange", "confluence", "notion")


def module(name: str) -> ModuleType:
    if name not in SOURCES:
        raise IngestError(f"no export source {name!r}", f"use one of {', '.join(SOURCES)}")
    return importlib.import_module(f"ingest.exports.{name}")


def detect(folder: Path) -> str | None:
    """The tool whose export ``folder`` is, or None for a plain folder of files."""
    if not folder.is_dir():
        return None
    for name in SOURCES:
        if module(name).detect(folder):
            return name
    return None


def read_export(folder: Path, file_id: str, source: str
                ) -> Iterator[Document | Person | Problem]:
    """The records of ``folder`` read as ``source``'s export."""
    reader = module(source)
    if not folder.is_dir():
        raise IngestError(f"{folder} is not a folder: a {source} export is a folder or a zip")
    yield from reader.read(folder, file_id)
