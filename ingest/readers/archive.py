"""Zip archives (``.zip``): unpacked into a temporary folder, within limits, then read.

A zip holding a team tool's export (at its top, or in its one top folder) is read as
that export (``ingest.exports``); any other is read member by member as a folder is,
each supported member with the id "<zip id>/<member path>", hidden members and
``__MACOSX/`` skipped. A member that fails is reported and the rest are read. The
temporary folder is gone once the zip is read, so every record's source is
"<zip path>#<member path>" (``--sync`` traces it back to the zip) and every problem
names "<zip path>/<member path>".

Zip bombs and zip slip: the central directory is checked before anything is unpacked
(``base.check_zip`` with this module's limits: members, total size, overall ratio),
and each member's own ratio past ``ZIP_RATIO_FLOOR``. Unpacking counts what it writes
and stops past the member's declared size and past the total, so a header that lies
gains nothing. Not unpacked, and reported: a member with an absolute path or "..", a
symbolic link, an encrypted member. A zip inside the zip is read, within what is left
of the outer zip's total; a zip nested deeper is reported and not read.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

from indexer.errors import IngestError, WhoknowsError
from indexer.records import Document, Person
from ingest import exports
from ingest.readers import iter_file, supported
from ingest.readers.base import ZIP_RATIO_FLOOR, FileResult, Problem, check_zip

MAX_MEMBERS = 20_000  # files and folders of one zip
MAX_TOTAL_BYTES = 2 << 30  # unpacked, by a zip and the zips inside it together
MAX_RATIO = 200  # unpacked bytes per packed byte, of the zip and of each member
MAX_DEPTH = 1  # how deep zips inside the zip are read
_CHUNK = 1 << 20
# What zipfile raises on a damaged or unreadable member (NotImplementedError: a
# compression method it does not know), and what writing it may raise.
_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError)

Record = Document | Person | Problem


@dataclass
class _Budget:
    """Bytes that may still be unpacked, shared by a zip and the zips inside it."""

    left: int


class _Refused(Exception):
    """A member that is not unpacked, and why."""


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    result = FileResult.of(_read_zip(path, file_id, people, _Budget(MAX_TOTAL_BYTES), depth=0))
    if not (result.documents or result.people or result.problems):
        raise IngestError("nothing to read in the zip", "it holds no files, or only hidden ones")
    return result


def _read_zip(path: Path, file_id: str, people: bool, budget: _Budget, depth: int
              ) -> Iterator[Record]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IngestError(f"corrupt or unreadable zip: {exc}") from exc
    with archive, tempfile.TemporaryDirectory(prefix="whoknows-zip-") as temporary:
        folder = Path(temporary).resolve()
        check_zip(archive, max_total=budget.left, max_ratio=MAX_RATIO, max_members=MAX_MEMBERS)
        names, problems = _unpack(archive, folder, budget)
        for item in chain(problems, _read_folder(folder, names, file_id, people, budget, depth)):
            yield _outside(item, folder, path)


def _unpack(archive: zipfile.ZipFile, folder: Path, budget: _Budget
            ) -> tuple[list[str], list[Problem]]:
    """Unpack into ``folder`` the members that pass the checks: their names, in path
    order, and a problem for each of the others."""
    names, problems = [], []
    for info in archive.infolist():
        if info.is_dir() or _hidden(info.filename):
            continue
        where = f"{folder}/{info.filename}"  # a problem names the member, even one refused
        try:
            _check_member(info, folder)
            _copy(archive, info, folder / info.filename, budget)
        except _Refused as exc:
            problems.append(Problem(where, f"{exc}: not unpacked"))
        except _MEMBER_ERRORS as exc:
            problems.append(Problem(where, f"corrupt member, not unpacked: {exc}"))
        else:
            names.append(info.filename)
    return sorted(names), problems


def _hidden(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(p.startswith(".") and p not in (".", "..")
                                         for p in parts)


def _check_member(info: zipfile.ZipInfo, folder: Path) -> None:
    name = info.filename
    target = (folder / name).resolve()
    if ".." in name.replace("\\", "/").split("/") or not target.is_relative_to(folder):
        raise _Refused("a path outside the zip's folder (absolute, or with '..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _Refused("a symbolic link")
    if info.flag_bits & 0x1:
        raise _Refused("encrypted")
    if target.exists():
        raise _Refused("a second member of the same name")
    if info.file_size > ZIP_RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
        raise _Refused(f"packed {info.file_size / max(info.compress_size, 1):,.0f} to 1 "
                       f"(at most {MAX_RATIO:,} to 1 is unpacked; a zip bomb looks like this)")


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
          budget: _Budget) -> None:
    """Unpack one member, counting: never more than its declared size or the budget. (A
    member cut short is left in the temporary folder, unread.)"""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as member, open(target, "xb") as out:
        while chunk := member.read(_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise _Refused("unpacks to more than its header says")
            if written > budget.left:
                raise IngestError(f"the zip unpacks to more than {MAX_TOTAL_BYTES / 2**20:,.0f} "
                                  "MB (at most that is unpacked)", "split it into smaller zips")
            out.write(chunk)
    budget.left -= written


def _read_folder(folder: Path, names: list[str], file_id: str, people: bool,
                 budget: _Budget, depth: int) -> Iterator[Record]:
    export = _export(folder)
    if export is not None:
        yield from exports.read_export(export[0], file_id, export[1])
        return
    for name in names:
        member, member_id = folder / name, f"{file_id}/{name}"
        if member.suffix.lower() == ".zip" and depth >= MAX_DEPTH:
            yield Problem(str(member), f"a zip nested more than {MAX_DEPTH} deep: not read")
        elif member.suffix.lower() == ".zip":
            yield from _guarded(member, _read_zip(member, member_id, people, budget, depth + 1))
        elif not supported(member):
            yield Problem(str(member), f"unknown extension {member.suffix or '(none)'!r}: "
                                       "skipped")
        else:
            yield from _guarded(member, iter_file(member, member_id, people))


def _export(folder: Path) -> tuple[Path, str] | None:
    """(folder, tool) if the unpacked tree, or its one top folder, is a tool's export."""
    entries = list(folder.iterdir())
    tops = [folder, *(entries if len(entries) == 1 and entries[0].is_dir() else [])]
    for top in tops:
        if tool := exports.detect(top):
            return top, tool
    return None


def _guarded(member: Path, items: Iterator[Record]) -> Iterator[Record]:
    """The member's records; a member that fails becomes a problem, and the zip goes on."""
    try:
        yield from items
    except WhoknowsError as exc:
        yield Problem(str(member), str(exc))
    except Exception as exc:  # a reader bug must not lose the rest of the zip
        yield Problem(str(member), f"could not read: {exc!r}")


def _outside(item: Record, folder: Path, path: Path) -> Record:
    """``item`` naming the zip where it named the temporary folder: sources as
    "<zip>#<member>", problems as "<zip>/<member>"."""
    if isinstance(item, Problem):
        return replace(item, file=_renamed(item.file, folder, f"{path}/"))
    if item.source is None:
        return item
    return replace(item, source=_renamed(item.source, folder, f"{path}#"))


def _renamed(name: str, folder: Path, prefix: str) -> str:
    inside = f"{folder}{os.sep}"
    if name == str(folder):
        return prefix[:-1]
    return prefix + name[len(inside):].replace(os.sep, "/") if name.startswith(inside) else name
