"""Workers are separate processes; killing one mid-job loses and duplicates nothing.

The kills take seconds each: they run with the fault-injection set (``make chaos``, in
CI), not in the default loop."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import write

from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import JobStore

MAIN = "from api.cli import main; main()"
# A worker whose every ingest kills it on the spot, as a reader that crashes the process would.
SUICIDAL = ("import os; import ingest.pipeline as p; "
            "p.Ingester.ingest = lambda *a, **k: os._exit(9); " + MAIN)


def start_worker(env, *args, code=MAIN):
    cmd = [sys.executable, "-c", code, "worker", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def setup(tmp_path, documents=600):
    corpus = tmp_path / "corpus"
    for i in range(documents):
        write(corpus, f"d{i:03}.md", f"# Note {i}\n\n" + " ".join(
            f"w{(i * 13 + j) % 1999}" for j in range(300)) + "\n")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
           "WHOKNOWS_DATA_DIR": str(settings.data_dir)}
    runtime = Runtime.open(settings)
    job = Queue.create(settings).submit(runtime, "ingest", {"paths": [str(corpus)]})
    return runtime, env, job, JobStore(runtime.store)


def stop(*workers):
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        worker.wait(timeout=10)


@pytest.mark.chaos
def test_a_killed_worker_loses_nothing(tmp_path):
    runtime, env, job, jobs = setup(tmp_path)
    first = start_worker(env)
    wait_for(lambda: runtime.store.count("documents") >= 50)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert jobs.get(job.id).state == "running"  # left behind by the dead worker

    # Back long before the stale time: the dead pid on this machine says the job is lost.
    second = start_worker(env, "--stale-after", "600")
    try:
        done = wait_for(lambda: jobs.get(job.id).state in ("done", "failed") and jobs.get(job.id))
    finally:
        stop(second)
    assert done.state == "done" and done.attempts == 2
    # Every document exactly once, each with its passages; the retry found the committed ones.
    assert runtime.store.count("documents") == 600
    counts = done.summary["documents"]
    assert counts["added"] + counts["unchanged"] == 600 and counts["unchanged"] >= 50
    dupes = runtime.store.db.execute(
        "SELECT count(*) FROM (SELECT doc_id, ordinal FROM chunks GROUP BY doc_id, ordinal "
        "HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0
    assert runtime.store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == \
        runtime.store.count("chunks")


@pytest.mark.chaos
def test_job_of_a_worker_killed_mid_run_is_requeued_without_restart(tmp_path):
    runtime, env, job, jobs = setup(tmp_path)
    workers = [start_worker(env, "--stale-after", "600") for _ in range(2)]
    try:
        holder = wait_for(lambda: jobs.get(job.id).worker)
        wait_for(lambda: runtime.store.count("documents") >= 50)
        victim = next(w for w in workers if holder.endswith(f":{w.pid}"))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        # Nobody restarts: the other worker's periodic check finds the job lost.
        done = wait_for(lambda: jobs.get(job.id).state in ("done", "failed") and jobs.get(job.id))
    finally:
        stop(*workers)
    survivor = next(w for w in workers if w is not victim)
    assert done.state == "done" and done.attempts == 2
    assert done.worker.endswith(f":{survivor.pid}")
    assert runtime.store.count("documents") == 600


@pytest.mark.chaos
def test_job_that_kills_every_worker_ends_dead_not_in_a_restart_loop(tmp_path):
    runtime, env, job, jobs = setup(tmp_path, documents=3)
    env = {**env, "WHOKNOWS_MAX_JOB_ATTEMPTS": "2"}  # three in production; two keep this short
    pids = []
    for _ in range(2):  # each start re-queues the job its predecessor died on, and dies
        worker = start_worker(env, code=SUICIDAL)
        assert worker.wait(timeout=60) == 9
        pids.append(worker.pid)
    assert jobs.get(job.id).attempts == 2
    last = start_worker(env)  # a sound worker gives up on it instead of dying once more
    try:
        dead = wait_for(lambda: jobs.get(job.id).state == "dead" and jobs.get(job.id))
    finally:
        stop(last)
    assert dead.attempts == 2 and dead.worker.endswith(f":{pids[-1]}")
    assert dead.errors[0]["reason"] == ("gave up after 2 attempts: the worker stopped each "
                                        f"time (last on {dead.worker})")
    assert runtime.store.count("documents") == 0


def test_a_worker_runs_its_model_on_the_threads_it_is_given(tmp_path):
    """WHOKNOWS_MODEL_THREADS (or `whoknows worker --threads`): several workers on one
    machine take a core each instead of one thread per core each."""
    env = {"WHOKNOWS_DATA_DIR": str(tmp_path / "d"), "WHOKNOWS_EMBEDDER": "hashing-64",
           "WHOKNOWS_MODEL_THREADS": "1"}
    assert Runtime.open(Settings.from_env(env)).threads == 1
    assert Runtime.open(Settings.from_env(env), threads=2).threads == 2  # a server's own
    del env["WHOKNOWS_MODEL_THREADS"]
    assert Runtime.open(Settings.from_env(env)).threads is None  # one per core
