"""Uploaded files, kept in the store until a worker has ingested them.

A server receives an upload; a worker, maybe on another machine with a data folder
of its own, ingests it. So the bytes travel in the store, not on a disk: a worker
writes each upload under its own data folder's ``uploads/<kind>/<name>`` (replacing
the file of that name at once) and ingests it from there. A document is named after
its file, so it is the same document whichever machine ingests it.

The rows of a job go in the transaction that ends the job (``discard``), so a worker
that dies before leaves them for the job's next run; nothing accepted is lost, and
nothing is kept once it is ingested.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import IngestError, NotFound
from indexer.files import atomic_write, remove_leftovers
from indexer.store import Store

KINDS = ("documents", "people")


@dataclass(frozen=True)
class Upload:
    id: str
    kind: str  # "documents" or "people"
    name: str  # the safe file name it is filed under
    sha256: str
    size: int
    job_id: str | None


def new_id() -> str:
    return secrets.token_hex(8)


class UploadStore:
    """The ``uploads`` table, created on the store's connection the first time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.has_table("uploads"):
            return
        with store.writing():
            store.db["uploads"].create(
                {"id": str, "kind": str, "name": str, "content": bytes, "sha256": str,
                 "size": int, "created_at": str, "job_id": str},
                pk="id", if_not_exists=True)
            store.db.execute("CREATE INDEX IF NOT EXISTS uploads_job ON uploads(job_id)")

    def add(self, kind: str, name: str, content: bytes, job_id: str | None = None,
            upload_id: str | None = None) -> Upload:
        """Keep one file's bytes under its safe ``name``, for the ingest job ``job_id``."""
        _check(kind, name)
        upload = Upload(upload_id or new_id(), kind, name, hashlib.sha256(content).hexdigest(),
                        len(content), job_id)
        with self.store.writing():
            self.store.db["uploads"].insert(
                {"id": upload.id, "kind": kind, "name": name, "content": content,
                 "sha256": upload.sha256, "size": upload.size,
                 "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                 "job_id": job_id})
        return upload

    def get(self, upload_ids: Sequence[str]) -> list[Upload]:
        """The uploads of these ids, in that order (their bytes stay in the store);
        NotFound naming the first that is not there."""
        if not upload_ids:
            return []
        marks = ", ".join("?" * len(upload_ids))
        found = {row["id"]: _upload(row) for row in self.store.db.query(
            "SELECT id, kind, name, sha256, size, job_id FROM uploads "
            f"WHERE id IN ({marks})", list(upload_ids))}
        missing = [i for i in upload_ids if i not in found]
        if missing:
            raise NotFound(f"the uploaded file {missing[0]!r} is no longer in the store",
                           "upload the file again")
        return [found[i] for i in upload_ids]

    def of_job(self, job_id: str) -> list[Upload]:
        return [_upload(row) for row in self.store.db.query(
            "SELECT id, kind, name, sha256, size, job_id FROM uploads WHERE job_id = ? "
            "ORDER BY rowid", [job_id])]

    def content(self, upload: Upload) -> bytes:
        """The upload's bytes, checked against the hash taken when they were received."""
        row = self.store.db.execute("SELECT content FROM uploads WHERE id = ?",
                                    [upload.id]).fetchone()
        if row is None:
            raise NotFound(f"the uploaded file {upload.name!r} is no longer in the store",
                           "upload the file again")
        content = bytes(row[0])
        if hashlib.sha256(content).hexdigest() != upload.sha256:
            raise IngestError(f"{upload.name}: the stored upload does not match its hash",
                              "upload the file again")
        return content

    def write(self, upload_ids: Sequence[str], folder: Path) -> dict[str, list[Path]]:
        """Write each upload to ``folder/<kind>/<name>`` (atomically: a reader sees the old
        file or the new one); the paths written, by kind. One file's bytes in memory at
        a time."""
        written: dict[str, list[Path]] = {kind: [] for kind in KINDS}
        for upload in self.get(upload_ids):
            target = folder / upload.kind / upload.name
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(target.parent, [upload.name])  # of a writer killed mid-write
            content = self.content(upload)
            with atomic_write(target) as tmp:
                tmp.write_bytes(content)
            written[upload.kind].append(target)
        return written

    def discard(self, job_id: str) -> int:
        """Remove the uploads of a job that ended (call in the transaction that ends it);
        how many went."""
        with self.store.writing():
            return self.store.db.execute("DELETE FROM uploads WHERE job_id = ?",
                                         [job_id]).rowcount

    def discard_ended(self) -> int:
        """Remove the uploads whose job ended without taking them (given up on: dead)."""
        with self.store.writing():
            return self.store.db.execute(
                "DELETE FROM uploads WHERE job_id IN (SELECT id FROM jobs WHERE state IN "
                "('done', 'failed', 'dead'))").rowcount


def _check(kind: str, name: str) -> None:
    """A kind we file, and a plain file name: no folder, no leading dot."""
    if kind not in KINDS:
        raise ValueError(f"unknown upload kind {kind!r}")
    if not name or Path(name).name != name or name.startswith(".") or "\\" in name:
        raise ValueError(f"not a plain file name: {name!r}")


def _upload(row: dict) -> Upload:
    _check(row["kind"], row["name"])  # a row is written to disk under this name
    return Upload(row["id"], row["kind"], row["name"], row["sha256"], row["size"] or 0,
                  row["job_id"])
