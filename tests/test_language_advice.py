"""A folder whose model reads English only is told when it holds other languages, and
how to move it (`whoknows reembed e5-int8`); a multilingual model, or a stray passage
taken for another language, is told nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import wait_for_job, write
from typer.testing import CliRunner

from api.cli import app
from indexer.embedders import HashingEmbedder
from indexer.language_advice import language_advice
from indexer.records import Chunk, Document
from indexer.store import Store

ENGLISH_MODEL = SimpleNamespace(name="all-MiniLM-L6-v2/onnx-int8", dim=4, english_only=True)
MULTILINGUAL_MODEL = SimpleNamespace(name="multilingual-e5-small/onnx-int8", dim=4)


def folder(languages: dict[str | None, int]) -> Store:
    store = Store.memory()
    for language, n in languages.items():
        for i in range(n):
            doc_id = f"{language}-{i}"
            store.write_document(Document(id=doc_id, title=doc_id, body="x", language=language),
                                 [Chunk(doc_id, 0, "x")], np.zeros((1, 4), np.float32))
    return store


def test_an_english_model_over_other_languages_is_told_how_to_move():
    advice = language_advice(folder({"en": 90, "de": 6, "pt": 4, None: 5}), ENGLISH_MODEL)
    assert advice is not None
    assert advice.others == {"de": 6, "pt": 4} and advice.share == pytest.approx(10 / 105)
    message = advice.message("/srv/whoknows-data")
    assert "9.5% of the passages" in message and "(de 6, pt 4)" in message
    assert "all-MiniLM-L6-v2/onnx-int8" in message
    assert message.endswith("whoknows reembed e5-int8 --data-dir /srv/whoknows-data")


@pytest.mark.parametrize(("languages", "model"), [
    ({"en": 90, "de": 10}, MULTILINGUAL_MODEL),  # reads them already
    ({"en": 2000, "nl": 1, "lt": 1}, ENGLISH_MODEL),  # stray guesses, as in the android set
    ({"en": 1000, "fr": 4, "de": 4}, ENGLISH_MODEL),  # a few titles, as in DBLP: under 1%
    ({"en": 3, "de": 2}, ENGLISH_MODEL),  # under five passages
    ({None: 50}, ENGLISH_MODEL),  # nothing told
])
def test_nothing_to_tell(languages, model):
    assert language_advice(folder(languages), model) is None


def test_status_and_ingest_tell_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(HashingEmbedder, "english_only", True, raising=False)
    root = tmp_path / "corpus"
    write(root, "en.md", "# Route planning\n\nThe planner computes the delivery routes every "
          "night from the orders of the day.\n")
    for i in range(5):
        write(root, f"de-{i}.md", f"# Tourenplanung {i}\n\nDie Tourenplanung berechnet jede "
              "Nacht die Routen der Lieferwagen aus den Bestellungen des Tages.\n")
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(root)])
    assert ingested.exit_code == 0, ingested.output
    assert "whoknows reembed e5-int8 --data-dir" in ingested.output
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert status["languages"] == {"de": 5, "en": 1}
    assert "(de 5)" in status["advice"]
    monkeypatch.setattr(HashingEmbedder, "english_only", False)
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["advice"] is None


# A new folder moves itself. The two models are played by hashing embedders: 2048
# dimensions reads "English only", 1024 every language.
@pytest.fixture
def two_models(tmp_path, monkeypatch):
    monkeypatch.delenv("WHOKNOWS_EMBEDDER", raising=False)
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("api.runtime.DEFAULT_EMBEDDER", "hashing-2048")
    monkeypatch.setattr("api.cli.MULTILINGUAL_EMBEDDER", "hashing-1024")
    monkeypatch.setattr(HashingEmbedder, "english_only",
                        property(lambda self: self.dim == 2048), raising=False)


def corpus(root, german: int = 5):
    write(root, "en.md", "# Route planning\n\nThe planner computes the delivery routes every "
          "night from the orders of the day.\n")
    for i in range(german):
        write(root, f"de-{i}.md", f"# Tourenplanung {i}\n\nDie Tourenplanung berechnet jede "
              "Nacht die Routen der Lieferwagen aus den Bestellungen des Tages.\n")
    return root


def status(runner):
    return json.loads(runner.invoke(app, ["status", "--json"]).output)


def test_a_new_multilingual_folder_moves_itself_to_the_multilingual_model(two_models, tmp_path):
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(corpus(tmp_path / "corpus"))])
    assert ingested.exit_code == 0, ingested.output
    assert "this new folder moves to hashing-1024" in ingested.output
    assert "re-embedded 6 passages and 0 people with hashing-1024" in ingested.output
    assert "whoknows reembed" not in ingested.output  # nothing left to advise
    after = status(runner)
    assert after["embedder"] == "hashing-1024" and after["passages"] == 6
    assert after["advice"] is None and after["reembedding"] is None
    found = json.loads(runner.invoke(app, ["search", "Tourenplanung", "--json"]).output)
    assert "/de-" in found["articles"][0]["id"]


def test_auto_is_the_same_as_unset(two_models, tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "auto")
    runner = CliRunner()
    report = json.loads(runner.invoke(
        app, ["ingest", str(corpus(tmp_path / "corpus")), "--json"]).output)
    assert report["reembedded"]["embedder"] == "hashing-1024" and report["advice"] is None
    assert status(runner)["embedder"] == "hashing-1024"


def test_a_model_set_by_hand_is_kept_and_advised(two_models, tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    runner = CliRunner()
    report = json.loads(runner.invoke(
        app, ["ingest", str(corpus(tmp_path / "corpus")), "--json"]).output)
    assert report["reembedded"] is None and "(de 5)" in report["advice"]
    assert status(runner)["embedder"] == "hashing-2048"


def test_a_grown_folder_is_only_advised(two_models, tmp_path):
    """Only the ingest that gives a folder its first passages moves it: a folder that
    was English and grew a German share is told how to move, not moved."""
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(corpus(tmp_path / "english", german=0))])
    assert first.exit_code == 0 and "moves to" not in first.output
    later = runner.invoke(app, ["ingest", str(corpus(tmp_path / "more"))])
    assert later.exit_code == 0, later.output
    assert "moves to" not in later.output and "whoknows reembed e5-int8" in later.output
    assert status(runner)["embedder"] == "hashing-2048"


def test_a_move_that_fails_keeps_the_folder_as_it_was(two_models, tmp_path, monkeypatch):
    def fail(self, progress=None):
        raise MemoryError("not enough memory to export the model")

    monkeypatch.setattr("api.cli.Reembedder.run", fail)
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(corpus(tmp_path / "corpus"))])
    assert ingested.exit_code == 0, ingested.output
    assert "could not move the folder to hashing-1024: not enough memory" in ingested.output
    assert "whoknows reembed e5-int8" in ingested.output  # how to move it later
    after = status(runner)
    assert after["embedder"] == "hashing-2048" and after["passages"] == 6


def test_a_move_cut_short_is_finished_by_the_next_ingest(two_models, tmp_path, monkeypatch):
    """The move stops before its switch (as kill -9 would leave it: the new vectors in
    side tables, the folder still on its first model); the next ingest, with nothing new
    to read, finishes it."""
    from ingest.reembed import Reembedder

    def cut_short(self):
        raise RuntimeError("killed before the switch")

    with monkeypatch.context() as patch:
        patch.setattr(Reembedder, "_switch", cut_short)
        runner = CliRunner()
        first = runner.invoke(app, ["ingest", str(corpus(tmp_path / "corpus"))])
    assert first.exit_code == 0 and "could not move the folder" in first.output
    assert status(runner)["embedder"] == "hashing-2048"
    assert status(runner)["reembedding"]["to"] == "hashing-1024"
    again = runner.invoke(app, ["ingest", str(tmp_path / "corpus")])
    assert again.exit_code == 0, again.output
    assert "finishing this folder's move to hashing-1024, which was interrupted" in again.output
    assert "re-embedded 0 passages" in again.output  # all six were embedded before the cut
    after = status(runner)
    assert after["embedder"] == "hashing-1024" and after["reembedding"] is None


@pytest.mark.multilingual
def test_the_demo_flow_with_the_real_models(e5, monkeypatch, tmp_path):
    """`make demo` as a new user runs it: no model set, the demo company (English, with
    German and Portuguese notes). The folder ends on multilingual-e5-small; a question in
    Portuguese finds the English forecasting documents and the people who wrote them,
    not the most prolific author, and is not taken for a weak match; a subject the
    company has nothing on lists nobody."""
    from pathlib import Path

    monkeypatch.delenv("WHOKNOWS_EMBEDDER", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(e5["e5-int8"].cache_dir)  # the export made once
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(data))
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(Path(__file__).parent.parent / "corpus")])
    assert ingested.exit_code == 0, ingested.output
    assert "this new folder moves to multilingual-e5-small/onnx-int8" in ingested.output
    assert status(runner)["embedder"] == "multilingual-e5-small/onnx-int8"

    def ask(query):
        return json.loads(runner.invoke(app, ["search", query, "--json"]).output)

    forecast = ask("Quem sabe de previsão de demanda?")
    assert [a["title"] for a in forecast["articles"][:2]] == [
        "The demand forecast drifted for six weeks before anyone noticed",
        "Holiday and promotion effects in demand forecasting"]
    people = [e["name"] for e in forecast["experts"]]
    assert people[:2] and set(people[:2]) <= {"Wei Chen", "Chloé Dubois"}
    assert "Lukas Meier" not in people
    # Its words are not the English documents' words: a short question's subject is
    # asked only of passages in its own language (search/subject.py).
    assert forecast["weak_match"] is False
    nothing = ask("tax rules for company cars")
    assert nothing["weak_match"] is True and nothing["experts"] == []
    # Met through "warehouse" alone: no passage of the closest documents holds "robotics".
    assert ask("warehouse robotics")["weak_match"] is True


# A folder filled through the API moves the same way: the worker sends a re-embed job.
@pytest.fixture
def server(two_models, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.runtime import Runtime
    from api.settings import Settings

    monkeypatch.setattr("api.queue.MULTILINGUAL_EMBEDDER", "hashing-1024")

    def serve(embedder: str | None = None):
        settings = Settings(data_dir=tmp_path / "data", embedder=embedder)
        client = TestClient(create_app(runtime=Runtime.open(settings)))
        client.__enter__()
        client.app.state.whoknows.warm_up()
        return client

    started = []
    yield lambda embedder=None: started.append(serve(embedder)) or started[-1]
    for client in started:
        client.__exit__(None, None, None)


def upload(client, root) -> dict:
    files = [("files", (p.name, p.read_bytes(), "text/markdown"))
             for p in sorted(root.iterdir())]
    return wait_for_job(client, client.post("/api/admin/documents", files=files).json()["id"])


def moves(client) -> list[dict]:
    return [j for j in client.get("/api/admin/jobs").json() if j["kind"] == "reembed"]


def test_a_new_folder_filled_through_the_api_moves_itself(server, tmp_path):
    client = server()
    assert upload(client, corpus(tmp_path / "corpus"))["state"] == "done"
    sent = moves(client)
    assert len(sent) == 1
    moved = wait_for_job(client, sent[0]["id"])
    assert moved["state"] == "done", moved
    assert moved["summary"]["embedder"] == "hashing-1024" and moved["summary"]["passages"] == 6
    assert moved["done"] == moved["total"] > 0  # progress, as every job shows it
    store = client.app.state.whoknows.runtime.store
    assert store.get_meta("embedder") == "hashing-1024"
    found = client.get("/api/search", params={"q": "Tourenplanung"}).json()
    assert "de-" in found["articles"][0]["id"]
    # Later uploads are embedded with the new model, and move nothing again.
    write(tmp_path / "more", "fr.md", "# Planification\n\nLa planification des tournées.\n")
    assert upload(client, tmp_path / "more")["state"] == "done"
    assert len(moves(client)) == 1 and store.get_meta("embedder") == "hashing-1024"


def test_only_one_move_is_sent_whoever_filled_the_folder(server, tmp_path):
    client = server()
    upload(client, corpus(tmp_path / "corpus"))
    state = client.app.state.whoknows
    wait_for_job(client, moves(client)[0]["id"])
    # A second worker that also gave the folder passages when it was new sends nothing.
    assert state.queue._move_if_multilingual(state.runtime) is None
    assert len(moves(client)) == 1


def test_through_the_api_a_model_set_by_hand_is_kept(server, tmp_path):
    client = server("hashing-2048")
    assert upload(client, corpus(tmp_path / "corpus"))["state"] == "done"
    assert moves(client) == []
    assert client.app.state.whoknows.runtime.store.get_meta("embedder") == "hashing-2048"


def test_an_english_folder_filled_through_the_api_keeps_its_model(server, tmp_path):
    client = server()
    assert upload(client, corpus(tmp_path / "corpus", german=0))["state"] == "done"
    assert moves(client) == []


def test_an_admin_moves_a_folder_through_the_api(server, tmp_path):
    client = server()
    upload(client, corpus(tmp_path / "corpus", german=0))
    refused = client.post("/api/admin/reembed", json={"embedder": "bogus"})
    assert refused.status_code == 422 and "e5-int8" in refused.json()["detail"]
    job = wait_for_job(client, client.post("/api/admin/reembed",
                                           json={"embedder": "hashing-64"}).json()["id"])
    assert job["state"] == "done" and job["summary"]["previous"] == "hashing-2048"
    assert client.app.state.whoknows.runtime.store.get_meta("embedder") == "hashing-64"
    found = client.get("/api/search", params={"q": "route planning"}).json()
    assert found["articles"][0]["title"] == "Route planning"
