"""Writing the derived index files so that a crash never leaves a half-written one.

Every file is written to a temporary file in the same folder, flushed to disk
and renamed over the old one: readers see the old file or the new one, never a
mix. The temporary name carries the writer's pid, so a file left by a process
that was killed between write and rename can be told from one still being
written, and removed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

# After "<target>.": <pid>.<token>.tmp, or <pid>.tmp (what earlier versions wrote). It is
# matched after the known target name: a token of hex digits that are all decimal
# ("11971156") would otherwise read as the pid, and the target name as "<target>.<pid>".
_WRITER = re.compile(r"(?P<pid>\d+)(?:\.[0-9a-f]+)?\.tmp")


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; on a clean exit it is
    fsynced and renamed over ``path``, on any error it is removed and ``path`` is left as
    it was. The token keeps two threads of one process that save the same file apart."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def remove_leftovers(folder: str | Path, names: Iterable[str]) -> list[Path]:
    """Remove the temporary files of ``names`` in ``folder`` whose writer is no longer
    running (killed between write and rename); a live writer's file is left alone."""
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f"{glob.escape(name)}.*.tmp"):
            match = _WRITER.fullmatch(tmp.name[len(name) + 1:])
            if match and not process_alive(int(match["pid"])):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


def process_alive(pid: int) -> bool:
    """Is a process with this pid running on this machine? (It may be another process
    that reused the pid; callers treat "alive" as "cannot tell".)"""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: cannot tell
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; other systems have no folder handles)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
