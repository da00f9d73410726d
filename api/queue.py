"""The job queue: Huey, embedded in SQLite by default, on Redis with WHOKNOWS_REDIS_URL.

The queue carries only job ids; job records live in the store (indexer.jobs). A
worker runs the job and then brings the FAISS index up to date, written to a
temporary file and renamed, so searches switch to the new index only when it is
complete. Jobs a dead worker left ``running`` are put back on the queue by the
next worker that starts (ingestion is idempotent, so nothing is duplicated).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import Job, JobStore
from ingest.jobs import run_job

log = logging.getLogger("whoknows.queue")
STALE_AFTER_S = 30.0  # a running job whose heartbeat is older than this lost its worker


@dataclass
class Queue:
    huey: Huey
    settings: Settings
    _task: Any = None

    @classmethod
    def create(cls, settings: Settings, immediate: bool = False) -> Queue:
        if settings.redis_url:
            huey: Huey = RedisHuey("whoknows", url=settings.redis_url, immediate=immediate)
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey("whoknows", filename=str(settings.data_dir / "queue.db"),
                              immediate=immediate)
        queue = cls(huey, settings)
        queue._task = huey.task(name="whoknows.run_job")(queue._run)
        return queue

    def submit(self, runtime: Runtime, kind: str, params: dict[str, Any]) -> Job:
        job = JobStore(runtime.store).create(kind, params)
        self._task(job.id)
        return job

    def _run(self, job_id: str) -> str:
        runtime = _worker_runtime(self.settings)

        def index(kind: str) -> None:  # files swapped in atomically
            if kind == "reindex":
                runtime.reindex()  # rebuilt from the stored passages
            else:
                runtime.refresh_indexes()  # brought up to date

        state = run_job(runtime.store, runtime.embedder, job_id, index)
        log.info("job %s %s", job_id, state)
        return state

    def recover(self, runtime: Runtime, stale_after_s: float = STALE_AFTER_S) -> list[str]:
        """Put jobs that a dead worker left running back on the queue."""
        jobs = JobStore(runtime.store)
        recovered = []
        for job in jobs.stale(stale_after_s):
            jobs.requeue(job.id)
            self._task(job.id)
            recovered.append(job.id)
        return recovered

    def recover_periodically(self, runtime: Runtime, stale_after_s: float = STALE_AFTER_S
                             ) -> threading.Event:
        """Check for abandoned jobs every few seconds in a thread (with its own runtime)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(max(stale_after_s / 3, 0.5)):
                for job_id in self.recover(runtime, stale_after_s):
                    log.warning("re-queued job %s: its worker stopped", job_id)

        threading.Thread(target=loop, name="whoknows-recovery", daemon=True).start()
        return stop

    def work_in_thread(self) -> threading.Event:
        """Run jobs in a background thread of this process (the embedded default).

        Huey's Consumer owns signal handling and wants the main thread, which belongs
        to the web server here; this loop uses the same Huey storage and execution.
        Returns the event that stops it.
        """
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                task = self.huey.dequeue()
                if task is None:
                    stop.wait(0.2)
                    continue
                try:
                    self.huey.execute(task)
                except Exception:  # run_job records failures; this is a last guard
                    log.exception("job task failed")

        threading.Thread(target=loop, name="whoknows-worker", daemon=True).start()
        return stop

    def consumer(self, workers: int = 1) -> Consumer:
        return self.huey.create_consumer(workers=workers, worker_type="thread",
                                         check_worker_health=True, periodic=False)


_RUNTIMES: dict[str, Runtime] = {}


def _worker_runtime(settings: Settings) -> Runtime:
    """One runtime (store connection, loaded model) per worker process and data folder."""
    key = str(settings.data_dir.resolve())
    if key not in _RUNTIMES:
        _RUNTIMES[key] = Runtime.open(settings)
    return _RUNTIMES[key]
