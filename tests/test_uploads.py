"""Uploads (api/uploads.py): the size limit holds without Content-Length, a refused upload
leaves nothing behind, names stay apart, the same file again is the same document, deep
JSON is a clear 422, and the checks run off the event loop."""

import asyncio
import json
from pathlib import Path

import pytest
from conftest import DATA, wait_for_job
from fastapi.testclient import TestClient

from api import uploads
from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings

MB = 2**20
BOUNDARY = "whoknows-test-boundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048", max_upload_mb=1)
    with TestClient(create_app(runtime=Runtime.open(settings))) as c:
        yield c


def upload(client, *files):
    """Upload ``(name, bytes)`` pairs; the finished job."""
    r = client.post("/api/admin/documents",
                    files=[("files", (name, data, "text/plain")) for name, data in files])
    assert r.status_code == 202, r.text
    return wait_for_job(client, r.json()["id"])


def files_left(client):
    folder = client.app.state.whoknows.runtime.settings.data_dir / "uploads"
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def multipart_chunks(name, size, chunk=64 * 1024):
    """A multipart body of one file of ``size`` bytes, as a stream of chunks."""
    yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
           f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n').encode()
    for _ in range(size // chunk):
        yield b"a " * (chunk // 2)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


# -- the size limit ----------------------------------------------------------------

def test_chunked_upload_over_the_limit_is_refused_and_leaves_nothing(client):
    r = client.post("/api/admin/documents", content=multipart_chunks("big.txt", 2 * MB),
                    headers=MULTIPART)  # a generator: sent chunked, without Content-Length
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["error"]
    assert files_left(client) == [] and client.get("/api/admin/jobs").json() == []


def test_chunked_json_over_the_limit_is_refused(client):
    def records():
        yield b"["
        for i in range(20_000):
            yield json.dumps({"id": f"d{i}", "body": "x" * 100}).encode() + b","
        yield b'{"body": "end"}]'

    r = client.post("/api/admin/documents", content=records(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and files_left(client) == []


def test_a_chunked_body_is_read_only_up_to_the_limit(client):
    """Straight through ASGI, one chunk per receive: the server stops pulling the body
    soon after the limit instead of storing it whole."""
    pulled = 0
    body = multipart_chunks("big.txt", 50 * MB)
    sent = []

    async def receive():
        nonlocal pulled
        chunk = next(body, None)
        pulled += chunk is not None
        return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/api/admin/documents",
             "raw_path": b"/api/admin/documents", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type",
                                                    MULTIPART["content-type"].encode())],
             "client": ("127.0.0.1", 1234), "server": ("testserver", 80)}
    asyncio.run(client.app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled <= MB // (64 * 1024) + 2  # 1 MB in 64 KB chunks, the headers, one more
    assert files_left(client) == []


def test_declared_size_over_the_limit_is_refused_before_reading(client):
    r = client.post("/api/admin/documents", content=b"[]",
                    headers={"content-type": "application/json",
                             "content-length": str(2 * MB)})
    assert r.status_code == 413 and files_left(client) == []


# -- refused uploads leave nothing -------------------------------------------------

@pytest.mark.parametrize("files, status", [
    ([("x.xyz", b"zz")], 422),
    ([("ok.md", b"fine text"), ("bad.pdf", (DATA / "corrupt.pdf").read_bytes())], 422),
    ([("empty.jsonl", b"")], 422),
    ([("big.txt", b"a " * 600_000)], 413),
])
def test_a_refused_upload_leaves_nothing_on_disk(client, files, status):
    r = client.post("/api/admin/documents",
                    files=[("files", (name, data, "text/plain")) for name, data in files])
    assert r.status_code == status
    assert files_left(client) == [] and client.get("/api/admin/jobs").json() == []


def test_a_refused_upload_keeps_the_earlier_file_of_that_name(client):
    upload(client, ("notes.md", b"kafka retention"))
    r = client.post("/api/admin/documents",
                    files=[("files", ("notes.md", b"", "text/plain"))])
    assert r.status_code == 422 and files_left(client) == ["notes.md"]
    assert client.get("/api/search", params={"q": "kafka"}).json()["articles"][0]["id"] == (
        "notes.md")


# -- names ---------------------------------------------------------------------------

def test_names_that_clean_alike_are_all_kept(client):
    job = upload(client, ("a b.md", b"alpha"), ("a_b.md", b"beta"), ("A_B.md", b"gamma"))
    assert job["summary"]["documents"]["added"] == 3
    assert files_left(client) == ["A_B-3.md", "a_b-2.md", "a_b.md"]


@pytest.mark.parametrize("filename, name", [
    ("../../etc/passwd.md", "passwd.md"), ("C:\\Users\\x\\a b.md", "a_b.md"),
    (".hidden.md", "hidden.md"), ("", "upload"), ("x" * 300 + ".md", "x" * 197 + ".md"),
])
def test_safe_names_stay_inside_the_upload_folder(filename, name):
    assert uploads.safe_name(filename) == name


# -- the same file again -------------------------------------------------------------

def test_uploading_the_same_file_again_updates_the_same_document(client):
    store = client.app.state.whoknows.runtime.store
    assert upload(client, ("notes.md", b"kafka retention"))["summary"]["documents"][
        "added"] == 1
    again = upload(client, ("notes.md", b"kafka retention"))["summary"]
    assert again["documents"]["unchanged"] == 1 and again["chunks_embedded"] == 0
    changed = upload(client, ("notes.md", b"postgres vacuum"))["summary"]
    assert changed["documents"]["updated"] == 1 and store.count("documents") == 1
    found = client.get("/api/search", params={"q": "postgres vacuum"}).json()["articles"]
    assert [a["id"] for a in found] == ["notes.md"]


def test_posting_the_same_records_again_changes_nothing(client):
    records = [{"title": "Kafka", "body": "kafka retention"}]
    first = client.post("/api/admin/documents", json=records)
    assert wait_for_job(client, first.json()["id"])["summary"]["documents"]["added"] == 1
    second = wait_for_job(client, client.post("/api/admin/documents", json=records).json()["id"])
    assert second["summary"]["documents"]["unchanged"] == 1
    assert second["summary"]["chunks_embedded"] == 0
    assert client.app.state.whoknows.runtime.store.count("documents") == 1


# -- JSON ---------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [100_000, 40])
def test_deeply_nested_json_is_refused_not_a_crash(client, depth):
    body = '[{"body": "x", "extra": ' + "[" * depth + "]" * depth + "}]"
    r = client.post("/api/admin/documents", content=body.encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "nested more than 32 levels" in r.json()["error"]
    assert files_left(client) == []


def test_nesting_depth_is_measured_without_recursion():
    assert uploads.depth("x") == 0 and uploads.depth([]) == 1
    assert uploads.depth([{"a": [1, {"b": 2}]}]) == 4
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert uploads.depth(deep) > uploads.MAX_JSON_DEPTH


# -- off the event loop -------------------------------------------------------------------

def test_upload_is_checked_off_the_event_loop(client, monkeypatch):
    where = []
    real = uploads.read_file

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:
            where.append("worker thread")
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "read_file", spy)
    upload(client, ("a.md", b"alpha"), ("b.md", b"beta"))
    assert where == ["worker thread", "worker thread"]


def test_deleting_an_uploaded_document_removes_its_file(client):
    """A file left under uploads/ would outlive its document (and keep its text on disk)."""
    upload(client, ("notes.md", b"kafka retention"))
    records = [{"id": "r1", "title": "One", "body": "first"},
               {"id": "r2", "title": "Two", "body": "second"}]
    r = client.post("/api/admin/documents", json=records)
    wait_for_job(client, r.json()["id"])
    store = client.app.state.whoknows.runtime.store
    source = Path(store.get_document("notes.md").source)
    assert source.exists()
    assert client.delete("/api/admin/documents/notes.md").status_code == 200
    assert not source.exists()
    shared = Path(store.get_document("r1").source)
    assert client.delete("/api/admin/documents/r1").status_code == 200
    assert shared.exists()  # it still holds r2


# -- every format, through the API ---------------------------------------------------

def test_office_files_mail_and_a_zipped_export_upload_and_are_found(client, tmp_path):
    import io
    import zipfile

    import docx
    document = docx.Document()
    document.core_properties.author = "Ana Lima"
    document.add_heading("Rebooking carriers", 1)
    document.add_paragraph("Carrier rebooking cut late deliveries by a third.")
    word = io.BytesIO()
    document.save(word)
    mail = (b"From: Bo <bo@acme.example>\r\nSubject: Freezer alarms\r\n"
            b"Date: Mon, 03 Mar 2025 10:00:00 +0000\r\n\r\nReset the freezer alarm twice.\r\n")
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("users.json", json.dumps([{"id": "U1", "name": "cy"}]))
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "ops"}]))
        archive.writestr("ops/2024-03-14.json", json.dumps([
            {"type": "message", "user": "U1", "ts": "1710400000.000100",
             "text": "Pallet scanners need a firmware update before Friday."}]))
    job = upload(client, ("rebooking.docx", word.getvalue()), ("alarm.eml", mail),
                 ("slack.zip", export.getvalue()))
    assert job["state"] == "done" and job["errors"] == [], job
    assert job["summary"]["documents"]["added"] == 3
    for query, title in (("carrier rebooking", "Rebooking carriers"),
                         ("freezer alarm", "Freezer alarms"),
                         ("pallet scanner firmware", "Pallet scanners need a firmware update "
                                                     "before Friday.")):
        found = client.get("/api/search", params={"q": query}).json()["articles"]
        assert found[0]["title"] == title, (query, found[:2])
