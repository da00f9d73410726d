"""docs/deploy.md, run as written: its shell blocks, in order, as one script, against a
real PostgreSQL and Redis on loopback. The test only puts the servers' addresses (and
free ports) in place of the ones the page writes, prepares what the page says it
starts from (the demo corpus and a data folder made from it), and checks the end
state. A command on that page that does not work fails this test."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.store import open_store

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "deploy.md"
DATABASE = "postgresql://whoknows@127.0.0.1:5432/whoknows"
REDIS = "redis://127.0.0.1:6379/0"
PORTS = ("8101", "8102")


def blocks(page: Path) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", page.read_text(), re.DOTALL)


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def test_the_deployment_page_runs_as_written(tmp_path, pg_url, redis_url):
    script = "\n".join(blocks(PAGE))
    for written in (DATABASE, REDIS, *PORTS):
        assert written in script, f"docs/deploy.md no longer writes {written}"
    ports = {p: free_port() for p in PORTS}
    script = script.replace(DATABASE, pg_url).replace(REDIS, redis_url)
    for written, port in ports.items():
        script = script.replace(written, port)

    (tmp_path / "corpus").symlink_to(ROOT / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHOKNOWS_")}
    # The hashing model keeps the test fast; the folder and the database record it.
    # `whoknows` is this checkout's (the console script of `pip install -e .`).
    env.update(WHOKNOWS_EMBEDDER="hashing-2048", PYTHONPATH=str(ROOT),
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    subprocess.run([sys.executable, "-m", "api.cli", "ingest", "corpus/", "--data-dir",
                    "whoknows-data", "--json"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)

    log = tmp_path / "page.log"
    with open(log, "w") as out:
        page = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its servers and workers too
        try:
            code = page.wait(timeout=300)
            assert code == 0, f"docs/deploy.md failed (exit {code}):\n{log.read_text()}"
            printed = log.read_text()
            ready = [json.loads(m) for m in re.findall(r'\{"ready".*?\}', printed)]
            assert ready and ready[-1] == {"ready": True, "store": "postgresql",
                                           "generations_behind": 0, "queue": "ok"}, printed
            assert "store: postgresql" in printed  # whoknows status
        finally:
            os.killpg(page.pid, signal.SIGTERM)

    shared, laptop = open_store(pg_url), open_store(tmp_path / "laptop-copy")
    folder = open_store(tmp_path / "whoknows-data")
    assert shared.count("documents") == folder.count("documents") + 1  # and lag.md
    assert laptop.count("chunks") == folder.count("chunks")  # copied before the upload
    assert shared.get_document("lag.md").title == "Kafka consumer lag"
