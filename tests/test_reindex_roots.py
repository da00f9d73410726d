"""Re-index reads only inside the operator's reindex roots; /source serves only files from
the folders the operator meant the server to read (api/folders.py)."""


import pytest
from conftest import wait_for_job, write
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import JobStore
from ingest.pipeline import Ingester

SECRET = "---\nid: secret\n---\npassword hunter2\n"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "shared"
    write(root, "team/notes.md", "kafka retention notes\n")
    return root.resolve()


@pytest.fixture
def outside(tmp_path):
    outside = tmp_path / "private"
    write(outside, "secret.md", SECRET)
    return outside.resolve()


def client_for(tmp_path, roots=()):
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048",
                        reindex_roots=tuple(roots))
    return TestClient(create_app(runtime=Runtime.open(settings)))


@pytest.fixture
def client(tmp_path, root):
    with client_for(tmp_path, [root]) as c:
        yield c


def reindex(client, source):
    return client.post("/api/admin/reindex", json={"source": str(source)})


def assert_refused(client, response):
    assert response.status_code == 403, response.text
    assert "outside the folders this server may read" in response.json()["error"]
    assert "WHOKNOWS_REINDEX_ROOTS" in response.json()["detail"]
    assert client.get("/api/admin/jobs").json() == []
    assert client.app.state.whoknows.runtime.store.count("documents") == 0


def test_reindex_cannot_read_etc(client):
    assert_refused(client, reindex(client, "/etc"))


def test_reindex_cannot_climb_out_of_a_root(client, root):
    assert_refused(client, reindex(client, f"{root}/team/../../.."))
    assert_refused(client, reindex(client, "../../.."))


def test_reindex_cannot_follow_a_symlink_out_of_a_root(client, root, outside):
    (root / "link").symlink_to(outside, target_is_directory=True)
    assert_refused(client, reindex(client, root / "link"))


def test_reindex_does_not_say_whether_a_folder_outside_exists(client):
    assert_refused(client, reindex(client, "/no/such/folder"))


def test_a_server_without_roots_reads_no_folder(tmp_path, root):
    with client_for(tmp_path) as c:
        r = reindex(c, root)
        assert r.status_code == 403
        assert r.json()["error"] == "this server reads no folders: set WHOKNOWS_REINDEX_ROOTS"
        assert "--reindex-root" in r.json()["detail"]
        assert c.get("/api/admin/jobs").json() == []


def test_reindex_reads_a_folder_inside_a_root_and_serves_its_files(client, root):
    job = wait_for_job(client, reindex(client, root / "team").json()["id"])
    assert job["state"] == "done" and job["summary"]["documents"]["added"] == 1
    r = client.get("/source/team/notes.md")
    assert r.status_code == 200 and r.text == "kafka retention notes\n"
    missing = reindex(client, root / "gone")
    assert missing.status_code == 404 and "no folder" in missing.json()["error"]


def test_a_link_out_of_a_root_is_never_served(client, root, outside):
    (root / "team" / "leak.md").symlink_to(outside / "secret.md")
    job = wait_for_job(client, reindex(client, root / "team").json()["id"])
    assert job["summary"]["documents"]["added"] == 1  # the link out is not followed
    assert any("outside the folder being read" in e["reason"] for e in job["errors"])
    assert client.get("/source/secret").status_code == 404
    # A link swapped in for a file that was read is not followed either.
    (root / "team" / "notes.md").unlink()
    (root / "team" / "notes.md").symlink_to(outside / "secret.md")
    assert client.get("/source/team/notes.md").status_code == 404


def test_a_folder_ingested_at_the_command_line_is_served(client, outside):
    runtime = client.app.state.whoknows.runtime
    Ingester(runtime.store, runtime.embedder).ingest([outside])
    r = client.get("/source/secret")
    assert r.status_code == 200 and "hunter2" in r.text
    assert 'href="/source/secret"' in client.get("/documents/secret").text


def test_files_a_reindex_read_outside_todays_roots_are_not_served(client, outside):
    # A re-index allowed before the roots existed (or from a root since removed) read it.
    runtime = client.app.state.whoknows.runtime
    Ingester(runtime.store, runtime.embedder).ingest([outside], sync=True)
    JobStore(runtime.store).create("ingest", {"paths": [str(outside)], "sync": True})
    assert client.get("/source/secret").status_code == 404
    assert 'href="/source/secret"' not in client.get("/documents/secret").text


def test_a_link_swapped_in_for_a_file_ingested_at_the_command_line_is_not_served(
        client, tmp_path, outside):
    runtime = client.app.state.whoknows.runtime
    write(tmp_path / "cli", "a.md", "---\nid: a\n---\nharmless\n")
    Ingester(runtime.store, runtime.embedder).ingest([tmp_path / "cli"])
    assert client.get("/source/a").status_code == 200
    (tmp_path / "cli" / "a.md").unlink()
    (tmp_path / "cli" / "a.md").symlink_to(outside / "secret.md")
    assert client.get("/source/a").status_code == 404


def test_serve_reindex_root_adds_to_the_environment(tmp_path, root, outside, monkeypatch):
    apps = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: apps.append(app))
    monkeypatch.setenv("WHOKNOWS_REINDEX_ROOTS", str(outside))
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    args = ["serve", "--data-dir", str(tmp_path / "data"), "--reindex-root", str(root)]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert apps[0].state.whoknows.runtime.settings.reindex_roots == (outside, root)
    missing = CliRunner().invoke(cli_app, [*args[:3], "--reindex-root", str(tmp_path / "no")])
    assert missing.exit_code != 0 and len(apps) == 1
