"""The derived indexes never serve text the store no longer holds."""

from conftest import write

from api.runtime import Runtime
from api.settings import Settings
from ingest.pipeline import Ingester


def _ids(client, q):
    return [a["id"] for a in client.get("/api/search", params={"q": q}).json()["articles"]]


def test_updating_the_newest_document_does_not_serve_its_old_text(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app

    corpus = tmp_path / "corpus"
    write(corpus, "a.md", "# Alpha\n\nharbour cranes and tides\n")
    write(corpus, "b.md", "# Beta\n\nthe vault password is swordfish\n")
    runtime = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([corpus])
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        client.app.state.whoknows.warm_up()
        assert _ids(client, "swordfish") == ["corpus/b.md"]
        # The newest document loses its secret: its passages are deleted and new ones
        # written. With reused passage ids, the indexes would keep the old words.
        write(corpus, "b.md", "# Beta\n\nthe vault now uses hardware tokens\n")
        Ingester(runtime.store, runtime.embedder).ingest([corpus])
        assert "corpus/b.md" not in _ids(client, "swordfish")
        assert _ids(client, "hardware tokens")[0] == "corpus/b.md"
    # A process that opens the folder later loads the saved indexes: they agree too.
    fresh = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    keywords = fresh.indexes().keywords
    assert not keywords.search(["swordfish"], 10)


def test_passage_ids_are_never_reused_after_the_newest_is_deleted(store, embedder, tmp_path):
    corpus = tmp_path / "c"
    write(corpus, "a.md", "# A\n\none passage\n")
    write(corpus, "b.md", "# B\n\nanother passage\n")
    Ingester(store, embedder).ingest([corpus])
    before = set(store.chunk_ids().tolist())
    store.delete_document("c/b.md")
    (corpus / "b.md").unlink()
    write(corpus, "c.md", "# C\n\na third passage\n")
    Ingester(store, embedder).ingest([corpus])
    after = set(store.chunk_ids().tolist())
    assert not (after - before) & before  # every new passage has an id never seen before
    assert after - before


def test_a_store_from_before_never_reused_ids_rebuilds_its_saved_indexes_once(tmp_path):
    """A folder written by an older version may already serve a reused id's old text;
    opening it with this version rebuilds both indexes from the stored passages."""
    corpus = tmp_path / "corpus"
    write(corpus, "b.md", "# Beta\n\nthe vault password is swordfish\n")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing-2048")
    runtime = Runtime.open(settings)
    Ingester(runtime.store, runtime.embedder).ingest([corpus])
    runtime.refresh_indexes()  # saved with "swordfish"
    # What the old version did: the passage rewritten in place under the same id, with
    # the generation the saved indexes already record, no id counter, and no table of
    # schema migrations.
    db = runtime.store.db
    db.execute("UPDATE chunks SET text = 'hardware tokens now'")
    db.execute("DELETE FROM meta WHERE key = 'next_chunk_id'")
    db.execute("DROP TABLE schema_migrations")
    db.conn.commit()
    fresh = Runtime.open(settings)
    keywords = fresh.indexes().keywords
    assert not keywords.search(["swordfish"], 10)
    assert keywords.search(["hardware"], 10)
    generation = fresh.store.generation
    assert Runtime.open(settings).store.generation == generation  # once, not at every open
