"""Moving a store to another embedding model in place (``whoknows reembed``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from api import cli
from indexer.embedders import HashingEmbedder, embed_queries
from indexer.errors import IndexMismatch, ModelMoved
from indexer.records import Chunk, Document
from indexer.store import Store
from ingest.pipeline import Ingester
from ingest.reembed import SIDE_TABLES, Reembedder, unfinished
from tests.conftest import CountingEmbedder, write
from tests.test_pipeline import corpus


class FailingAfter(HashingEmbedder):
    """Embeds ``calls`` batches, then fails as a killed run would stop."""

    def __init__(self, dim: int, calls: int) -> None:
        super().__init__(dim)
        self.left = calls

    def embed(self, texts):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return super().embed(texts)


def dims(store: Store) -> set[int]:
    rows = store.db.execute("SELECT vector FROM chunks").fetchall()
    people = store.db.execute("SELECT vector FROM people WHERE vector IS NOT NULL").fetchall()
    return {len(v) // 4 for (v,) in rows + people}


@pytest.fixture
def old(tmp_path):
    """A store built with a 32-dimension model: three documents and two people."""
    corpus(tmp_path)
    write(tmp_path / "docs", "deploy.md", "# Deploys\nBlue green deploys swap the router.\n")
    store = Store.open(tmp_path / "data")
    Ingester(store, HashingEmbedder(32)).ingest([tmp_path / "docs", tmp_path / "people"])
    return store


def test_every_passage_and_profile_moves_to_the_new_model(old):
    before = old.count("chunks")
    report = Reembedder(old, HashingEmbedder(64)).run()
    assert report.switched and (report.previous, report.embedder) == ("hashing-32", "hashing-64")
    assert (report.documents, report.people) == (3, 2) and report.passages == before
    assert old.get_meta("embedder") == "hashing-64" and old.get_meta("dim") == "64"
    assert dims(old) == {64}
    # The new vectors are the new model's vectors of the same passages.
    text, vector = old.db.execute(
        "SELECT c.text, c.vector FROM chunks c WHERE doc_id = 'kb-kafka'").fetchone()
    expected = HashingEmbedder(64).embed([f"Kafka retention\n{text}"])[0]
    assert np.allclose(np.frombuffer(vector, np.float32), expected)
    assert not set(SIDE_TABLES) & set(old.db.table_names())


def test_the_questions_kept_with_a_vector_move_too(old):
    """Verdicts and logged searches keep their question's vector (the learning loop and
    the analytics compare them by cosine): after the move each is the new model's, and
    a server's cache of the verdicts is told (their generation moves)."""
    from indexer.feedback import FeedbackLog
    from indexer.query_log import QueryLog

    old_model, new_model = HashingEmbedder(32), HashingEmbedder(64)
    verdicts, log = FeedbackLog(old), QueryLog(old)
    for question in ("kafka retention", "blue green deploys"):
        vector = embed_queries(old_model, [question])[0]
        verdicts.add(question, vector, "helped", "kb-kafka", "voter-1")
        log.record(question, vector, 0.5, False, 1, [])
    log.record("kafka retention", embed_queries(old_model, ["kafka retention"])[0],
               0.5, False, 1, [])  # asked twice, embedded once
    generation = verdicts.generation
    calls = []
    report = Reembedder(old, new_model).run(lambda *call: calls.append(call))
    assert report.questions == 2
    assert calls[-1] == (2, 2, "re-embedding the questions asked")  # progress ends whole
    expected = {q: embed_queries(new_model, [q])[0]
                for q in ("kafka retention", "blue green deploys")}
    kept = [(v.query, v.vector) for v in verdicts.votes()] + \
        [(e.query, e.vector) for e in log.entries()]
    assert len(kept) == 5
    for question, vector in kept:
        assert np.allclose(vector, expected[question])
    assert verdicts.generation > generation


def test_the_moved_store_answers_with_the_new_model(old, tmp_path):
    from api.runtime import Runtime
    from api.settings import Settings

    Reembedder(old, HashingEmbedder(64)).run()
    runtime = Runtime.open(Settings(data_dir=tmp_path / "data"))
    assert runtime.embedder.name == "hashing-64"
    hits = runtime.answerer().answer("blue green deploys router", limit=1)
    assert hits["articles"][0]["title"] == "Deploys"


def test_an_interrupted_reembed_resumes_and_serves_the_old_model_meanwhile(old):
    passages = old.count("chunks")
    with pytest.raises(KeyboardInterrupt):
        Reembedder(old, FailingAfter(64, calls=1), batch_passages=1).run()
    # Nothing switched: the store still says and holds the old model only.
    assert old.get_meta("embedder") == "hashing-32" and dims(old) == {32}
    done = old.db.execute("SELECT count(*) FROM reembed_documents").fetchone()[0]
    assert done == 1
    # `whoknows status` says so: the model it moves to, one of 3 documents and 2 people.
    assert unfinished(old) == {"to": "hashing-64", "done": 1, "of": 5}
    again = CountingEmbedder(64)
    again.name = "hashing-64"
    report = Reembedder(old, again, batch_passages=1).run()
    assert report.resumed == 1 and report.documents == 2 and report.people == 2
    # The finished document is not embedded again: the other two documents' passages
    # (one each) and Ana's profile (Bo's has no text to embed).
    assert again.texts == (passages - 1) + 1
    assert dims(old) == {64} and old.count("chunks") == passages
    assert unfinished(old) is None


def test_a_resumed_run_for_another_model_starts_over(old):
    with pytest.raises(KeyboardInterrupt):
        Reembedder(old, FailingAfter(64, calls=1), batch_passages=1).run()
    report = Reembedder(old, HashingEmbedder(48)).run()
    assert report.resumed == 0 and report.documents == 3 and dims(old) == {48}


def test_content_written_during_the_reembed_is_caught_up(old):
    deploy_id = next(d for d, (_, source, _) in old.document_hashes().items()
                     if source.endswith("deploy.md"))

    class WritesBeside(HashingEmbedder):
        """On its first batch an ingest beside it (still the old model) changes one
        document and adds another."""

        def __init__(self) -> None:
            super().__init__(64)
            self.first = True

        def embed(self, texts):
            if self.first:
                self.first = False
                old_model = HashingEmbedder(32)
                for doc_id, body in ((deploy_id, "Canary deploys shift traffic slowly."),
                                     ("kb-new", "Feature flags hide unfinished work.")):
                    doc = Document(id=doc_id, title=doc_id, body=body)
                    old.write_document(doc, [Chunk(doc_id, 0, body, 0)],
                                       old_model.embed([body]))
            return super().embed(texts)

    Reembedder(old, WritesBeside(), batch_passages=1).run()
    assert dims(old) == {64}
    texts = dict(old.db.execute("SELECT doc_id, text FROM chunks").fetchall())
    assert texts[deploy_id] == "Canary deploys shift traffic slowly."
    assert texts["kb-new"] == "Feature flags hide unfinished work."


def test_the_same_model_does_nothing(old):
    generation = old.generation
    report = Reembedder(old, HashingEmbedder(32)).run()
    assert not report.switched and report.documents == 0 and old.generation == generation


def test_after_the_switch_the_old_model_is_refused(old):
    Reembedder(old, HashingEmbedder(64)).run()
    with pytest.raises(IndexMismatch):
        old.bind_embedder("hashing-32", 32)


def test_the_command_reembeds_and_reports(old, tmp_path):
    result = CliRunner().invoke(cli.app, ["reembed", "hashing-64", "--data-dir",
                                          str(tmp_path / "data"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["embedder"] == "hashing-64" and report["documents"] == 3
    status = CliRunner().invoke(cli.app, ["status", "--data-dir", str(tmp_path / "data"),
                                          "--json"])
    assert json.loads(status.stdout)["embedder"] == "hashing-64"
    assert json.loads(status.stdout)["reembedding"] is None


def test_a_running_server_takes_the_new_model_at_its_next_search(old, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.runtime import Runtime
    from api.settings import Settings

    runtime = Runtime.open(Settings(data_dir=tmp_path / "data"))
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        state = client.app.state.whoknows
        state.warm_up()

        def first_title() -> str:
            found = client.get("/api/search", params={"q": "blue green deploys router"})
            assert found.status_code == 200, found.text
            return found.json()["articles"][0]["title"]

        assert first_title() == "Deploys" and state.answerer.searcher.indexes.dim == 32
        Reembedder(Store.open(tmp_path / "data"), HashingEmbedder(64)).run()  # elsewhere
        assert first_title() == "Deploys"
        assert runtime.embedder.name == "hashing-64"
        assert state.answerer.searcher.indexes.dim == 64
        assert state.answerer.searcher.embedder.name == "hashing-64"


class SwitchedAfter(HashingEmbedder):
    """The old model, whose first batch a re-embed in another process overtakes: the
    store is switched to 64 dimensions just after it embeds."""

    def __init__(self, store: Store) -> None:
        super().__init__(32)
        self.store, self.first = store, True

    def embed(self, texts):
        vectors = super().embed(texts)
        if self.first:
            self.first = False
            Reembedder(self.store, HashingEmbedder(64)).run()
        return vectors


def test_an_ingest_overtaken_by_a_reembed_writes_nothing_of_the_old_model(old, tmp_path):
    write(tmp_path / "more", "flags.md", "# Flags\nFeature flags hide unfinished work.\n")
    with pytest.raises(ModelMoved, match="moved to the model hashing-64"):
        Ingester(old, SwitchedAfter(old)).ingest([tmp_path / "more"])
    assert dims(old) == {64} and "Flags" not in {d.title for d in old.get_documents(
        list(old.document_hashes())).values()}


def test_a_job_overtaken_by_a_reembed_runs_again_with_the_new_model(old, tmp_path):
    from indexer.jobs import JobStore
    from ingest.jobs import run_job

    write(tmp_path / "more", "flags.md", "# Flags\nFeature flags hide unfinished work.\n")
    job = JobStore(old).create("ingest", {"paths": [str(tmp_path / "more")]})
    state = run_job(old, SwitchedAfter(old), job.id,
                    follow_model=lambda: HashingEmbedder(64))
    assert state == "done" and dims(old) == {64}
    assert "Flags" in {d.title for d in old.get_documents(list(old.document_hashes())).values()}
    assert JobStore(old).get(job.id).state == "done"



def test_whoknows_ingest_overtaken_by_a_reembed_runs_again_with_the_new_model(
        old, tmp_path, monkeypatch):
    """The re-embed runs in another process (its own connection to the folder)."""
    from indexer import embedders

    data = tmp_path / "data"
    made = embedders.make_embedder

    def make(kind, *args, **kwargs):
        return SwitchedAfter(Store.open(data)) if kind == "hashing-32" else made(kind)

    monkeypatch.setattr("api.runtime.make_embedder", make)
    monkeypatch.delenv("WHOKNOWS_EMBEDDER", raising=False)
    write(tmp_path / "more", "flags.md", "# Flags\nFeature flags hide unfinished work.\n")
    result = CliRunner().invoke(cli.app, ["ingest", str(tmp_path / "more"), "--data-dir",
                                          str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"]["added"] == 1
    assert dims(old) == {64} and old.get_meta("embedder") == "hashing-64"
