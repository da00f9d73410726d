"""The change sequence: every passage written or deleted is logged under the generation
its transaction ends at, and the derived indexes catch up from it alone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unit

from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store


def put(store: Store, doc_id: str, *texts: str) -> None:
    store.write_document(Document(id=doc_id, title=doc_id, body=" ".join(texts)),
                         [Chunk(doc_id, i, t) for i, t in enumerate(texts)],
                         np.array([unit([1, i, 0]) for i in range(len(texts))]))


def net(store: Store, since: int) -> tuple[list[int], list[int]]:
    changes = store.changes_since(since)
    assert changes is not None and changes.generation == store.generation
    return changes.added.tolist(), changes.removed.tolist()


def test_each_generation_logs_what_it_added_and_removed():
    store = Store.memory()
    put(store, "a", "one", "two")  # generation 1: passages 1, 2
    put(store, "b", "three")  # generation 2: passage 3
    put(store, "a", "one again")  # generation 3: 1 and 2 replaced by 4
    store.delete_document("b")  # generation 4: 3 removed
    assert store.generation == 4
    assert net(store, 0) == ([4], [1, 2, 3])  # 3 came and went: nothing to add
    assert net(store, 1) == ([4], [1, 2, 3])
    assert net(store, 2) == ([4], [1, 2, 3])
    assert net(store, 3) == ([], [3])
    assert net(store, 4) == ([], [])
    assert store.changes_since(5) is None  # a generation the store never had


def test_writes_to_passages_are_logged_whoever_makes_them():
    store = Store.memory()
    put(store, "a", "one")
    with store.writing():  # a write path that knows nothing of the log
        store.db.execute("DELETE FROM chunks WHERE doc_id = 'a'")
        store._bump_generation()
    assert net(store, 1) == ([], [1])


def test_a_store_from_before_the_log_logs_from_then_on(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", "one")
    put(store, "b", "two")
    with store.writing():  # what an older version left: no log, no triggers, no migrations
        for trigger in ("chunk_added", "chunk_removed"):
            store.db.execute(f"DROP TRIGGER {trigger}")
        store.db.execute("DROP TABLE chunk_changes")
        store.db.execute("DELETE FROM meta WHERE key = 'changes_from'")
        store.db.execute("DROP TABLE schema_migrations")
    reopened = Store.open(tmp_path)
    assert reopened.changes_since(1) is None  # before the log: ids are compared instead
    put(reopened, "c", "three")
    assert net(reopened, 2) == ([3], [])


def test_catching_up_reads_only_what_changed(tmp_path, monkeypatch):
    store = Store.open(tmp_path)
    for i in range(20):
        put(store, f"d{i}", f"note {i} about harbours")
    indexes = DerivedIndexes.load(store, 3, tmp_path)
    put(store, "new", "cranes at the quay")
    store.delete_document("d3")

    def every_id():
        raise AssertionError("catching up read every passage id")

    monkeypatch.setattr(store, "chunk_ids", every_id)
    indexes.catch_up()
    monkeypatch.undo()
    stored = sorted(store.chunk_ids().tolist())
    assert sorted(indexes.vectors.ids().tolist()) == stored
    keywords = indexes.keywords
    assert sorted(keywords.ids[keywords.alive].tolist()) == stored
    assert [c for c, _ in keywords.search(["cranes"], 3)] == [21]  # the 21st passage
    noted = {c for c, _ in keywords.search(["note"], 50)}
    assert 4 not in noted and len(noted) == 19  # d3's passage (the 4th) is gone


@pytest.mark.parametrize("older", [True, False])
def test_an_index_behind_the_log_or_older_than_it_ends_the_same(tmp_path, older):
    store = Store.open(tmp_path)
    put(store, "a", "alpha")
    indexes = DerivedIndexes.load(store, 3, tmp_path)
    put(store, "b", "beta")
    store.delete_document("a")
    if older:  # the log starts after the index's generation: id sets are compared
        store.db["meta"].upsert({"key": "changes_from", "value": "2"}, pk="key")
        assert store.changes_since(1) is None
    indexes.catch_up()
    assert indexes.vectors.ids().tolist() == [2]
    assert indexes.keywords.ids[indexes.keywords.alive].tolist() == [2]
    assert indexes.vectors.generation == indexes.keywords.generation == 3


def test_the_lag_counts_generations_and_passages_behind(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", "alpha")
    indexes = DerivedIndexes.load(store, 3, tmp_path)
    assert indexes.lag()["generations_behind"] == 0
    put(store, "b", "beta", "gamma")  # two passages added
    store.delete_document("a")  # one removed
    lag = indexes.lag()
    assert (lag["generation"], lag["indexes_generation"]) == (3, 1)
    assert (lag["generations_behind"], lag["passages_behind"]) == (2, 3)
    assert DerivedIndexes.saved_generation(tmp_path) == 1  # the files, as saved
    indexes.catch_up()
    assert indexes.lag()["generations_behind"] == indexes.lag()["passages_behind"] == 0
    indexes.save()
    assert DerivedIndexes.saved_generation(tmp_path) == 3



def test_readyz_says_how_far_behind_the_servers_indexes_are(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.runtime import Runtime
    from api.settings import Settings

    runtime = Runtime.open(Settings(data_dir=tmp_path, embedder="hashing-64"))
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        client.app.state.whoknows.warm_up()
        assert client.get("/readyz").json()["generations_behind"] == 0
        # Another process (a worker) writes to the store: the server is one behind
        # until its next search catches up.
        writer = Store.open(tmp_path)
        writer.write_document(Document(id="n", title="n", body="harbour cranes"),
                              [Chunk("n", 0, "harbour cranes")],
                              np.array([unit(np.ones(64))]))
        assert client.get("/readyz").json() == {"ready": True, "store": "sqlite",
                                                "generations_behind": 1, "queue": "ok"}
        assert client.get("/api/search", params={"q": "cranes"}).json()["articles"]
        assert client.get("/readyz").json()["generations_behind"] == 0
