"""The approximate (IVF) index: chosen by size, kept exact in its bookkeeping
(deletions, updates), rebuilt when outgrown, exhaustive for selective filters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer import ann
from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store
from indexer.vectors import MANIFEST_FILE, VectorIndex

DIM = 32


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 40 centres, like topics in real embeddings."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(40, DIM))
    x = centres[rng.integers(0, 40, n)] + 0.35 * rng.normal(size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def fill(store: Store, vectors: np.ndarray, prefix: str = "d", kind: str = "article") -> None:
    store.write_documents([
        (Document(id=f"{prefix}{i}", title=f"{prefix}{i}", body="text", kind=kind),
         [Chunk(f"{prefix}{i}", 0, "text")], v[None]) for i, v in enumerate(vectors)])


@pytest.fixture
def big(tmp_path) -> tuple[Store, np.ndarray]:
    store = Store.open(tmp_path)
    vectors = clustered(1200)
    fill(store, vectors)
    return store, vectors


def chunk_id(store: Store, doc_id: str) -> int:
    return store.db.execute("SELECT id FROM chunks WHERE doc_id = ?", [doc_id]).fetchone()[0]


def test_past_the_threshold_the_index_is_ivf_and_finds_neighbours(tmp_path, big):
    store, vectors = big
    index = DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors
    assert index.kind == "ivf" and len(index) == 1200
    assert json.loads((tmp_path / MANIFEST_FILE).read_text())["kind"] == "ivf"
    exact = VectorIndex.build(store, DIM, ann_threshold=10**9)
    assert exact.kind == "flat"
    queries = clustered(50, seed=1)
    found = [len({i for i, _ in index.search(q, 10)} & {i for i, _ in exact.search(q, 10)})
             for q in queries]
    assert sum(found) / (10 * len(queries)) >= 0.8  # recall@10; the bench measures it at scale
    # A stored vector finds itself first.
    assert index.search(vectors[17], 1)[0][0] == chunk_id(store, "d17")


def test_deletions_and_updates_reach_the_ivf_index(tmp_path, big):
    store, vectors = big
    DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000)
    old = chunk_id(store, "d5")
    store.delete_document("d17")
    fill(store, clustered(1, seed=7), prefix="d5-new")  # a new document
    store.write_documents([(Document(id="d5", title="d5", body="changed"),
                            [Chunk("d5", 0, "changed")], -vectors[5][None])])  # an update
    index = DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors
    assert index.kind == "ivf" and len(index) == 1200
    ids = set(index.ids().tolist())
    assert old not in ids and chunk_id(store, "d5") in ids
    hits = [i for i, _ in index.search(vectors[17], 5)]
    existing = {r[0] for r in store.db.execute("SELECT id FROM chunks")}
    assert hits and set(hits) <= existing  # every hit still exists
    assert index.search(-vectors[5], 1)[0][0] == chunk_id(store, "d5")


def test_a_selective_filter_scans_every_cell(tmp_path, big):
    store, vectors = big
    index = DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors
    query = vectors[0]
    # Five chunks among the least like the query (a normal probe would never open their
    # cells), spaced apart so their order survives the 8-bit quantisation.
    far = np.argsort(vectors @ query)[:200:40]
    allowed = np.array([chunk_id(store, f"d{i}") for i in far], dtype=np.int64)
    hits = index.search(query, 10, allowed)
    assert sorted(i for i, _ in hits) == sorted(allowed.tolist())
    # Best first, in the exact order.
    assert np.diff(sorted(vectors[far] @ query)).min() > 0.01
    exact = sorted(far, key=lambda i: -float(vectors[i] @ query))
    assert [i for i, _ in hits] == [chunk_id(store, f"d{i}") for i in exact]


def test_an_outgrown_index_is_rebuilt_as_the_right_kind(tmp_path):
    store = Store.open(tmp_path)
    fill(store, clustered(900))
    assert DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors.kind == "flat"
    fill(store, clustered(400, seed=3), prefix="e")  # now 1300: past the threshold
    index = DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors
    assert index.kind == "ivf" and index.trained_count == 1300
    for i in range(900):  # down to 400: far below the threshold, exact again
        store.delete_document(f"d{i}")
    index = DerivedIndexes.load(store, DIM, tmp_path, ann_threshold=1000).vectors
    assert index.kind == "flat" and len(index) == 400


@pytest.mark.parametrize(("count", "nlist"), [(0, 256), (100_000, 1024), (1_000_000, 4096),
                                              (5_000_000, 4096)])
def test_cell_counts_grow_with_the_index(count, nlist):
    assert ann.nlist_for(count) == nlist
    assert ann.nprobe_for(nlist) == max(32, nlist // 64)


def test_the_plan_is_flat_below_the_threshold():
    assert ann.IndexPlan.for_size(49_999).kind == "flat"
    plan = ann.IndexPlan.for_size(50_000)
    assert plan.kind == "ivf" and plan.training_size(50_000) == plan.nlist * 40
