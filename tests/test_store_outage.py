"""PostgreSQL going away and coming back: a replica says so (503, naming the server) and
answers again once the server is back, without a restart (issue 16, point 5)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.errors import StoreUnavailable
from indexer.store import Store
from ingest.pipeline import Ingester


@pytest.fixture
def server(postgres):
    """A PostgreSQL server of this test's own, which it may stop and start."""
    from postgres_server import PostgresServer
    own = PostgresServer().start()
    yield own
    own.remove()


def test_a_replica_answers_503_while_the_database_is_away_and_recovers(tmp_path, server):
    settings = Settings(data_dir=tmp_path / "replica", embedder="hashing-2048",
                        database_url=server.url)
    runtime = Runtime.open(settings)
    write(tmp_path / "c", "a.md", "# Kafka\n\nkafka consumer lag\n")
    Ingester(runtime.store, runtime.embedder).ingest([tmp_path / "c"])
    app = create_app(runtime=runtime, warm=False, worker=False)
    with TestClient(app) as client:
        client.app.state.whoknows.warm_up()
        assert client.get("/readyz").json()["store"] == "postgresql"
        assert client.get("/api/search", params={"q": "kafka"}).json()["articles"]

        server.stop()
        down = client.get("/api/search", params={"q": "kafka"})
        assert down.status_code == 503
        assert f"127.0.0.1:{server.port}" in down.json()["error"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert "unreachable" in ready.json()["error"]

        server.start()
        back = client.get("/api/search", params={"q": "kafka"})
        assert back.status_code == 200 and back.json()["articles"]
        assert client.get("/readyz").json()["ready"] is True


def test_a_store_that_cannot_reach_its_server_says_which(tmp_path, server):
    server.stop()
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{server.port}.* unreachable"):
        Store.open_url(server.url)
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "--database-url", server.url,
                           "status", "--data-dir", str(tmp_path / "d")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unreachable" in done.stderr and server.url.split("@")[1].split("/")[0] in done.stderr
