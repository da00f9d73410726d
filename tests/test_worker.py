"""Workers are separate processes; killing one mid-job loses and duplicates nothing."""

import os
import signal
import subprocess
import sys
import time

from conftest import write

from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import JobStore


def start_worker(env, *args):
    cmd = [sys.executable, "-c", "from api.cli import main; main()", "worker", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_killed_worker_loses_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    for i in range(600):
        write(corpus, f"d{i:03}.md", f"# Note {i}\n\n" + " ".join(
            f"w{(i * 13 + j) % 1999}" for j in range(300)) + "\n")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
           "WHOKNOWS_DATA_DIR": str(settings.data_dir)}
    runtime = Runtime.open(settings)
    job = Queue.create(settings).submit(runtime, "ingest", {"paths": [str(corpus)]})
    jobs = JobStore(runtime.store)

    first = start_worker(env, "--stale-after", "3")
    wait_for(lambda: runtime.store.count("documents") >= 50)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert jobs.get(job.id).state == "running"  # left behind by the dead worker

    second = start_worker(env, "--stale-after", "3")
    try:
        done = wait_for(lambda: jobs.get(job.id).state in ("done", "failed") and jobs.get(job.id))
    finally:
        second.terminate()
        second.wait(timeout=10)
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
