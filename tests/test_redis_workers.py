"""Redis mode: a real redis-server on loopback, two worker processes sharing the jobs."""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import write

from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import JobStore

REDIS = shutil.which("redis-server")
if REDIS is None and not os.environ.get("CI"):
    pytest.skip("redis-server is not installed (apt-get install redis-server)",
                allow_module_level=True)


def test_two_workers_share_the_jobs(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048", redis_url=redis_url)
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048", "WHOKNOWS_REDIS_URL": redis_url,
           "WHOKNOWS_DATA_DIR": str(settings.data_dir)}
    runtime = Runtime.open(settings)
    cmd = [sys.executable, "-c", "from api.cli import main; main()", "worker"]
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        time.sleep(3)  # both consumers are polling
        queue = Queue.create(settings)
        jobs = []
        for n in range(6):
            folder = tmp_path / f"batch{n}"
            for i in range(150):
                write(folder, f"d{i}.md", f"---\nid: b{n}-{i}\n---\n" + " ".join(
                    f"w{(n * 7 + i * 3 + j) % 997}" for j in range(200)) + "\n")
            jobs.append(queue.submit(runtime, "ingest", {"paths": [str(folder)]}).id)
        store = JobStore(runtime.store)
        deadline = time.time() + 120
        while time.time() < deadline:
            if all(store.get(j).state in ("done", "failed") for j in jobs):
                break
            time.sleep(0.2)
        finished = [store.get(j) for j in jobs]
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=10)
    assert [j.state for j in finished] == ["done"] * 6
    assert len({j.worker for j in finished}) == 2  # both workers took jobs
    assert runtime.store.count("documents") == 900


def test_a_job_submitted_while_redis_is_down_is_kept_and_sent_when_it_is_back(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    assert REDIS, "CI installs redis-server; it is missing"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048", redis_url=url,
                        job_stale_after_s=0.5)
    runtime = Runtime.open(settings)
    write(tmp_path / "c", "a.md", "# Kafka\n\nkafka consumer lag\n")
    with TestClient(create_app(settings=settings, runtime=runtime, worker=False)) as client:
        # Nothing listens on the port: the job is recorded, not lost, and readyz says so.
        accepted = client.post("/api/admin/documents", json=[
            {"id": "k1", "title": "Kafka lag", "body": "kafka consumer lag runbook"}])
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()["id"]
        assert JobStore(runtime.store).get(job).state == "queued"
        ready = client.get("/readyz").json()
        assert ready["ready"] is True and ready["queue"] == "unreachable"
        server = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL)
        try:
            queue = Queue.create(settings)
            deadline = time.time() + 20
            while time.time() < deadline and not queue.reachable():
                time.sleep(0.05)
            assert client.get("/readyz").json()["queue"] == "ok"
            time.sleep(0.6)  # older than the stale time: recovery may send it again
            queue.recover(runtime.store)  # as the recovery thread does every few seconds
            assert job in queue._waiting()  # its message is on the queue now
        finally:
            server.terminate()
            server.wait(timeout=10)
