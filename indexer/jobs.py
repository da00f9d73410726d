"""Job records: what a background ingest or re-index is doing, kept in the store.

The queue (Huey) only carries job ids; the record here is the truth about a job:
its parameters, state, progress and per-item errors. States::

    queued ──start──► running ──► done | failed
      ▲                  │
      └──── reclaim ─────┤  (its worker stopped: silent heartbeat, or a dead pid)
                         └──► dead  (started ``max_attempts`` times, never finished)

A worker that dies leaves its job ``running``; a heartbeat thread keeps a live
job's ``heartbeat_at`` fresh, so a silent one lost its worker and is reclaimed.
``start`` is a compare-and-set, so a duplicate queue message never runs a job
twice at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from indexer.errors import NotFound
from indexer.files import process_alive
from indexer.store import Store

STATES = ("queued", "running", "done", "failed", "dead")
STALE_AFTER_S = 30.0  # a job silent this long lost its worker
MAX_ATTEMPTS = 3  # starts without finishing after which a job is dead
log = logging.getLogger("whoknows.jobs")


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
    heartbeat_at: str | None = None  # its last sign of life: its worker's beat, or a re-queue
    worker: str | None = None  # host:pid of the worker that ran it last (worker_id)

    @property
    def last_seen(self) -> str:
        return self.heartbeat_at or self.started_at or self.created_at


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def ago(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)).isoformat(
        timespec="milliseconds")


def worker_id() -> str:
    """This process as a job's ``worker``: host:pid, the host as ``machine()`` names it."""
    return f"{machine()}:{os.getpid()}"


@functools.cache
def machine() -> str:
    """The pid space this process's pid means something in: the host name, and on Linux
    a short hash of the boot id and the pid namespace. Two machines (or containers)
    may share a host name (hostNetwork pods, a fixed container hostname, "localhost"),
    and a pid checked in the wrong space would find a live worker dead, or a dead one
    alive; so a worker checks pids only under its own exact name (``worker_gone``)."""
    host = socket.gethostname()
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        space = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: the host name alone
        return host
    return f"{host}/{hashlib.sha256(f'{boot} {space}'.encode()).hexdigest()[:8]}"


class JobStore:
    """The jobs table, with the recovery policy: how long a silent job may be alive
    (``stale_after_s``) and how many starts a job gets (``max_attempts``)."""

    def __init__(self, store: Store, stale_after_s: float = STALE_AFTER_S,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.store = store
        self.stale_after_s = stale_after_s
        self.max_attempts = max_attempts

    @property
    def db(self) -> sqlite_utils.Database:
        """The calling thread's connection (the jobs table is part of the store's schema):
        one JobStore serves a worker's heartbeat and recovery threads too."""
        return self.store.db

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

    def synced_folders(self) -> list[str]:
        """The folders that re-index requests asked a server to read: the paths of the
        ingest jobs that sync (uploads never do)."""
        folders: dict[str, None] = {}
        for (text,) in self.db.execute("SELECT params FROM jobs WHERE kind = 'ingest' "
                                       "ORDER BY created_at"):
            params = json.loads(text or "{}")
            if params.get("sync"):
                folders.update(dict.fromkeys(str(p) for p in params.get("paths") or []))
        return sorted(folders)

    def recent(self, limit: int = 50, state: str | None = None) -> list[Job]:
        rows = self.db.query("SELECT * FROM jobs WHERE ? IS NULL OR state = ? "
                             "ORDER BY created_at DESC LIMIT ?", [state, state, limit])
        return [_job(r) for r in rows]

    def start(self, job_id: str, worker: str | None = None) -> Job | None:
        """Claim the job for ``worker``, or None when it is not to be run: it is running
        elsewhere (alive), finished, dead, or out of attempts. A compare-and-set, so
        two workers given the same job id never both run it."""
        stamp = now()
        with self.store.writing():
            claimed = self.db.execute(
                "UPDATE jobs SET state = 'running', started_at = ?, heartbeat_at = ?,"
                " attempts = attempts + 1, done = 0, errors = '[]', worker = ? "
                "WHERE id = ? AND attempts < ? AND (state = 'queued' OR (state = 'running'"
                " AND COALESCE(heartbeat_at, started_at, created_at) < ?))",
                [stamp, stamp, worker, job_id, self.max_attempts, ago(self.stale_after_s)]
            ).rowcount
        return self.get(job_id) if claimed else None

    def progress(self, job_id: str, done: int, total: int) -> None:
        with self.store.writing():
            self.db.execute("UPDATE jobs SET done = ?, total = ?, heartbeat_at = ? WHERE id = ?",
                            [done, total, now(), job_id])

    def beat(self, job_ids: list[str], worker: str) -> None:
        """Say that ``worker`` still runs these jobs (only while they are still its own)."""
        marks = ", ".join("?" * len(job_ids))
        with self.store.writing():
            self.db.execute(f"UPDATE jobs SET heartbeat_at = ? WHERE state = 'running' AND "
                            f"worker = ? AND id IN ({marks})", [now(), worker, *job_ids])

    def finish(self, job_id: str, state: str, errors: list[dict[str, Any]],
               summary: dict[str, Any]) -> None:
        with self.store.writing():
            self.db.execute("UPDATE jobs SET state = ?, errors = ?, summary = ?, finished_at = ?,"
                            " heartbeat_at = ? WHERE id = ?",
                            [state, json.dumps(errors), json.dumps(summary), now(), now(),
                             job_id])

    def lost(self, here: str, starting: bool = False) -> list[Job]:
        """Jobs no worker is carrying on (see ``abandoned``); ``here`` is the worker
        asking, ``starting`` says it runs no job yet."""
        rows = self.db.query("SELECT * FROM jobs WHERE state IN ('queued', 'running')")
        cutoff = ago(self.stale_after_s)
        return [job for job in map(_job, rows) if abandoned(job, cutoff, here, starting)]

    def reclaim(self, job: Job) -> str | None:
        """Put a lost job back in the queue (``queued``), or give up on it (``dead``) when
        it was started ``max_attempts`` times; None when it moved on meanwhile."""
        if job.attempts >= self.max_attempts:
            attempts = f"{job.attempts} attempt{'s' if job.attempts != 1 else ''}"
            reason = (f"gave up after {attempts}: the worker stopped each time "
                      f"(last on {job.worker or 'an unknown worker'})")
            errors = json.dumps([{"file": None, "line": None, "reason": reason}])
            done = self._unless_moved(job, "state = 'dead', errors = ?, finished_at = ?",
                                      [errors, now()])
            return "dead" if done else None
        return "queued" if self._unless_moved(job, "state = 'queued', heartbeat_at = ?",
                                              [now()]) else None

    def _unless_moved(self, job: Job, assignments: str, values: list[Any]) -> bool:
        """Update the job only if it is as ``job`` saw it: no beat, start or end since
        (another recoverer, or a worker that was alive after all, wins)."""
        with self.store.writing():
            return bool(self.db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND state = ? AND "
                "heartbeat_at IS ? AND attempts = ?",
                [*values, job.id, job.state, job.heartbeat_at, job.attempts]).rowcount)


def abandoned(job: Job, cutoff: str, here: str, starting: bool = False) -> bool:
    """Is no worker carrying this job on? Running: silent since before ``cutoff``, or
    its worker is known to be gone. Queued: nobody started it since ``cutoff``, or
    ever when ``here`` is starting (the queue's message may have been taken by a worker
    that died before it started the job; the caller checks the queue)."""
    if job.state == "queued":
        return starting or job.last_seen < cutoff
    return job.state == "running" and (job.last_seen < cutoff
                                       or worker_gone(job.worker, here, starting))


def worker_gone(worker: str | None, here: str, starting: bool = False) -> bool:
    """Has the worker that holds a job stopped? Only a worker in this pid space (the
    same ``machine()``) can be checked: its pid runs no more, or it is ``here`` itself
    while ``here`` is starting: an earlier run under the same host:pid. Any other
    worker, on another machine, is judged by its heartbeat alone."""
    host, _, pid = (worker or "").rpartition(":")
    if not host or host != here.rpartition(":")[0] or not pid.isdigit():
        return False
    return (starting and worker == here) or not process_alive(int(pid))


class Heartbeat:
    """Beats for the jobs this process runs, from one thread: a long step that reports
    no progress (a re-index, a huge PDF, a model loading) must not look like a dead
    worker. Give it a JobStore on a connection of its own, used by no other thread."""

    def __init__(self, jobs: JobStore, worker: str, every_s: float) -> None:
        self.jobs, self.worker, self.every_s = jobs, worker, every_s
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def beating(self, job_id: str) -> Iterator[None]:
        with self._lock:
            self._running.add(job_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="whoknows-heartbeat",
                                                daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(job_id)

    def close(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            with self._lock:
                running = sorted(self._running)
            if not running:
                continue
            try:
                self.jobs.beat(running, self.worker)
            except Exception:  # a busy database: the next beat comes soon, well before stale
                log.exception("heartbeat failed")


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
