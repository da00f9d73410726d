"""Two `whoknows serve` processes on one data folder, each with its own derived indexes
in memory: a document uploaded through one is found through the other (it catches up
from the store's change log before its next search), and killing one with SIGKILL
leaves the other answering. One machine and one SQLite store: replicas on several
machines need a store they can all reach, which whoknows does not have yet."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import write
from test_server import free_port, get, wait_ready


def post_json(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def found(base: str, query: str) -> list[str]:
    status, body = get(f"{base}/api/search?q={query}")
    assert status == 200
    return [a["id"] for a in body["articles"]]


def test_a_document_uploaded_through_one_server_is_found_through_the_other(tmp_path):
    write(tmp_path / "corpus", "a.md", "---\nid: kb-1\ntitle: Kafka retention\n---\nkafka\n")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
           "WHOKNOWS_DATA_DIR": str(tmp_path / "data")}
    env.pop("WHOKNOWS_REDIS_URL", None)
    cli = [sys.executable, "-c", "from api.cli import main; main()"]
    subprocess.run([*cli, "ingest", str(tmp_path / "corpus")], env=env, check=True,
                   capture_output=True)
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([*cli, "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for port in ports]
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        wait_ready(a, 60)
        wait_ready(b, 60)
        assert found(b, "cranes") == []
        status, job = post_json(f"{a}/api/admin/documents", [
            {"id": "r-1", "title": "Harbour cranes", "body": "crane maintenance at the quay"}])
        assert status == 202
        deadline = time.time() + 30
        while "r-1" not in found(b, "cranes"):
            assert time.time() < deadline, "B never found the document uploaded through A"
            time.sleep(0.2)
        assert get(f"{b}/readyz")[1]["generations_behind"] == 0
        servers[0].send_signal(signal.SIGKILL)
        servers[0].wait(timeout=10)
        assert found(b, "kafka") == ["kb-1"] and found(b, "cranes") == ["r-1"]
        assert get(f"{b}/readyz") == (200, {"ready": True, "store": "sqlite",
                                            "generations_behind": 0, "queue": "ok"})
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=20)
