from __future__ import annotations

import os
import textwrap
from pathlib import Path

import backends
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from indexer.embedders import E5Embedder, HashingEmbedder, make_embedder
from indexer.indexes import DerivedIndexes
from indexer.store import Store
from ingest.pipeline import Ingester
from search.answers import Answerer

DATA = Path(__file__).parent / "data"


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting how many texts it was asked to embed."""

    def __init__(self, dim: int = 2048) -> None:
        super().__init__(dim)  # wide enough that no two test words share a bucket
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def store() -> Store:
    return backends.test_store()


@pytest.fixture
def ingester(store, embedder) -> Ingester:
    return Ingester(store, embedder)


@pytest.fixture
def client(runtime):
    """A test client over the module's own ``runtime`` fixture, warmed up: tests also read
    the store directly, so the background warm-up must be over first."""
    with TestClient(create_app(runtime=runtime)) as c:
        c.app.state.whoknows.warm_up()
        yield c


@pytest.fixture(scope="session")
def e5(tmp_path_factory) -> dict[str, E5Embedder]:
    """Both e5 kinds over one cache: fp32 exports (about half a minute on 2 cores) and
    keeps its file, which int8 then only quantises."""
    cache = tmp_path_factory.mktemp("e5-models")
    models = {kind: make_embedder(kind, cache, threads=2) for kind in ("e5-fp32", "e5-int8")}
    for model in models.values():
        model.warm_up()
    return models


def write(root: Path, name: str, content: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content).lstrip())
    return path


def answerer_for(store: Store, embedder) -> Answerer:
    dim = embedder.dim
    return Answerer(store, DerivedIndexes.build(store, dim), embedder)


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="session")
def demo_ingest(tmp_path_factory):
    """The demo corpus ingested once per run with the model a new folder starts with
    (the real MiniLM; `whoknows ingest` then moves the demo folder on to e5, which
    tests/test_language_advice.py's multilingual test covers): ``(data folder,
    report)``. Modules take a copy through ``demo_copy``, so what one changes (keys,
    documents) never reaches another."""
    import json

    from api.runtime import Runtime
    from api.settings import Settings

    data = tmp_path_factory.mktemp("demo-pristine")
    runtime = Runtime.open(Settings(data_dir=data))
    report = Ingester(runtime.store, runtime.embedder).ingest([CORPUS])
    runtime.refresh_indexes()  # the FAISS and BM25 files, saved with the folder
    runtime.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (data / "ingest-report.json").write_text(json.dumps(report.to_dict()))
    return data, report


def demo_copy(demo_ingest, tmp_path_factory, name: str):
    """A private copy of the ingested demo data folder, opened: ``(runtime, report)``."""
    import shutil

    from api.runtime import Runtime
    from api.settings import Settings

    source, report = demo_ingest
    target = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(source, target)
    return Runtime.open(Settings(data_dir=target)), report


def wait_for_job(client, job_id: str, timeout: float = 30) -> dict:
    """The job once it has ended (done, failed or dead), as the admin API shows it."""
    import time

    deadline = time.time() + timeout
    job: dict = {}
    while time.time() < deadline:
        job = client.get(f"/api/admin/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "dead"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def ingested(tmp_path: Path, corpus: Path):
    """A runtime (hashing embedder) over ``corpus``, ingested without a failure."""
    from api.runtime import Runtime
    from api.settings import Settings

    rt = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    report = Ingester(rt.store, rt.embedder).ingest([corpus])
    assert report.failed == []
    return rt


# -- PostgreSQL: a real server on loopback (tests/postgres_server.py) -----------------

@pytest.fixture(scope="session")
def postgres():
    """The base URL of a PostgreSQL server started for this test run (or the one named
    by WHOKNOWS_TEST_DATABASE_URL). Without PostgreSQL the test is skipped here, and
    fails in CI, which must run it."""
    if backends.SERVER:
        yield backends.SERVER
        return
    from postgres_server import PostgresServer, binaries
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing = "psycopg is not installed"
    else:
        missing = None if binaries() else "PostgreSQL is not installed"
    if missing:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            f"{missing} (apt-get install postgresql)")
    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.remove()


@pytest.fixture(scope="session", autouse=backends.ON_POSTGRESQL)
def _engine_under_test(request):
    """With WHOKNOWS_TEST_ENGINE=postgresql, every store the tests make is on the test
    server (tests/backends.py)."""
    if backends.ON_POSTGRESQL:
        backends.use_server(request.getfixturevalue("postgres"))


@pytest.fixture
def pg_url(postgres):
    """A fresh empty database on the test server, as a URL; dropped after the test,
    with any connection to it still open."""
    from postgres_server import drop_database
    url = backends.fresh_database_url(postgres)
    yield url
    drop_database(url)


# -- Redis: a real redis-server on loopback ----------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url():
    """A redis-server of the test's own on loopback, as a URL. Without redis-server the
    test is skipped here, and fails in CI, which installs it."""
    import shutil
    import socket
    import subprocess
    import time
    binary = shutil.which("redis-server")
    if binary is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save",
                               "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
