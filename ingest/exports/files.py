"""The files of an export folder, walked without leaving it, and reading one of them
without losing the others.

An export comes from outside (often a zip somebody uploaded), so a link inside it is
never followed: one to a file elsewhere would widen what is read, one to a folder
above would loop. Hidden entries are skipped, as the pipeline skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from indexer.errors import WhoknowsError
from ingest.readers.base import Problem

T = TypeVar("T")


def walk(folder: Path) -> Iterator[Path | Problem]:
    """The regular files under ``folder``, each folder's files (in name order) before its
    subfolders, and a problem for each entry that is skipped otherwise (a link, a pipe,
    a folder that cannot be listed)."""
    stack = [folder]  # a stack, not recursion: an export may nest deeper than Python
    while stack:
        entries = _entries(stack.pop())
        folders = []
        for entry in entries:
            if isinstance(entry, Problem):
                yield entry
            elif entry.is_symlink():
                yield Problem(str(entry), "a link inside an export: not followed")
            elif entry.is_dir():
                folders.append(entry)
            elif entry.is_file():
                yield entry
            else:
                yield Problem(str(entry), "not a regular file: skipped")
        stack.extend(reversed(folders))


def _entries(folder: Path) -> list[Path] | list[Problem]:
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        return [Problem(str(folder), f"cannot read the folder: {exc.strerror or exc}")]


def attempt(path: Path, read: Callable[..., T], *args: Any) -> T | Problem:
    """``read(*args)``, or the problem that says why ``path`` could not be read: one page
    of an export that cannot be read must not lose the others."""
    try:
        return read(*args)
    except WhoknowsError as exc:
        return Problem(str(path), str(exc))
    except OSError as exc:
        return Problem(str(path), f"cannot read the file: {exc.strerror or exc}")
