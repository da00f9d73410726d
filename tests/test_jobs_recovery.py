"""Lost jobs are reclaimed while the process runs, not only at start; a job that keeps
stopping its worker is dead with its reason; a job never runs twice at once.

Workers here are stand-ins: a job is "started" under a worker identity (host:pid) whose
pid is alive, dead or on another host, so the time constants can be fractions of a
second. tests/test_worker.py kills real worker processes.
"""

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import write
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import (
    Heartbeat,
    Job,
    JobStore,
    abandoned,
    ago,
    machine,
    worker_gone,
    worker_id,
)
from indexer.store import Store
from ingest.jobs import run_job

HOST = machine()  # this pid space's name in a worker id (host/space)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has ended (reuse within a test run is very unlikely)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make(tmp_path, stale: float = 60.0, attempts: int = 3):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048",
                        job_stale_after_s=stale, max_job_attempts=attempts)
    runtime = Runtime.open(settings)
    queue = Queue.create(settings)
    return runtime, queue, queue.jobs(runtime.store)


def ingest_job(tmp_path, jobs: JobStore) -> Job:
    write(tmp_path / "corpus", "kafka.md", "# Kafka\n\nRetention and compaction of topics.\n")
    return jobs.create("ingest", {"paths": [str(tmp_path / "corpus")]})


def waiting(queue: Queue) -> list[str]:
    return [task.args[0] for task in queue.huey.pending()]


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


# -- who is gone -------------------------------------------------------------------------


@pytest.mark.parametrize(("worker", "starting", "gone"), [
    ("{host}:{dead}", False, True),  # its pid runs no more
    ("{host}:{me}", False, False),  # this very process, running
    ("{host}:{me}", True, True),  # an earlier life under our host:pid (a restarted container)
    ("elsewhere:{dead}", False, False),  # another machine: only the heartbeat can tell
    ("elsewhere:{me}", True, False),
    # Another machine (or container) under this host name: another pid space.
    ("{name}:{dead}", False, False),
    ("{name}:{me}", True, False),
    ("{name}/0badf00d:{dead}", False, False),
    ("{host}:not-a-pid", False, False),
    (None, True, False),
])
def test_a_worker_is_gone_only_when_this_machine_can_tell(worker, starting, gone, dead_pid):
    here = worker_id()
    if worker and "{name}" in worker and socket.gethostname() == HOST:
        pytest.skip("no boot id or pid namespace to tell machines of one name apart here")
    if worker:
        worker = worker.format(host=HOST, dead=dead_pid, me=here.rpartition(":")[2],
                               name=socket.gethostname())
    assert worker_gone(worker, here, starting) is gone


@pytest.mark.parametrize(("state", "seen_s_ago", "starting", "lost"), [
    ("running", 100, False, True),  # silent for longer than the stale time
    ("running", 1, False, False),
    ("queued", 100, False, True),  # nobody started it: its message may be lost
    ("queued", 1, False, False),  # it may be waiting its turn
    ("queued", 1, True, True),  # at start: the caller checks whether it is in the queue
    ("done", 100, True, False),
    ("failed", 100, True, False),
    ("dead", 100, True, False),
])
def test_which_jobs_count_as_abandoned(state, seen_s_ago, starting, lost):
    job = Job(id="j", kind="ingest", state=state, params={}, created_at=ago(200),
              heartbeat_at=ago(seen_s_ago), worker="elsewhere:1")
    assert abandoned(job, ago(30), worker_id(), starting) is lost


# -- reclaiming while running ------------------------------------------------------------


def test_job_of_a_worker_killed_mid_run_is_requeued_without_restart(tmp_path, dead_pid):
    runtime, queue, jobs = make(tmp_path, stale=60.0)
    job = ingest_job(tmp_path, jobs)
    jobs.start(job.id, f"{HOST}:{dead_pid}")  # its worker died moments ago, on this machine
    # Not a start (no restart), and long before the stale time: the dead pid says it.
    assert queue.recover(runtime.store) == {job.id: "queued"}
    assert jobs.get(job.id).state == "queued" and waiting(queue) == [job.id]
    assert queue.recover(runtime.store) == {}  # once


def test_job_of_a_silent_worker_elsewhere_is_finished_within_the_stale_time(tmp_path):
    runtime, queue, jobs = make(tmp_path, stale=0.5)
    job = ingest_job(tmp_path, jobs)
    jobs.start(job.id, "elsewhere:4242")  # claimed by a machine that then went silent
    stops = [queue.recover_periodically(), queue.work_in_thread()]
    try:
        done = wait_for(lambda: jobs.get(job.id).state == "done" and jobs.get(job.id))
    finally:
        for stop in stops:
            stop.set()
    assert done.attempts == 2 and done.worker == worker_id()
    assert runtime.store.count("documents") == 1


def test_a_live_long_job_keeps_beating_and_is_not_reclaimed(tmp_path):
    runtime, queue, jobs = make(tmp_path, stale=0.3)
    job = ingest_job(tmp_path, jobs)
    jobs.start(job.id, worker_id())  # this process, alive: only the heartbeat can tell
    beats = Heartbeat(queue.jobs(Store.open(tmp_path / "data")), worker_id(), 0.05)
    with beats.beating(job.id):
        time.sleep(1.0)  # a long step without a progress call
        assert queue.recover(runtime.store) == {}
    beats.close()
    time.sleep(0.5)  # and once it stops beating, it is lost (so the check above can fail)
    assert queue.recover(runtime.store) == {job.id: "queued"}


def test_a_job_step_longer_than_the_stale_time_is_not_taken_for_dead(tmp_path):
    runtime, queue, jobs = make(tmp_path, stale=0.3)
    job = jobs.create("reindex", {})
    seen = []

    def index(kind: str) -> None:  # a re-index that reports no progress for 1 s
        time.sleep(1.0)
        seen.append(queue.recover(Store.open(tmp_path / "data")))

    state = run_job(runtime.store, runtime.embedder, job.id, index, jobs, queue._beats())
    assert state == "done" and seen == [{}]
    assert jobs.get(job.id).attempts == 1


def test_on_a_shared_store_the_heartbeat_and_recovery_use_the_store(tmp_path, pg_url):
    """With a database URL the data folder holds no jobs: the heartbeat and the periodic
    recovery once opened the folder's SQLite file, so a live job's beats went nowhere
    (it went stale: another worker could take it while it ran) and a dead worker's job
    was never reclaimed."""
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url,
                        embedder="hashing-2048", job_stale_after_s=0.3)
    runtime = Runtime.open(settings)
    queue = Queue.create(settings)
    jobs = queue.jobs(runtime.store)
    job = jobs.create("reindex", {})
    seen = []

    def index(kind: str) -> None:  # a re-index that reports no progress for 1 s
        time.sleep(1.0)
        seen.append(queue.recover(settings.open_store()))

    beats = queue._beats()
    try:
        assert run_job(runtime.store, runtime.embedder, job.id, index, jobs, beats) == "done"
    finally:
        beats.close()
    assert seen == [{}] and jobs.get(job.id).attempts == 1
    lost = jobs.create("reindex", {})
    jobs.start(lost.id, "elsewhere:1")  # then silent
    stop = queue.recover_periodically()
    try:
        assert wait_for(lambda: jobs.get(lost.id).state == "queued")
    finally:
        stop.set()


def test_queued_job_whose_message_was_lost_is_sent_again_once(tmp_path):
    runtime, queue, jobs = make(tmp_path, stale=0.2)
    job = ingest_job(tmp_path, jobs)  # recorded, but its message was taken by a worker
    assert queue.recover(runtime.store) == {}  # that died before starting it; too young
    time.sleep(0.3)
    assert queue.recover(runtime.store) == {job.id: "queued"}
    time.sleep(0.3)
    assert queue.recover(runtime.store) == {}  # its message is in the queue now: it waits
    assert waiting(queue) == [job.id]


def test_queued_job_waiting_its_turn_is_not_sent_twice(tmp_path):
    runtime, queue, jobs = make(tmp_path, stale=0.2)
    write(tmp_path / "corpus", "a.md", "# A\n\nalpha\n")
    job = queue.submit(runtime, "ingest", {"paths": [str(tmp_path / "corpus")]})
    time.sleep(0.3)
    assert queue.recover(runtime.store, starting=True) == {}
    assert waiting(queue) == [job.id]


# -- giving up ---------------------------------------------------------------------------


def test_job_that_kills_its_worker_three_times_is_dead_with_its_reason(tmp_path, dead_pid):
    runtime, queue, jobs = make(tmp_path, attempts=3)
    job = ingest_job(tmp_path, jobs)
    outcomes = []
    for _ in range(3):
        assert jobs.start(job.id, f"{HOST}:{dead_pid}") is not None
        outcomes += queue.recover(runtime.store).values()  # the worker died again
    assert outcomes == ["queued", "queued", "dead"]
    dead = jobs.get(job.id)
    assert dead.state == "dead" and dead.finished_at
    assert dead.errors == [{"file": None, "line": None, "reason":
                            f"gave up after 3 attempts: the worker stopped each time "
                            f"(last on {HOST}:{dead_pid})"}]
    assert queue.recover(runtime.store, starting=True) == {}  # never re-queued again
    assert jobs.start(job.id, worker_id()) is None
    assert waiting(queue).count(job.id) == 2  # the two re-queues, nothing for the dead


def test_attempt_limit_comes_from_the_settings(tmp_path, dead_pid):
    runtime, queue, jobs = make(tmp_path, attempts=1)
    job = ingest_job(tmp_path, jobs)
    jobs.start(job.id, f"{HOST}:{dead_pid}")
    assert queue.recover(runtime.store) == {job.id: "dead"}
    assert jobs.get(job.id).errors[0]["reason"].startswith("gave up after 1 attempt: ")


def test_dead_jobs_are_listed_with_their_reason(tmp_path, dead_pid):
    runtime, queue, jobs = make(tmp_path, attempts=1)
    dead, done = ingest_job(tmp_path, jobs), jobs.create("reindex", {})
    jobs.start(dead.id, f"{HOST}:{dead_pid}")
    queue.recover(runtime.store)
    jobs.finish(done.id, "done", [], {})
    run = CliRunner().invoke(app, ["jobs", "--data-dir", str(tmp_path / "data"), "--state",
                                   "dead", "--json"])
    assert run.exit_code == 0, run.output
    listed = json.loads(run.output)
    assert [j["id"] for j in listed] == [dead.id]
    assert listed[0]["errors"][0]["reason"].startswith("gave up after 1 attempt: ")
    text = CliRunner().invoke(app, ["jobs", "--data-dir", str(tmp_path / "data")]).output
    assert f"{dead.id}  ingest   dead" in text and "gave up after 1 attempt" in text
    assert f"{done.id}  reindex  done" in text


# -- never twice at once -----------------------------------------------------------------


def test_duplicate_message_does_not_run_a_job_twice(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048")
    runtime = Runtime.open(settings)
    queue = Queue.create(settings, immediate=True)  # each message runs at once, inline
    write(tmp_path / "corpus", "a.md", "# A\n\nalpha\n")
    job = queue.submit(runtime, "ingest", {"paths": [str(tmp_path / "corpus")]})
    first = JobStore(runtime.store).get(job.id)
    assert first.state == "done" and first.attempts == 1
    queue._task(job.id)  # the same message again
    assert JobStore(runtime.store).get(job.id) == first


def test_a_job_running_elsewhere_is_left_alone(tmp_path):
    runtime, queue, jobs = make(tmp_path)
    job = ingest_job(tmp_path, jobs)
    jobs.start(job.id, "elsewhere:7")  # alive: it beat just now
    state = run_job(runtime.store, runtime.embedder, job.id, jobs=jobs)
    assert state == "running"
    assert jobs.get(job.id).worker == "elsewhere:7" and jobs.get(job.id).attempts == 1
    assert runtime.store.count("documents") == 0


def test_two_workers_starting_one_job_at_once_claim_it_once(tmp_path):
    make(tmp_path)
    stores = [JobStore(Store.open(tmp_path / "data")) for _ in range(4)]
    for _ in range(10):
        job = stores[0].create("reindex", {})
        claims = race_to_start(stores, job.id)
        assert sum(c is not None for c in claims) == 1
        assert stores[0].get(job.id).attempts == 1


def race_to_start(stores: list[JobStore], job_id: str) -> list[Job | None]:
    """Every store (its own connection, as in separate workers) starts the job at once."""
    ready = threading.Barrier(len(stores))
    claims: list[Job | None] = []

    def claim(jobs: JobStore, n: int) -> None:
        ready.wait()
        claims.append(jobs.start(job_id, f"w:{n}"))

    threads = [threading.Thread(target=claim, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return claims


def test_a_stale_running_job_may_be_taken_over_but_not_a_live_one(tmp_path):
    runtime, _, jobs = make(tmp_path, stale=0.2)
    job = jobs.create("reindex", {})
    assert jobs.start(job.id, "a:1") is not None
    assert jobs.start(job.id, "b:2") is None  # a is alive
    time.sleep(0.3)
    taken = jobs.start(job.id, "b:2")  # a went silent
    assert taken is not None and taken.worker == "b:2" and taken.attempts == 2


# -- the embedded server -----------------------------------------------------------------


@pytest.mark.parametrize("previous", ["dead pid", "this process's own host:pid"])
def test_server_back_within_stale_time_finishes_the_job(tmp_path, dead_pid, previous):
    runtime, _, jobs = make(tmp_path, stale=60.0)
    job = ingest_job(tmp_path, jobs)
    # The server died mid-job seconds ago (a restarted container is pid 1 again).
    jobs.start(job.id, f"{HOST}:{dead_pid}" if previous == "dead pid" else worker_id())
    with TestClient(create_app(runtime=runtime, warm=False)):
        done = wait_for(lambda: jobs.get(job.id).state == "done" and jobs.get(job.id))
    assert done.attempts == 2 and runtime.store.count("documents") == 1


def test_server_recovers_periodically_not_only_at_start(tmp_path):
    runtime, _, jobs = make(tmp_path, stale=0.5)
    with TestClient(create_app(runtime=runtime, warm=False)):
        job = ingest_job(tmp_path, jobs)
        jobs.start(job.id, "elsewhere:9")  # after the start-up pass; then silent
        done = wait_for(lambda: jobs.get(job.id).state == "done" and jobs.get(job.id))
    assert done.attempts == 2
