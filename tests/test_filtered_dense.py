"""Filtered dense retrieval returns exactly the nearest allowed chunks, whether the
filter lets most chunks through (searched deeper, filtered after) or few (searched
exactly over the allowed ones)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.embedders import HashingEmbedder
from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document, Filters
from indexer.store import Store
from search.retrieval import Searcher

DIM = 16


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.memory()
    docs = []
    for i, v in enumerate(vectors):
        restricted = i % 10 == 0  # 10% in the "hr" group
        kind = "lesson" if i % 20 == 3 else "article"  # 5% lessons
        doc = Document(id=f"d{i}", title=f"d{i}", body="x", kind=kind,
                       groups=("hr",) if restricted else ())
        docs.append(doc)
        store.write_document(doc, [Chunk(doc.id, 0, "x")], v[None])
    searcher = Searcher(store, DerivedIndexes.build(store, DIM), HashingEmbedder(DIM), depth=20)
    return searcher, vectors, docs


def passes(doc: Document, filters: Filters) -> bool:
    if filters.kinds and doc.kind not in filters.kinds:
        return False
    return filters.groups is None or not doc.groups or bool(set(doc.groups) & set(
        filters.groups))


@pytest.mark.parametrize("filters", [
    Filters(groups=()),  # 90% pass: the deeper unfiltered search, filtered after
    Filters(kinds=("lesson",)),  # 5% pass: the exact search over allowed chunks
    Filters(kinds=("lesson",), groups=()),
    Filters(),
])
def test_the_nearest_allowed_chunks_come_back(world, filters):
    searcher, vectors, docs = world
    for seed in range(5):
        query = np.random.default_rng(100 + seed).normal(size=DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        got = [(doc, round(score, 4)) for _, doc, score in searcher._dense(query, 20, filters)]
        allowed = [i for i, d in enumerate(docs) if passes(d, filters)]
        best = sorted(allowed, key=lambda i: -float(vectors[i] @ query))[:20]
        assert [d for d, _ in got] == [f"d{i}" for i in best]
        assert [s for _, s in got] == [round(float(vectors[i] @ query), 4) for i in best]


@pytest.fixture(scope="module")
def texts():
    rng = np.random.default_rng(8)
    words = [f"w{i}" for i in range(40)]
    store = Store.memory()
    for i in range(300):
        doc = Document(id=f"t{i}", title=f"t{i}", body="x",
                       kind="lesson" if i % 20 == 3 else "article",
                       groups=("hr",) if i % 10 == 0 else ())
        text = " ".join(rng.choice(words, size=int(rng.integers(5, 30))))
        store.write_document(doc, [Chunk(doc.id, 0, text)], np.zeros((1, DIM), np.float32))
    return Searcher(store, DerivedIndexes.build(store, DIM), HashingEmbedder(DIM), depth=15)


@pytest.mark.parametrize("filters", [
    Filters(groups=()),  # most pass: ranked unfiltered, filtered after
    Filters(kinds=("lesson",)),  # few pass: ranked over the allowed chunks only
    Filters(kinds=("lesson",), groups=()),
    Filters(),
])
@pytest.mark.parametrize("query", ["w1 w2", "w7", "w3 w9 w30"])
def test_keyword_search_ranks_exactly_within_filters(texts, filters, query):
    """The in-memory BM25 index, filtered, against FTS5 with the filter joined in."""
    got = texts._keyword(query, 15, filters)
    match = " OR ".join(f'"{t}"' for t in query.split())
    exact = texts.store.keyword_search(match, 15, filters)
    assert got  # every word occurs somewhere in 300 texts of 5-30 of 40 words
    assert [(c, d) for c, d, _ in got] == [(c, d) for c, d, _ in exact]
    assert [s for *_, s in got] == pytest.approx([s for *_, s in exact], rel=1e-5)
