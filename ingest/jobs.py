"""Running one job: an ingest of paths, or a re-index, recording progress as it goes.

Re-running a job is safe: ingestion compares content hashes, so what an earlier
attempt committed is found unchanged and nothing is written twice.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from indexer.embedders import Embedder
from indexer.errors import WhoknowsError
from indexer.jobs import Heartbeat, Job, JobStore, worker_id
from indexer.store import Store
from ingest.pipeline import Ingester, IngestReport

HEARTBEAT_S = 1.0  # how often progress is written while a job runs


def run_job(store: Store, embedder: Embedder, job_id: str,
            index: Callable[[str], None] | None = None, jobs: JobStore | None = None,
            heartbeat: Heartbeat | None = None) -> str:
    """Run the job to its end and return its final state (``done`` or ``failed``).

    ``index(kind)`` brings the derived indexes up to date after the work and
    before the job is marked done, so whoever sees "done" finds them current.
    ``heartbeat`` keeps the job alive through long steps that report no progress.
    A job this worker may not claim (a duplicate message for a job that runs
    elsewhere or has ended) is left alone and its state returned.
    """
    jobs = jobs or JobStore(store)
    job = jobs.start(job_id, heartbeat.worker if heartbeat else worker_id())
    if job is None:
        return jobs.get(job_id).state
    with heartbeat.beating(job_id) if heartbeat else contextlib.nullcontext():
        try:
            report = _work(store, embedder, job, _progress(jobs, job_id))
            if index is not None:
                index(job.kind)
        except Exception as exc:  # the job fails with its reason; the worker goes on
            reason = str(exc) if isinstance(exc, WhoknowsError) else f"{type(exc).__name__}: {exc}"
            jobs.finish(job_id, "failed", [{"file": None, "line": None, "reason": reason}], {})
            return "failed"
    summary = report.to_dict() if report else {}
    errors = summary.pop("failed", [])
    jobs.finish(job_id, "done", errors, summary)
    return "done"


def _work(store: Store, embedder: Embedder, job: Job,
          progress: Callable[[int, int, str], None]) -> IngestReport | None:
    params = job.params
    if job.kind == "ingest":
        return Ingester(store, embedder).ingest(
            [Path(p) for p in params.get("paths", [])],
            [Path(p) for p in params.get("people_paths", [])],
            sync=bool(params.get("sync")), progress=progress)
    if job.kind == "delete":
        for doc_id in params.get("documents", []):
            store.delete_document(doc_id)
        for person_id in params.get("people", []):
            store.delete_person(person_id)
        return None
    if job.kind == "reindex":
        return None  # the store is the truth already; the worker rebuilds the index
    raise WhoknowsError(f"unknown job kind {job.kind!r}")


def _progress(jobs: JobStore, job_id: str) -> Callable[[int, int, str], None]:
    """Progress written at most every HEARTBEAT_S (and at the end); it beats too."""
    last = 0.0

    def progress(done: int, total: int, what: str) -> None:
        nonlocal last
        if time.monotonic() - last >= HEARTBEAT_S or done == total:
            jobs.progress(job_id, done, total)
            last = time.monotonic()

    return progress
