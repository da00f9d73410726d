"""The job queue: Huey, embedded in SQLite by default, on Redis with WHOKNOWS_REDIS_URL.

The queue carries only job ids; job records live in the store (indexer.jobs). A
worker runs the job and then brings the FAISS index up to date, written to a
temporary file and renamed, so searches switch to the new index only when it is
complete. Every process that runs jobs also reclaims lost ones, at start and
every few seconds: a job whose worker died (its heartbeat went silent, or its pid
on this machine is gone) goes back on the queue, and a queued job whose message
was taken by a worker that died before starting it is sent again. Ingestion is
idempotent and ``start`` a compare-and-set, so nothing is duplicated; a job that
stopped its worker ``max_job_attempts`` times is ``dead``, with the reason.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from api.runtime import Runtime
from api.settings import Settings
from indexer.embedders import Embedder, make_embedder
from indexer.jobs import Heartbeat, Job, JobStore, worker_id
from indexer.language_advice import (
    AUTO_MOVE_KEY,
    MULTILINGUAL_EMBEDDER,
    language_advice,
    moves_itself,
)
from indexer.store import Store
from indexer.uploads import UploadStore
from ingest.jobs import run_job

log = logging.getLogger("whoknows.queue")
BEATS_PER_STALE = 5  # heartbeats within the stale time: a few may fail on a busy database
CHECKS_PER_STALE = 3  # recovery passes within the stale time
# What an unreachable Redis raises: the queue is down, the store is not.
QUEUE_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
CHECK_EVERY_MAX_S = 5.0  # and at least this often: a dead pid on this machine shows at once


@dataclass
class Queue:
    huey: Huey
    settings: Settings
    _task: Any = None
    _heartbeat: Heartbeat | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

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

    def jobs(self, store: Store) -> JobStore:
        """The job records under this deployment's recovery policy."""
        return JobStore(store, self.settings.job_stale_after_s, self.settings.max_job_attempts)

    def submit(self, runtime: Runtime, kind: str, params: dict[str, Any]) -> Job:
        """Record the job and send it. The record is what counts: when the queue cannot
        be reached (Redis down), the job stays ``queued`` and recovery sends it once the
        queue is back, so an accepted job is never lost to an outage."""
        job = JobStore(runtime.store).create(kind, params)
        self.send(job)
        return job

    def send(self, job: Job) -> None:
        """Put a recorded job on the queue; when the queue cannot be reached, recovery
        sends it once it is back."""
        try:
            self._task(job.id)
        except QUEUE_DOWN as exc:
            log.warning("job %s is recorded, but the queue is unreachable (%s): it is sent "
                        "when the queue is back", job.id, exc)

    def reachable(self) -> bool:
        """The queue answers within a second (always, for the embedded SQLite one)."""
        if not self.settings.redis_url:
            return True
        client = redis.Redis.from_url(self.settings.redis_url, socket_connect_timeout=1,
                                      socket_timeout=1)
        try:
            return bool(client.ping())
        except QUEUE_DOWN:
            return False
        finally:
            client.close()

    def _run(self, job_id: str) -> str:
        runtime = _worker_runtime(self.settings)
        runtime.follow_model()  # a re-embed since the last job switched the store's model
        passages_before = runtime.store.count("chunks")

        def index(kind: str) -> None:  # files swapped in atomically
            if kind == "reindex":
                runtime.reindex()  # rebuilt from the stored passages
            else:
                runtime.follow_model()  # a re-embed job: its vectors are of the new model
                runtime.refresh_indexes()  # brought up to date

        def follow_model() -> Embedder:  # a re-embed elsewhere overtook this job's ingest
            runtime.follow_model()
            return runtime.embedder

        def make_model(kind: str) -> Embedder:  # the model a re-embed job moves to
            return make_embedder(kind, cache_dir=self.settings.data_dir / "models",
                                 threads=runtime.threads)

        jobs = self.jobs(runtime.store)
        state = run_job(runtime.store, runtime.embedder, job_id, index, jobs, self._beats(),
                        self.settings.uploads_dir, follow_model, make_model)
        log.info("job %s %s", job_id, state)
        if state == "done" and passages_before == 0 and jobs.get(job_id).kind == "ingest":
            self._move_if_multilingual(runtime)
        return state

    def _move_if_multilingual(self, runtime: Runtime) -> Job | None:
        """After an ingest job gave a new folder its first passages: the re-embed job that
        moves it to the multilingual model when no model was set and the folder is
        multilingual (indexer.language_advice.moves_itself), as `whoknows ingest` moves
        it. Two workers that both filled the new folder send one job between them."""
        advice = language_advice(runtime.store, runtime.embedder)
        if not moves_itself(advice, self.settings.embedder is not None, 0):
            return None
        store = runtime.store
        with store.writing():
            if store.get_meta(AUTO_MOVE_KEY) is not None:
                return None  # another worker sent it
            job = self.jobs(store).create("reembed", {"embedder": MULTILINGUAL_EMBEDDER,
                                                      "automatic": True})
            store.set_meta(AUTO_MOVE_KEY, job.id)
        assert advice is not None
        # A long job nobody asked for: said where the operator looks (a warning is shown).
        log.warning("%.1f%% of the passages are in other languages than English: this new "
                    "folder moves to the multilingual model %s (job %s; set "
                    "WHOKNOWS_EMBEDDER to choose the model yourself)", 100 * advice.share,
                    MULTILINGUAL_EMBEDDER, job.id)
        self.send(job)
        return job

    def _beats(self) -> Heartbeat | None:
        """This process's heartbeat thread, on a store connection of its own (none in
        immediate mode, where jobs run inline and no one reclaims them)."""
        if self.huey.immediate:
            return None
        with self._lock:
            if self._heartbeat is None:
                every = self.settings.job_stale_after_s / BEATS_PER_STALE
                # The store's, not the data folder's: with a database URL the folder
                # holds no jobs, and beats written there would leave the job to go stale.
                self._heartbeat = Heartbeat(self.jobs(self.settings.open_store()),
                                            worker_id(), every)
            return self._heartbeat

    def recover(self, store: Store, starting: bool = False) -> dict[str, str]:
        """Reclaim the jobs no worker is carrying on: back on the queue, or ``dead``
        after too many attempts. ``starting``: this process runs no job yet, so jobs
        recorded under its own host:pid are from an earlier life. Returns job id ->
        new state."""
        jobs = self.jobs(store)
        lost = jobs.lost(worker_id(), starting)
        waiting = self._waiting() if any(j.state == "queued" for j in lost) else set()
        outcome = {}
        for job in lost:
            if job.id in waiting:
                continue  # its message is in the queue: it waits its turn
            state = jobs.reclaim(job)
            if state == "queued":
                self._task(job.id)
            if state is not None:
                outcome[job.id] = state
                _log_reclaimed(job, state)
        if "dead" in outcome.values():  # given up on: its uploads are kept no longer
            UploadStore(store).discard_ended()
        return outcome

    def _waiting(self) -> set[str]:
        """Job ids with a message in the queue."""
        return {task.args[0] for task in self.huey.pending() if task.args}

    def recover_periodically(self) -> threading.Event:
        """Reclaim lost jobs a few times per stale time, from a thread with its own
        store connection, so a worker that dies is noticed while this process runs,
        not at its next start. Returns the event that stops it."""
        stop = threading.Event()
        every = min(max(self.settings.job_stale_after_s / CHECKS_PER_STALE, 0.05),
                    CHECK_EVERY_MAX_S)

        def loop() -> None:
            store = self.settings.open_store()
            while not stop.wait(every):
                try:
                    self.recover(store)
                except Exception:  # a busy database or queue: the next pass tries again
                    log.exception("job recovery failed")

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


def _log_reclaimed(job: Job, state: str) -> None:
    if state == "dead":
        log.error("job %s is dead: started %d times, its worker stopped each time (last %s)",
                  job.id, job.attempts, job.worker)
    elif job.state == "running":
        log.warning("re-queued job %s: its worker %s stopped", job.id, job.worker)
    else:
        log.warning("re-sent job %s: queued, but no worker started it", job.id)


_RUNTIMES: dict[str, Runtime] = {}


def _worker_runtime(settings: Settings) -> Runtime:
    """One runtime (store connection, loaded model) per worker process and data folder."""
    key = str(settings.data_dir.resolve())
    if key not in _RUNTIMES:
        _RUNTIMES[key] = Runtime.open(settings)
    return _RUNTIMES[key]
