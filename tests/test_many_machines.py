"""Whoknows on several machines, played by processes that share nothing but a PostgreSQL
store and a Redis queue: two `whoknows serve` replicas and two `whoknows worker`s, each
with a data folder of its own (as on four machines). A file uploaded through replica A
is ingested by a worker from the store (not from A's disk) and found through replica B;
a worker killed (kill -9) mid-job leaves the job to the other, which finishes it once;
a replica killed leaves the other answering.

Real servers on loopback: conftest's ``redis_url`` and ``pg_url`` (tests/postgres_server.py,
or WHOKNOWS_TEST_DATABASE_URL's server). Six processes and two servers, so it runs on its
own: marked ``e2e`` (make e2e, run in CI)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from invariants import check_documents, check_jobs_settled, check_store

from indexer.jobs import Job, JobStore
from indexer.store import Store

pytestmark = pytest.mark.e2e
MAIN = "from api.cli import main; main()"
NOTES = 300  # the long job: files of WORDS words each, in one upload
WORDS = 400


# -- processes -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, value: Callable[[], object], timeout: float = 60.0,
             every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = value()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class Machines:
    """The processes, each with its own data folder and log (read them when one fails)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        env = {**self.env, "WHOKNOWS_DATA_DIR": str(self.root / name)}
        with open(self.root / f"{name}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-c", MAIN, *args], env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted(self.root.glob("*.log")))


@pytest.fixture
def machines(tmp_path, pg_url, redis_url) -> Iterator[Machines]:
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
           "WHOKNOWS_DATABASE_URL": pg_url, "WHOKNOWS_REDIS_URL": redis_url,
           "WHOKNOWS_JOB_STALE_AFTER_S": "3"}
    group = Machines(tmp_path, env)
    try:
        yield group
    finally:
        group.stop_all()
        print(group.logs())  # pytest shows it when the test failed


# -- the HTTP side -------------------------------------------------------------------

def call(url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {},
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def ready(base: str) -> bool:
    try:
        return call(f"{base}/readyz", timeout=2)[0] == 200
    except OSError:
        return False


def found(base: str, query: str) -> list[str]:
    status, body = call(f"{base}/api/search?" + urllib.parse.urlencode({"q": query,
                                                                         "limit": 5}))
    assert status == 200, body
    return [a["id"] for a in body["articles"]]


def upload(base: str, files: list[tuple[str, str]]) -> str:
    boundary = "whoknows-e2e-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="{name}"\r\nContent-Type: text/markdown\r\n\r\n{text}\r\n'
             for name, text in files]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    status, job = call(f"{base}/api/admin/documents", body, timeout=60, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    assert status == 202, job
    return job["id"]


def words(i: int) -> str:
    return " ".join(f"w{(i * 7919 + j * 104729) % 49999}" for j in range(WORDS))


def settled(jobs: JobStore, job_id: str) -> Job | None:
    job = jobs.get(job_id)
    return job if job.state in ("done", "failed", "dead") else None


def pid_of(worker: str | None) -> int:
    return int((worker or ":0").rpartition(":")[2])


# -- the test --------------------------------------------------------------------------

def test_upload_on_one_machine_ingested_on_another_found_on_a_third(machines, pg_url,
                                                                     tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kafka.md").write_text("---\nid: kb-1\ntitle: Kafka retention\n---\nkafka\n")
    machines.start("seed", "ingest", str(corpus)).wait(timeout=120)
    store = Store.open_url(pg_url)
    jobs = JobStore(store)
    ports = {"a": free_port(), "b": free_port()}
    for name, port in ports.items():
        machines.start(name, "serve", "--port", str(port))
    workers = {name: machines.start(name, "worker") for name in ("w1", "w2")}
    a, b = (f"http://127.0.0.1:{port}" for port in ports.values())
    wait_for("both replicas", lambda: ready(a) and ready(b), timeout=90, every=0.2)

    # 1. Uploaded through A, ingested by a worker from the store, found through B.
    sent = time.monotonic()
    job_id = upload(a, [("cranes.md", "# Harbour cranes\n\ncrane maintenance at the quay\n")])
    wait_for("B to find the upload", lambda: "cranes.md" in found(b, "crane maintenance"),
             timeout=60, every=0.05)
    visible_s = time.monotonic() - sent
    print(f"\nuploaded through A, found through B after {visible_s:.2f} s")
    job = wait_for("the job", lambda: settled(jobs, job_id))
    assert isinstance(job, Job) and (job.state, job.attempts) == ("done", 1), job
    holder = next(n for n, p in workers.items() if p.pid == pid_of(job.worker))
    assert (tmp_path / holder / "uploads" / "documents" / "cranes.md").is_file()
    for other in ("a", "b", "w1", "w2"):  # the file lives only where it was ingested
        if other != holder:
            assert not (tmp_path / other / "uploads" / "documents").exists(), other
    assert store.get_document("cranes.md").source == str(
        (tmp_path / holder / "uploads" / "documents" / "cranes.md").resolve())
    assert store.count("uploads") == 0  # ingested: the bytes are no longer kept

    # 2. The worker running a long job is killed; the other finishes the job, once.
    notes = [(f"n{i:04}.md", f"# Note {i}\n\n{words(i)}\n") for i in range(NOTES)]
    long_id = upload(a, notes)
    running = wait_for("a worker to start", lambda: (j := jobs.get(long_id)).state == "running"
                       and j.done > 0 and j.worker and j)
    assert isinstance(running, Job)
    killed = next(n for n, p in workers.items() if p.pid == pid_of(running.worker))
    survivor = next(n for n in workers if n != killed)
    wait_for("some notes committed", lambda: store.count("documents") >= 2 + NOTES // 10,
             every=0.02)
    machines.kill(killed)
    committed = store.count("documents") - 2
    assert committed < NOTES, "the job ended before the kill: it proves nothing"
    done = wait_for("the long job to end", lambda: settled(jobs, long_id), timeout=120)
    assert isinstance(done, Job)
    assert (done.state, done.attempts) == ("done", 2), done
    assert pid_of(done.worker) == workers[survivor].pid
    counts = done.summary["documents"]  # the second run found what the first committed
    assert counts["unchanged"] >= committed and counts["unchanged"] + counts["added"] == NOTES
    check_documents(store, {"kb-1": "Kafka retention", "cranes.md": "Harbour cranes",
                            **{name: f"Note {i}" for i, (name, _) in enumerate(notes)}})
    check_store(store)  # each passage once, every document whole
    check_jobs_settled(store)
    assert store.count("uploads") == 0
    assert (tmp_path / survivor / "uploads" / "documents" / "n0299.md").is_file()
    assert "n0007.md" in found(b, words(7).split()[0] + " " + words(7).split()[1])

    # 3. Replica A killed: B answers on, with everything.
    machines.kill("a")
    assert found(b, "kafka") == ["kb-1"] and found(b, "crane maintenance")[0] == "cranes.md"
    status, readiness = call(f"{b}/readyz")
    assert status == 200 and readiness["store"] == "postgresql", readiness
