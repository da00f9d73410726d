"""Running one job: an ingest of paths or uploads, a re-index, or a re-embed (a move to
another model: ingest.reembed), recording progress.

Re-running a job is safe: ingestion compares content hashes, so what an earlier
attempt committed is found unchanged and nothing is written twice. An ingest of
uploads (indexer.uploads) writes them to this worker's own folder first, and their
rows go in the transaction that ends the job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from indexer.embedders import Embedder, make_embedder
from indexer.errors import WhoknowsError
from indexer.jobs import Heartbeat, Job, JobStore, worker_id
from indexer.store import Store
from indexer.uploads import UploadStore
from ingest.pipeline import Ingester, IngestReport, following_the_model
from ingest.reembed import Reembedder, ReembedReport

HEARTBEAT_S = 1.0  # how often progress is written while a job runs


def run_job(store: Store, embedder: Embedder, job_id: str,
            index: Callable[[str], None] | None = None, jobs: JobStore | None = None,
            heartbeat: Heartbeat | None = None, uploads_to: Path | None = None,
            follow_model: Callable[[], Embedder] | None = None,
            make_model: Callable[[str], Embedder] | None = None) -> str:
    """Run the job to its end and return its final state (``done`` or ``failed``).

    ``index(kind)`` brings the derived indexes up to date after the work and
    before the job is marked done, so whoever sees "done" finds them current.
    ``heartbeat`` keeps the job alive through long steps that report no progress.
    ``uploads_to``: the folder this worker writes a job's uploads to (its data
    folder's ``uploads/``), to ingest them from there.
    ``follow_model()`` gives the model the store records now: an ingest that a re-embed
    overtook (``ModelMoved``) runs again with it, once. ``make_model(kind)`` builds the
    model a re-embed job moves to (in this worker's model folder).
    A job this worker may not claim (a duplicate message for a job that runs
    elsewhere or has ended) is left alone and its state returned.
    """
    jobs = jobs or JobStore(store)
    job = jobs.start(job_id, heartbeat.worker if heartbeat else worker_id())
    if job is None:
        return jobs.get(job_id).state
    with heartbeat.beating(job_id) if heartbeat else contextlib.nullcontext():
        def work(model: Embedder) -> IngestReport | ReembedReport | None:
            return _work(store, model, job, _progress(jobs, job_id), uploads_to, make_model)

        try:
            report = following_the_model(work, embedder, follow_model)
            if index is not None:
                index(job.kind)
        except Exception as exc:  # the job fails with its reason; the worker goes on
            reason = str(exc) if isinstance(exc, WhoknowsError) else f"{type(exc).__name__}: {exc}"
            _finish(jobs, job, "failed", [{"file": None, "line": None, "reason": reason}], {})
            return "failed"
    summary = report.to_dict() if report else {}
    errors = summary.pop("failed", [])
    _finish(jobs, job, "done", errors, summary)
    return "done"


def _finish(jobs: JobStore, job: Job, state: str, errors: list[dict], summary: dict) -> None:
    """End the job, and let go of its uploads in the same transaction: both, or neither
    (a worker that dies in between leaves the job to be run again, uploads and all)."""
    with jobs.store.writing():
        jobs.finish(job.id, state, errors, summary)
        if job.params.get("uploads"):
            UploadStore(jobs.store).discard(job.id)


def _work(store: Store, embedder: Embedder, job: Job,
          progress: Callable[[int, int, str], None],
          uploads_to: Path | None = None,
          make_model: Callable[[str], Embedder] | None = None
          ) -> IngestReport | ReembedReport | None:
    params = job.params
    if job.kind == "ingest":
        paths = [Path(p) for p in params.get("paths", [])]
        people_paths = [Path(p) for p in params.get("people_paths", [])]
        if params.get("uploads"):
            if uploads_to is None:
                raise WhoknowsError("this job ingests uploads, and this worker has no "
                                    "folder to write them to")
            written = UploadStore(store).write(params["uploads"], uploads_to)
            paths += written["documents"]
            people_paths += written["people"]
        return Ingester(store, embedder).ingest(paths, people_paths,
                                                sync=bool(params.get("sync")),
                                                progress=progress)
    if job.kind == "delete":
        for doc_id in params.get("documents", []):
            store.delete_document(doc_id)
        for person_id in params.get("people", []):
            store.delete_person(person_id)
        return None
    if job.kind == "reindex":
        return None  # the store is the truth already; the worker rebuilds the index
    if job.kind == "reembed":
        target = (make_model or make_embedder)(params["embedder"])
        return Reembedder(store, target).run(progress)
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
