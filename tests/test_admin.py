
import pytest
from conftest import DATA, wait_for_job, write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048", max_upload_mb=1)
    with TestClient(create_app(runtime=Runtime.open(settings))) as c:
        c.app.state.whoknows.warm_up()
        yield c


def test_upload_files_runs_an_ingest_job_and_search_sees_it(client, tmp_path):
    md = write(tmp_path, "kafka.md", "---\nid: kb-k\ntitle: Kafka retention\n---\nkafka audit\n")
    files = [("files", ("kafka.md", md.read_bytes(), "text/markdown")),
             ("files", ("handbook.pdf", (DATA / "handbook.pdf").read_bytes(), "application/pdf"))]
    r = client.post("/api/admin/documents", files=files)
    assert r.status_code == 202, r.text
    job = wait_for_job(client, r.json()["id"])
    assert job["state"] == "done" and job["summary"]["documents"]["added"] == 2
    assert job["done"] == job["total"] == 2
    found = client.get("/api/search", params={"q": "kafka audit"}).json()
    assert found["articles"][0]["id"] == "kb-k"
    assert [j["id"] for j in client.get("/api/admin/jobs").json()] == [job["id"]]


def test_json_records_for_people_and_documents(client):
    r = client.post("/api/admin/people", json=[{"id": "p-x", "name": "Xi",
                                                "skills": [{"name": "Rust", "level": 4}]}])
    wait_for_job(client, r.json()["id"])
    r = client.post("/api/admin/documents", json=[{"id": "d-r", "title": "Rust borrow checker",
                                                   "body": "rust lifetimes", "authors": ["p-x"]}])
    assert wait_for_job(client, r.json()["id"])["state"] == "done"
    experts = client.get("/api/experts", params={"q": "rust lifetimes"}).json()["experts"]
    assert experts[0]["id"] == "p-x"
    assert client.delete("/api/admin/documents/d-r").json() == {"deleted": "d-r"}
    assert client.get("/api/search", params={"q": "rust lifetimes"}).json()["articles"] == []
    assert client.delete("/api/admin/people/p-x").status_code == 200
    assert client.delete("/api/admin/people/p-x").status_code == 404


@pytest.mark.parametrize("files, status, words", [
    ([("files", ("x.xyz", b"zz", "application/octet-stream"))], 422, "unknown extension"),
    ([("files", ("bad.pdf", (DATA / "corrupt.pdf").read_bytes(), "application/pdf"))], 422,
     "corrupt or unreadable PDF"),
    ([("files", ("big.txt", b"a " * 600_000, "text/plain"))], 413, "larger than 1 MB"),
])
def test_bad_uploads_are_refused_with_the_reason(client, files, status, words):
    r = client.post("/api/admin/documents", files=files)
    assert r.status_code == status and words in r.json()["error"]
    assert client.get("/api/admin/jobs").json() == []


def test_bad_json_is_refused(client):
    r = client.post("/api/admin/documents", content=b"{nope",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]
    r = client.post("/api/admin/documents", json=[{"id": "x"}])
    assert r.status_code == 422 and "no text" in r.json()["error"]


def test_reindex_rebuilds_the_vector_and_keyword_indexes(client):
    r = client.post("/api/admin/documents", json=[{"id": "d1", "body": "alpha beta"}])
    wait_for_job(client, r.json()["id"])
    data = client.app.state.whoknows.runtime.settings.data_dir
    for name in ("vectors.faiss", "keywords.npz"):
        (data / name).unlink(missing_ok=True)
    job = wait_for_job(client, client.post("/api/admin/reindex").json()["id"])
    assert job["kind"] == "reindex" and job["state"] == "done"
    assert (data / "vectors.faiss").exists() and (data / "keywords.npz").exists()
    assert client.get("/api/search", params={"q": "alpha"}).json()["articles"][0]["id"] == "d1"
    # With no reindex roots set, the server reads no folder (tests/test_reindex_roots.py).
    r = client.post("/api/admin/reindex", json={"source": "/no/such/folder"})
    assert r.status_code == 403 and "WHOKNOWS_REINDEX_ROOTS" in r.json()["error"]


def test_admin_needs_the_admin_role(client):
    _, reader = KeyRing(client.app.state.whoknows.runtime.store).add("reader")
    KeyRing(client.app.state.whoknows.runtime.store).add("admin")
    headers = {"Authorization": f"Bearer {reader}"}
    r = client.post("/api/admin/reindex", headers=headers)
    assert r.status_code == 403 and "admin role" in r.json()["error"]
    assert client.get("/api/admin/jobs", headers=headers).status_code == 403
    moved = client.post("/api/admin/reembed", json={"embedder": "hashing-64"}, headers=headers)
    assert moved.status_code == 403
    assert client.get("/api/admin/jobs").status_code == 401
