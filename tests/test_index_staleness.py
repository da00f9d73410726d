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
    keywords = fresh.keywords()
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
