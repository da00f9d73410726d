"""Job records: what a background ingest or re-index is doing, kept in the store.

The queue (Huey) only carries job ids; the record here is the truth about a job:
its parameters, state, progress and per-item errors. A worker that dies leaves
its job ``running`` with an old heartbeat, so a later worker can take it over.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import NotFound
from indexer.store import Store

STATES = ("queued", "running", "done", "failed")


@dataclass
class Job:
    id: str
    kind: str
    state: str
    params: dict[str, Any]
    done: int = 0
    total: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    heartbeat_at: str | None = None
    worker: str | None = None  # host:pid of the worker that ran it last


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class JobStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db  # the jobs table is part of the store's schema

    def create(self, kind: str, params: dict[str, Any]) -> Job:
        job = Job(id=secrets.token_hex(8), kind=kind, state="queued", params=params,
                  created_at=now())
        with self.store.writing():
            self.db["jobs"].insert(_row(job))
        return job

    def get(self, job_id: str) -> Job:
        rows = list(self.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
        if not rows:
            raise NotFound(f"no job with id {job_id!r}", "list jobs with GET /api/admin/jobs")
        return _job(rows[0])

    def recent(self, limit: int = 50) -> list[Job]:
        rows = self.db.query("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", [limit])
        return [_job(r) for r in rows]

    def start(self, job_id: str, worker: str | None = None) -> Job:
        stamp = now()
        with self.store.writing():
            self.db.execute("UPDATE jobs SET state = 'running', started_at = ?, heartbeat_at = ?,"
                            " attempts = attempts + 1, done = 0, errors = '[]', worker = ? "
                            "WHERE id = ?", [stamp, stamp, worker, job_id])
        return self.get(job_id)

    def progress(self, job_id: str, done: int, total: int) -> None:
        with self.store.writing():
            self.db.execute("UPDATE jobs SET done = ?, total = ?, heartbeat_at = ? WHERE id = ?",
                            [done, total, now(), job_id])

    def finish(self, job_id: str, state: str, errors: list[dict[str, Any]],
               summary: dict[str, Any]) -> None:
        with self.store.writing():
            self.db.execute("UPDATE jobs SET state = ?, errors = ?, summary = ?, finished_at = ?,"
                            " heartbeat_at = ? WHERE id = ?",
                            [state, json.dumps(errors), json.dumps(summary), now(), now(),
                             job_id])

    def stale(self, older_than_s: float) -> list[Job]:
        """Jobs left ``running`` by a worker that stopped beating (it died)."""
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_s)).isoformat(
            timespec="milliseconds")
        rows = self.db.query("SELECT * FROM jobs WHERE state = 'running' AND heartbeat_at < ?",
                             [cutoff])
        return [_job(r) for r in rows]

    def requeue(self, job_id: str) -> None:
        with self.store.writing():
            self.db.execute("UPDATE jobs SET state = 'queued' WHERE id = ?", [job_id])


def _row(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "state": job.state, "params": json.dumps(job.params),
            "done": job.done, "total": job.total, "errors": json.dumps(job.errors),
            "summary": json.dumps(job.summary), "attempts": job.attempts,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "heartbeat_at": job.heartbeat_at,
            "worker": job.worker}


def _job(row: dict[str, Any]) -> Job:
    return Job(id=row["id"], kind=row["kind"], state=row["state"],
               params=json.loads(row["params"] or "{}"), done=row["done"] or 0,
               total=row["total"] or 0, errors=json.loads(row["errors"] or "[]"),
               summary=json.loads(row["summary"] or "{}"), attempts=row["attempts"] or 0,
               created_at=row["created_at"], started_at=row["started_at"],
               finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"],
               worker=row.get("worker"))
