"""The derived indexes as one object: loaded from their folder, caught up with the
store, rebuilt, and saved only when they changed."""

from __future__ import annotations

import numpy as np
from conftest import unit

from indexer import keywords, vectors
from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store


def put(store: Store, doc_id: str, text: str, vector) -> None:
    store.write_document(Document(id=doc_id, title=doc_id, body=text),
                         [Chunk(doc_id, 0, text)], np.array([unit(vector)]))


def agree(indexes: DerivedIndexes, store: Store) -> None:
    stored = sorted(store.chunk_ids().tolist())
    assert sorted(indexes.vectors.ids().tolist()) == stored
    assert sorted(indexes.keywords.ids[indexes.keywords.alive].tolist()) == stored
    assert indexes.vectors.generation == indexes.keywords.generation == store.generation
    assert not indexes.behind()


def test_catching_up_follows_additions_and_deletions(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", "kafka retention", [1, 0, 0])
    indexes = DerivedIndexes.load(store, 3, tmp_path)
    put(store, "b", "harbour cranes", [0, 1, 0])
    store.delete_document("a")
    assert indexes.behind()
    assert indexes.catch_up() is True
    agree(indexes, store)
    assert indexes.catch_up() is False  # nothing new
    # Chunk 1 (a) is gone, chunk 2 (b) found by its words and by its vector.
    assert [c for c, _ in indexes.keywords.search(["cranes"], 5)] == [2]
    assert not indexes.keywords.search(["kafka"], 5)
    assert [c for c, _ in indexes.vectors.search(unit([0, 1, 0]), 1)] == [2]


def test_only_what_changed_is_saved(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", "kafka retention", [1, 0, 0])
    DerivedIndexes.load(store, 3, tmp_path)  # built and saved
    files = [tmp_path / vectors.INDEX_FILE, tmp_path / vectors.MANIFEST_FILE,
             tmp_path / keywords.INDEX_FILE]
    before = [f.stat().st_mtime_ns for f in files]
    loaded = DerivedIndexes.load(store, 3, tmp_path)  # up to date: read, not written
    assert [f.stat().st_mtime_ns for f in files] == before
    agree(loaded, store)
    put(store, "b", "harbour cranes", [0, 1, 0])
    loaded.catch_up()  # in memory only
    assert [f.stat().st_mtime_ns for f in files] == before
    loaded.save()
    assert all(f.stat().st_mtime_ns != t for f, t in zip(files, before, strict=True))
    agree(DerivedIndexes.load(store, 3, tmp_path), store)


def test_a_rebuild_is_saved_at_once_and_needs_no_embedder(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", "kafka retention", [1, 0, 0])
    put(store, "b", "harbour cranes", [0, 1, 0])
    indexes = DerivedIndexes.build(store, 3, tmp_path)
    agree(indexes, store)
    assert (tmp_path / vectors.INDEX_FILE).exists() and (tmp_path / keywords.INDEX_FILE).exists()
    in_memory = DerivedIndexes.build(store, 3)  # no folder: nothing written anywhere
    agree(in_memory, store)


def test_an_index_the_store_outgrew_is_replaced_by_the_right_kind(tmp_path):
    store = Store.open(tmp_path)
    rng = np.random.default_rng(0)
    for i in range(300):
        put(store, f"d{i}", f"note {i}", rng.normal(size=3))
    indexes = DerivedIndexes.load(store, 3, tmp_path, ann_threshold=400)
    assert indexes.vectors.kind == "flat"
    for i in range(300, 420):
        put(store, f"d{i}", f"note {i}", rng.normal(size=3))
    indexes.catch_up()  # 420 passages: past the threshold, so IVF, trained on them
    assert indexes.vectors.kind == "ivf" and indexes.vectors.trained_count == 420
    agree(indexes, store)
