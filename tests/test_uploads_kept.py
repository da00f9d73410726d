"""Uploads travel in the store (indexer/uploads.py): the server that receives a file keeps
its bytes with the job that ingests it, and the worker that runs the job (on any machine,
with a data folder of its own) writes them to its own folder and ingests them from there;
the rows go when the job ends, not before. On either engine (WHOKNOWS_TEST_DATABASE_URL)."""

import hashlib
import json
import time

import pytest
from fastapi.testclient import TestClient

from api import uploads
from api.app import create_app
from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.errors import IngestError, NotFound
from indexer.jobs import JobStore
from indexer.uploads import UploadStore
from ingest.jobs import run_job


def rows(store) -> list[tuple[str, str]]:
    return sorted((r["kind"], r["name"]) for r in store.db.query(
        "SELECT kind, name FROM uploads"))


# -- the table --------------------------------------------------------------------------

def test_an_upload_is_written_to_the_folder_it_is_asked_for(store, tmp_path):
    kept = UploadStore(store)
    a = kept.add("documents", "a.md", b"alpha", job_id="j1")
    p = kept.add("people", "team.csv", b"name\nAna\n", job_id="j1")
    assert (a.sha256, a.size) == (hashlib.sha256(b"alpha").hexdigest(), 5)
    written = kept.write([p.id, a.id], tmp_path / "uploads")
    assert written == {"documents": [tmp_path / "uploads" / "documents" / "a.md"],
                       "people": [tmp_path / "uploads" / "people" / "team.csv"]}
    assert written["documents"][0].read_bytes() == b"alpha"
    assert [u.name for u in kept.of_job("j1")] == ["a.md", "team.csv"]
    # Written again (a job run a second time), the same file, and no temporary left.
    kept.write([a.id], tmp_path / "uploads")
    assert sorted(p.name for p in (tmp_path / "uploads").rglob("*")) == [
        "a.md", "documents", "people", "team.csv"]


def test_bytes_are_kept_exactly(store, tmp_path):
    content = bytes(range(256)) * 1000  # every byte value, NUL included
    kept = UploadStore(store)
    upload = kept.add("documents", "blob.pdf", content)
    assert kept.content(upload) == content
    assert kept.write([upload.id], tmp_path)["documents"][0].read_bytes() == content


def test_a_changed_or_missing_upload_is_an_error_not_a_wrong_file(store, tmp_path):
    kept = UploadStore(store)
    upload = kept.add("documents", "a.md", b"alpha")
    with store.writing():
        store.db.execute("UPDATE uploads SET content = ? WHERE id = ?", [b"omega", upload.id])
    with pytest.raises(IngestError, match="does not match its hash"):
        kept.write([upload.id], tmp_path)
    with pytest.raises(NotFound, match="no longer in the store"):
        kept.write(["nope"], tmp_path)
    assert not (tmp_path / "documents" / "a.md").exists()


@pytest.mark.parametrize("kind, name", [
    ("documents", "../a.md"), ("documents", "x/a.md"), ("documents", ".hidden"),
    ("documents", ""), ("documents", "a\\b.md"), ("secrets", "a.md")])
def test_only_plain_names_of_known_kinds_are_kept(store, kind, name):
    with pytest.raises(ValueError):
        UploadStore(store).add(kind, name, b"x")


def test_rows_go_with_their_job_or_once_it_ended(store):
    kept = UploadStore(store)
    jobs = JobStore(store)
    running, ended = jobs.create("ingest", {}), jobs.create("ingest", {})
    kept.add("documents", "a.md", b"a", running.id)
    kept.add("documents", "b.md", b"b", ended.id)
    jobs.finish(ended.id, "dead", [], {})
    assert kept.discard_ended() == 1 and rows(store) == [("documents", "a.md")]
    assert kept.discard(running.id) == 1 and rows(store) == []


# -- a job of uploads -------------------------------------------------------------------

def job_of(store, *files, people=()):
    """An ingest job of uploads, as the upload route records it."""
    kept, jobs = UploadStore(store), JobStore(store)
    job = jobs.create("ingest", {})
    ids = [kept.add("documents", n, c, job.id).id for n, c in files]
    ids += [kept.add("people", n, c, job.id).id for n, c in people]
    with store.writing():
        store.db.execute("UPDATE jobs SET params = ? WHERE id = ?",
                         [json.dumps({"uploads": ids}), job.id])
    return jobs.get(job.id)


def test_any_machine_ingests_an_upload_as_the_same_document(store, embedder, tmp_path):
    job = job_of(store, ("notes.md", b"kafka retention"),
                 people=[("team.csv", b"id,name,email\np-ana,Ana Lima,ana@x.example\n")])
    here = tmp_path / "machine-a" / "uploads"
    assert run_job(store, embedder, job.id, uploads_to=here) == "done"
    done = JobStore(store).get(job.id)
    assert done.summary["documents"]["added"] == 1 and done.errors == []
    assert store.get_document("notes.md").source == str(here / "documents" / "notes.md")
    assert store.get_person("p-ana").name == "Ana Lima"
    assert rows(store) == []  # ingested: the store keeps the bytes no longer
    # The same file uploaded again and ingested on another machine: the same document.
    again = job_of(store, ("notes.md", b"kafka retention"))
    there = tmp_path / "machine-b" / "uploads"
    assert run_job(store, embedder, again.id, uploads_to=there) == "done"
    summary = JobStore(store).get(again.id).summary
    assert summary["documents"]["unchanged"] == 1 and summary["chunks_embedded"] == 0
    assert store.count("documents") == 1
    assert store.get_document("notes.md").source == str(there / "documents" / "notes.md")


def test_a_worker_that_dies_mid_job_leaves_the_uploads_for_the_next_run(store, embedder,
                                                                         tmp_path):
    job = job_of(store, ("a.md", b"alpha words"), ("b.md", b"beta words"))
    jobs = JobStore(store, stale_after_s=0.05)
    assert jobs.start(job.id, "elsewhere:1") is not None  # a worker took it, then died
    time.sleep(0.1)
    UploadStore(store).write(job.params["uploads"], tmp_path / "dead" / "uploads")
    assert len(rows(store)) == 2  # nothing discarded by a run that did not end
    assert run_job(store, embedder, job.id, jobs=jobs,
                   uploads_to=tmp_path / "alive" / "uploads") == "done"
    done = jobs.get(job.id)
    assert (done.state, done.attempts, rows(store)) == ("done", 2, [])
    assert sorted(store.document_hashes()) == ["a.md", "b.md"]
    assert store.count("chunks") == 2  # each passage once


def test_a_failed_job_lets_go_of_its_uploads(store, embedder, tmp_path):
    job = job_of(store, ("a.md", b"alpha"))
    assert run_job(store, embedder, job.id) == "failed"  # no folder to write them to
    failed = JobStore(store).get(job.id)
    assert "no folder to write them to" in failed.errors[0]["reason"]
    assert rows(store) == []


def test_a_job_given_up_on_lets_go_of_its_uploads(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048",
                        job_stale_after_s=0.05, max_job_attempts=1)
    runtime = Runtime.open(settings)
    queue = Queue.create(settings)
    job = job_of(runtime.store, ("a.md", b"alpha"))
    queue.jobs(runtime.store).start(job.id, "elsewhere:1")  # its one attempt; silent since
    time.sleep(0.1)
    assert queue.recover(runtime.store) == {job.id: "dead"}
    assert rows(runtime.store) == []


# -- through the API ----------------------------------------------------------------------

def test_an_upload_names_its_uploads_not_a_path_of_the_server(tmp_path):
    """The server keeps the files in the store; a worker with another data folder (here:
    run by hand on folder B) ingests them and finds the same document."""
    settings = Settings(data_dir=tmp_path / "a", embedder="hashing-2048")
    runtime = Runtime.open(settings)
    people = [{"id": "p-bo", "name": "Bo"}]
    with TestClient(create_app(runtime=runtime, warm=False, worker=False)) as client:
        r = client.post("/api/admin/documents",
                        files=[("files", ("kafka notes.md", b"kafka retention", "text/plain"))])
        p = client.post("/api/admin/people", json=people)
    assert r.status_code == 202 and p.status_code == 202, (r.text, p.text)
    job = JobStore(runtime.store).get(r.json()["id"])
    assert job.state == "queued" and set(job.params) == {"uploads"}
    assert rows(runtime.store) == [("documents", "kafka_notes.md"), ("people",
                                   records_name(people))]
    assert not (tmp_path / "a" / "uploads" / "documents").exists()  # nothing filed on A
    b = tmp_path / "b" / "uploads"
    for job_id in (r.json()["id"], p.json()["id"]):
        assert run_job(runtime.store, runtime.embedder, job_id, uploads_to=b) == "done"
    assert runtime.store.get_document("kafka_notes.md").source == str(
        b / "documents" / "kafka_notes.md")
    assert runtime.store.get_person("p-bo").name == "Bo" and rows(runtime.store) == []


def records_name(records) -> str:
    """The name posted JSON records are filed under: their content's hash."""
    text = uploads.records_text(json.dumps(records).encode())
    return f"records-{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
