"""Which folders the server may read, and which files it may serve.

The operator decides what the server reads; an admin key over HTTP does not:

- ``whoknows ingest PATH`` (the operator, at the command line) reads any folder;
- ``POST /api/admin/reindex {"source": DIR}`` reads only inside the reindex roots
  (``WHOKNOWS_REINDEX_ROOTS``, ``whoknows serve --reindex-root DIR``);
- uploads are written by whoknows itself into the data folder's ``uploads/`` (by the
  worker that ingests them, from the store: indexer.uploads).

``/source/{doc_id}`` serves a document's file by the same rule (see ``SourceRule``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from api.deps import Forbidden
from api.runtime import Runtime
from indexer.errors import InvalidQuery, NotFound
from indexer.jobs import JobStore


def inside(path: Path, folders: Iterable[Path]) -> bool:
    """Is ``path`` one of ``folders`` or below one (compare real paths)?"""
    return any(path.is_relative_to(folder) for folder in folders)


def reindex_folder(source: str, roots: tuple[Path, ...]) -> Path:
    """The real folder a re-index of ``source`` reads: symlinks and ``..`` resolved, it
    must lie inside a reindex root (Forbidden, before saying whether it exists)."""
    if not roots:
        raise Forbidden("this server reads no folders: set WHOKNOWS_REINDEX_ROOTS",
                        "list the folders re-index may read (separated by "
                        f"{os.pathsep!r}), or start it with `whoknows serve --reindex-root "
                        "DIR`; or ingest at the command line with `whoknows ingest DIR`")
    try:
        real = Path(source).resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a symlink loop
        raise InvalidQuery(f"{source!r} is not a folder path: {exc}") from exc
    if not inside(real, roots):
        raise Forbidden(f"{source!r} is outside the folders this server may read",
                        "give a folder inside " + ", ".join(map(str, roots))
                        + ", or add its folder to WHOKNOWS_REINDEX_ROOTS")
    if not real.is_dir():
        raise NotFound(f"no folder {source!r} on the server",
                       "give a folder path as the server sees it")
    return real


@dataclass(frozen=True)
class SourceRule:
    """Which stored source files the server serves as they are on disk now.

    A file is served only if its real path (symlinks resolved at the request) is inside

    1. the data folder's ``uploads/`` (what admins uploaded), or
    2. a reindex root (folders the operator lets the server read), or
    3. a folder the operator ingested with ``whoknows ingest``: the stored path itself,
       with no symlink swapped in since, and outside every folder a re-index request
       read (those are in the job records). So a file that a re-index read outside
       today's roots (one allowed before roots existed, or a root since removed) is
       never served, and neither is a link placed where an ingested file was.

    The CLI is the operator's own hand: a folder given to it was meant to be read.
    """

    allowed: tuple[Path, ...]  # uploads and reindex roots
    requested: tuple[Path, ...]  # folders re-index requests read (any, ever)

    @classmethod
    def of(cls, runtime: Runtime) -> SourceRule:
        """The rule for this server (call with the store's lock held)."""
        settings = runtime.settings
        return cls((settings.uploads_dir, *settings.reindex_roots),
                   tuple(_resolved(JobStore(runtime.store).synced_folders())))

    def serves(self, source: str) -> bool:
        path = Path(source)
        try:
            real = path.resolve()
        except (OSError, ValueError):
            return False
        if inside(real, self.allowed):
            return True
        return real == path and not inside(real, self.requested)


def _resolved(paths: Iterable[str]) -> list[Path]:
    folders = []
    for path in paths:
        try:
            folders.append(Path(path).resolve())
        except (OSError, ValueError):
            continue
    return folders
