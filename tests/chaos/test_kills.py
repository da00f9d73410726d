"""kill -9 of ingest, reindex, the server and a worker at random points; the invariants
(tests/invariants.py) hold after each, once the killed command is run again or the
system restarted: a whole store, indexes equal to it by content, nothing accepted lost,
no job left unfinished, no temporary file left.

Slow (minutes), so the default run leaves them out: ``make chaos`` runs them, and CI
does after ``make test``. The kill points come from a fixed seed: a failure names its
point, and the same point comes back on the next run.
"""

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import backends
import pytest
from conftest import write
from invariants import (
    check_documents,
    check_indexes,
    check_jobs_settled,
    check_no_leftovers,
    check_saved_indexes,
    check_store,
    leftovers,
)

from api.queue import Queue
from api.runtime import Runtime
from indexer.jobs import Job, JobStore
from ingest.pipeline import Ingester

pytestmark = pytest.mark.chaos
MAIN = "from api.cli import main; main()"
SEED = 12
REDIS = shutil.which("redis-server")


def fractions(scenario: str, count: int, low: float, high: float) -> list[float]:
    """``count`` kill points for ``scenario``: shares of its work, from the fixed seed."""
    rng = random.Random(f"{SEED}:{scenario}")
    return sorted(round(rng.uniform(low, high), 2) for _ in range(count))


# -- processes, data, waiting ---------------------------------------------------------

def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048", "WHOKNOWS_DATA_DIR": str(data),
            "WHOKNOWS_JOB_STALE_AFTER_S": "2", **backends.env(data), **extra}


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """``whoknows ARGS`` in the background, its output in ``log`` (read it when one fails)."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", MAIN, *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], every: float = 0.02,
              timeout: float = 120.0) -> None:
    """SIGKILL ``proc`` as soon as ``ready()``. It must still run then: a command that
    ended first was never interrupted, and the test would prove nothing."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"it ended (exit {proc.returncode}) before the kill point"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(every)
    assert proc.poll() is None, f"it ended (exit {proc.returncode}) before the kill point"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def wait_for(what: str, value: Callable[[], object], timeout: float = 120.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = value()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=30)


def documents(data: Path) -> int:
    """Documents committed so far, read without taking any lock a writer could wait on."""
    url = backends.database_for(data)
    if url:
        import psycopg
        try:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        except psycopg.Error:  # not created yet
            return 0
    db = data / "whoknows.db"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def reached(point: float | str, data: Path, total: int) -> tuple[Callable[[], bool], float]:
    """When to kill, and how often to look: once ``point * total`` documents are
    committed, or for "saving NAME" while NAME's temporary file is there (being written)."""
    if isinstance(point, str):
        name = point.removeprefix("saving ")
        return (lambda: any(data.glob(f"{name}.*.tmp"))), 0.001
    return (lambda: documents(data) >= point * total), 0.02


def text(i: int, words: int) -> str:
    """Words of their own for note ``i`` (sharing some with others), ``words`` long."""
    return " ".join(f"w{(i * 7919 + j * 104729) % 49999}" for j in range(words))


def notes(folder: Path, count: int, words: int) -> dict[str, str]:
    """``count`` Markdown notes; returns their document ids and titles."""
    for i in range(count):
        write(folder, f"n{i:04}.md",
              f"---\nid: n-{i:04}\ntitle: Note {i}\n---\n{text(i, words)}\n")
    return {f"n-{i:04}": f"Note {i}" for i in range(count)}


def settled(jobs: JobStore, job_id: str) -> Job | None:
    job = jobs.get(job_id)
    return job if job.state in ("done", "failed", "dead") else None


# -- ingest ----------------------------------------------------------------------------

INGEST_NOTES = 400
# Shares of the notes committed when the kill comes; the last point is while the
# ingest saves the vector index, after every note is committed.
INGEST_POINTS = [*fractions("ingest", 3, 0.05, 0.9), "saving vectors.faiss"]


@pytest.mark.parametrize("point", INGEST_POINTS)
def test_ingest_killed_then_run_again_loses_nothing(tmp_path, point):
    expected = notes(tmp_path / "corpus", INGEST_NOTES, 400)
    data = tmp_path / "data"
    env, command = env_for(data), ("ingest", str(tmp_path / "corpus"), "--json")
    kill_when(start(env, tmp_path / "ingest.log", *command),
              *reached(point, data, INGEST_NOTES))

    store = backends.open_store(data)
    check_store(store)  # as the kill left it
    committed = store.count("documents")
    check_indexes(data)  # loaded as the server loads them: caught up with the store
    check_no_leftovers(data)

    again = subprocess.run([sys.executable, "-c", MAIN, *command], env=env, check=True,
                           capture_output=True, text=True)
    report = json.loads(again.stdout)["documents"]
    assert (report["unchanged"], report["added"]) == (committed, INGEST_NOTES - committed)
    check_documents(store, expected)
    check_store(store)
    check_indexes(data)
    check_no_leftovers(data)


# -- re-embed --------------------------------------------------------------------------

REEMBED_NOTES = 300
REEMBED_POINTS = fractions("reembed", 2, 0.1, 0.9)  # shares of the documents re-embedded


def reembedded(data: Path) -> int:
    """Documents with a new vector waiting in the re-embed's side table (0 before it is)."""
    url = backends.database_for(data)
    try:
        if url:
            import psycopg
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM reembed_documents").fetchone()[0]
        db = data / "whoknows.db"
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM reembed_documents").fetchone()[0]
    except Exception:  # noqa: BLE001 -- not created yet
        return 0


@pytest.mark.parametrize("point", REEMBED_POINTS)
def test_reembed_killed_then_run_again_moves_everything_once(tmp_path, point):
    """Killed while it embeds, a move to another model leaves the folder on its old
    model, whole; run again, it resumes and moves every passage, and the indexes follow."""
    expected = notes(tmp_path / "corpus", REEMBED_NOTES, 200)
    data = tmp_path / "data"
    runtime = Runtime.open(backends.settings(data, embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([tmp_path / "corpus"])
    runtime.refresh_indexes()
    env, command = env_for(data, WHOKNOWS_EMBEDDER=""), ("reembed", "hashing-1024", "--json")
    kill_when(start(env, tmp_path / "reembed.log", *command),
              lambda: reembedded(data) >= point * REEMBED_NOTES, every=0.005)

    store = backends.open_store(data)
    assert store.get_meta("embedder") == "hashing-2048"  # nothing switched
    check_store(store)
    check_indexes(data)
    done = reembedded(data)
    assert 0 < done < REEMBED_NOTES

    again = subprocess.run([sys.executable, "-c", MAIN, *command], env=env, check=True,
                           capture_output=True, text=True)
    report = json.loads(again.stdout)
    assert report["switched"] and report["resumed"] == done
    assert report["documents"] == REEMBED_NOTES - done
    assert store.get_meta("embedder") == "hashing-1024" and store.get_meta("dim") == "1024"
    check_documents(store, expected)
    check_store(store)  # every passage's vector of the new dimension among its checks
    check_indexes(data)
    check_no_leftovers(data)


# -- reindex ---------------------------------------------------------------------------

# Shares of a whole re-index's time (the first ~40% is Python starting), then the two
# moments it replaces an index file.
REINDEX_POINTS = [*fractions("reindex", 3, 0.45, 0.85), "saving vectors.faiss",
                  "saving keywords.npz"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, float]:
    """A data folder of 6,000 passages with its indexes saved, and how long a re-index
    of it takes from the command's start."""
    root = tmp_path_factory.mktemp("reindex")
    notes(root / "corpus", 2000, 400)
    data = root / "data"
    runtime = Runtime.open(backends.settings(data, embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([root / "corpus"])
    runtime.refresh_indexes()
    if runtime.store.backend == "sqlite":
        runtime.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", MAIN, "reindex"], env=env_for(data), check=True,
                   capture_output=True)
    return data, time.monotonic() - began


@pytest.mark.parametrize("point", REINDEX_POINTS)
def test_reindex_killed_leaves_the_old_or_the_new_indexes_whole(tmp_path, indexed, point):
    source, duration = indexed
    data = tmp_path / "data"
    shutil.copytree(source, data)
    backends.share(data, source)  # on PostgreSQL: the copy is of the indexes only
    began = time.monotonic()
    if isinstance(point, str):
        ready, every = reached(point, data, 0)
    else:
        ready, every = (lambda: time.monotonic() - began >= point * duration), 0.005
    kill_when(start(env_for(data), tmp_path / "reindex.log", "reindex"), ready, every)

    if isinstance(point, str):
        assert leftovers(data), "the kill was to come while an index file was written"
    store = backends.open_store(data)
    # A re-index changes no passage, so the old files and the new equal the store alike;
    # a file half written, or one file of the new index beside the other of the old, not.
    check_saved_indexes(store, data)
    check_store(store)
    check_indexes(data)  # and the next load removes what the killed writer left
    check_no_leftovers(data)


# -- the server, running an upload's job in its embedded queue ---------------------------

RECORDS = 300
# Shares of the records committed when the server is killed (0: just after the upload
# was accepted; its job may not have started), and while the job saves the indexes.
SERVER_POINTS = [0.0, *fractions("server", 3, 0.05, 0.8), "saving keywords.npz"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``whoknows serve`` on a free loopback port, open (no keys), once /readyz says so."""
    port = free_port()
    server = start(env, log, "serve", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert server.poll() is None, f"the server stopped (exit {server.returncode}): {log}"
        with contextlib.suppress(OSError):
            return call(f"{base}/readyz")[0] == 200
        return False

    try:
        wait_for("the server to be ready", ready, timeout=60)
        yield server, base
    finally:
        stop(server)


def ended(base: str, job_id: str) -> dict | None:
    job = call(f"{base}/api/admin/jobs/{job_id}")[1]
    return job if job["state"] in ("done", "failed", "dead") else None


@pytest.mark.parametrize("point", SERVER_POINTS)
def test_server_killed_mid_upload_finishes_the_job_after_restart(tmp_path, point):
    data, log = tmp_path / "data", tmp_path / "serve.log"
    env = env_for(data)
    records = [{"id": f"r-{i:03}", "title": f"Record {i}", "body": f"topic{i} {text(i, 1500)}"}
               for i in range(RECORDS)]
    with serving(env, log) as (server, base):
        status, job = call(f"{base}/api/admin/documents", records)
        assert status == 202, job
        kill_when(server, *reached(point, data, RECORDS))
    left = JobStore(backends.open_store(data)).get(job["id"])
    assert left.state in (("queued", "running") if point == 0.0 else ("running",)), left

    # Back at once, well within the stale time: the dead pid says the job was lost.
    with serving(env, log) as (_, base):
        done = wait_for("the job to end", lambda: ended(base, job["id"]))
        assert (done["state"], done["attempts"]) == ("done", left.attempts + 1), done
        found = call(f"{base}/api/search?q=topic{RECORDS - 1}")[1]
        assert found["articles"][0]["id"] == f"r-{RECORDS - 1:03}"  # the server's index has it
    store = backends.open_store(data)
    check_jobs_settled(store)
    check_documents(store, {r["id"]: r["title"] for r in records})
    check_store(store)
    check_indexes(data)
    check_no_leftovers(data)


# -- a worker in Redis mode --------------------------------------------------------------

WORKER_NOTES = 600
# Shares of the notes committed, and while the job saves the indexes.
WORKER_POINTS = [*fractions("worker", 3, 0.05, 0.7), "saving keywords.npz"]


@pytest.mark.parametrize("point", WORKER_POINTS)
def test_worker_killed_mid_job_another_finishes_it_once(tmp_path, redis_url, point):
    expected = notes(tmp_path / "corpus", WORKER_NOTES, 600)
    data, log = tmp_path / "data", tmp_path / "worker.log"
    settings = backends.settings(data, embedder="hashing-2048", redis_url=redis_url)
    env = env_for(data, WHOKNOWS_REDIS_URL=redis_url)
    runtime = Runtime.open(settings)
    job = Queue.create(settings).submit(runtime, "ingest", {"paths": [str(tmp_path / "corpus")]})
    kill_when(start(env, log, "worker"), *reached(point, data, WORKER_NOTES))
    jobs = JobStore(runtime.store)
    assert jobs.get(job.id).state == "running"  # left behind by the dead worker
    committed = runtime.store.count("documents")

    second = start(env, log, "worker")
    try:
        done = wait_for("the job to end", lambda: settled(jobs, job.id))
    finally:
        stop(second)
    assert isinstance(done, Job)
    assert (done.state, done.attempts) == ("done", 2), done
    assert done.worker and done.worker.endswith(f":{second.pid}")
    counts = done.summary["documents"]  # the second attempt found what the first committed
    assert (counts["unchanged"], counts["added"]) == (committed, WORKER_NOTES - committed)
    check_jobs_settled(runtime.store)
    check_documents(runtime.store, expected)
    check_store(runtime.store)
    check_indexes(data)
    check_no_leftovers(data)
