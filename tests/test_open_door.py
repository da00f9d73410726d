"""Open mode (no key: everyone is admin) exists only on loopback, decided per request."""

import backends
import pytest
from conftest import write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing
from ingest.pipeline import Ingester


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime.open(backends.settings(tmp_path / "data", embedder="hashing-2048"))
    write(tmp_path / "c", "a.md", "# Kafka\n\nkafka consumer lag\n")
    Ingester(rt.store, rt.embedder).ingest([tmp_path / "c"])
    return rt


def _client(runtime, host):
    return TestClient(create_app(runtime=runtime, warm=False, worker=False, bind_host=host))


def test_revoking_the_last_key_of_a_public_server_closes_it(runtime):
    ring = KeyRing(runtime.store)
    key, secret = ring.add("admin")
    with _client(runtime, "0.0.0.0") as client:
        assert client.get("/api/admin/jobs", headers={"Authorization": f"Bearer {secret}"}
                          ).status_code == 200
        ring.revoke(key.id)
        for headers in ({}, {"Authorization": f"Bearer {secret}"}):
            r = client.get("/api/admin/jobs", headers=headers)
            assert r.status_code == 401, headers
            assert "no active API key" in r.json()["error"] or "revoked" in r.json()["error"]
        assert client.get("/api/search", params={"q": "kafka"}).status_code == 401
        assert client.get("/", params={"q": "kafka"}).status_code == 401
        # A new key opens it again, to its holder only.
        _, fresh = ring.add("reader")
        assert client.get("/api/search", params={"q": "kafka"},
                          headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        assert client.get("/api/search", params={"q": "kafka"}).status_code == 401


def test_a_public_server_without_keys_answers_nobody(runtime):
    with _client(runtime, "0.0.0.0") as client:
        r = client.get("/api/admin/jobs")
        assert r.status_code == 401
        assert "whoknows keys add" in r.json()["detail"]


def test_loopback_server_without_keys_is_open_but_refuses_a_revoked_key(runtime):
    ring = KeyRing(runtime.store)
    key, secret = ring.add("admin")
    ring.revoke(key.id)
    with _client(runtime, "127.0.0.1") as client:
        assert client.get("/api/admin/jobs").status_code == 200  # open: this machine only
        r = client.get("/api/admin/jobs", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 401  # a key that is sent is checked, even when open


def test_settings_survive_the_trip_to_the_server_processes(tmp_path):
    """`serve --workers N` hands its settings to each process through the environment."""
    settings = Settings(data_dir=tmp_path / "d", embedder="hashing-64", max_upload_mb=7,
                        reindex_roots=(tmp_path / "a", tmp_path / "b"), max_job_attempts=5,
                        job_stale_after_s=4.5, model_threads=1,
                        database_url="postgresql://whoknows@db.example/whoknows")
    assert Settings.from_env(settings.to_env()) == Settings(
        **{**settings.__dict__, "data_dir": settings.data_dir.resolve()})
