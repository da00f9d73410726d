"""The in-memory BM25 index scores exactly as the store's FTS5 table does, and stays
in step with the store through additions, replacements, deletions and restarts."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.indexes import DerivedIndexes
from indexer.keywords import INDEX_FILE, KeywordIndex
from indexer.records import Chunk, Document
from indexer.store import Store
from indexer.tokenizer import tokens

TEXTS = [
    "Technology assembly of the routing engine; possibly the fastest assembly yet.",
    "Épidémiologie: the epidemiology of café workers, with 15µm particles and Aβ₁ levels.",
    "Kafka retention policies: retention for audit topics is seven years.",
    "The difﬁcult migration of the billing database; migrating databases is difficult.",
    "Routing, routes and routers: the route planner computes optimal routes.",
    "Onboarding new engineers: pairing, mentoring and a first small change.",
]
QUERIES = ["technology assembly", "epidemiology café µm", "retention audit kafka",
           "difficult migrations", "route optimisation routers", "mentoring pairing onboarding",
           "nothing matches zzzz"]


def write(store: Store, doc_id: str, *texts: str) -> None:
    doc = Document(id=doc_id, title=f"About {doc_id}", body=" ".join(texts))
    chunks = [Chunk(doc_id, i, t) for i, t in enumerate(texts)]
    store.write_document(doc, chunks, np.zeros((len(texts), 4), np.float32))


def fts5(store: Store, query: str, k: int = 50) -> list[tuple[int, float]]:
    match = " OR ".join(f'"{t}"' for t in query.split())
    return [(c, s) for c, _, s in store.keyword_search(match, k)]


def assert_same(index: KeywordIndex, store: Store) -> None:
    for query in QUERIES:
        got = index.search(query.split(), 50)
        want = fts5(store, query)
        assert [c for c, _ in got] == [c for c, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5), query


@pytest.fixture
def store() -> Store:
    store = Store.memory()
    for i, text in enumerate(TEXTS):
        write(store, f"d{i}", text, TEXTS[(i + 1) % len(TEXTS)])
    return store


def test_tokens_fold_case_and_diacritics_then_stem_like_porter():
    assert tokens("Technology ASSEMBLY Épidémiologie µm routers") == [
        "technolog", "assembl", "epidemiologi", "μm", "router"]
    assert tokens("an ox is") == ["an", "ox", "is"]  # under 3 characters: not stemmed


def test_scores_equal_fts5_bm25(store):
    assert_same(KeywordIndex.build(store), store)


def test_a_phrase_repeated_by_stemming_counts_twice_as_in_fts5(store):
    index = KeywordIndex.build(store)
    [(chunk, score)] = index.search(["kafka"], 1)
    [(chunk2, score2)] = index.search(["kafka", "kafkas"], 1)
    assert chunk == chunk2 and score2 == pytest.approx(2 * score)
    assert fts5(store, "kafka kafkas", 1)[0][1] == pytest.approx(score2, rel=1e-5)


def test_only_allowed_chunks_are_ranked(store):
    index = KeywordIndex.build(store)
    everything = index.search(["route"], 50)
    allowed = np.array([everything[-1][0]])
    assert index.search(["route"], 50, allowed) == [everything[-1]]


def test_sync_follows_replacements_deletions_and_additions(store):
    index = KeywordIndex.build(store)
    write(store, "d2", "Kafka retention is now ten years for audit topics.")  # replaced
    store.delete_document("d4")
    write(store, "d9", "A brand new routing note about route optimisation.")
    index.sync(store)
    assert index.generation == store.generation
    assert_same(index, store)
    assert sorted(index.documents_of(store.chunk_ids()).values()) == sorted(
        r["doc_id"] for r in store.db.query("SELECT doc_id FROM chunks"))


def test_ids_after_deleting_the_last_document_are_new_and_in_order(store):
    """Deleting the last document and adding another gives the new passages new ids
    (never the deleted ones), so the index drops the old columns and appends in order."""
    index = KeywordIndex.build(store)
    last = store.chunk_ids().max()
    store.delete_document("d5")
    index.sync(store)
    write(store, "d7", "Route planning for the night shift.", "Retention of shift logs.")
    assert store.chunk_ids().min() > 0 and store.chunk_ids().max() > last  # never reused
    index.sync(store)
    assert np.all(np.diff(index.ids) > 0)
    assert_same(index, store)
    assert index.documents_of([last]) == {}


def test_many_deletions_are_compacted(store):
    index = KeywordIndex.build(store)
    for i in range(4):
        store.delete_document(f"d{i}")
    index.sync(store)
    assert len(index.ids) == len(index) == store.count("chunks")
    assert_same(index, store)


def test_saved_index_is_loaded_and_brought_up_to_date(tmp_path):
    store = Store.open(tmp_path)
    for i, text in enumerate(TEXTS):
        write(store, f"d{i}", text)
    DerivedIndexes.load(store, 4, tmp_path)  # built and saved
    assert (tmp_path / INDEX_FILE).exists()
    write(store, "d1", "Completely new text about kafka.")
    loaded = DerivedIndexes.load(store, 4, tmp_path).keywords
    assert loaded.generation == store.generation
    assert_same(loaded, store)
    assert np.load(tmp_path / INDEX_FILE)["generation"] == store.generation  # saved again


def test_a_damaged_file_is_rebuilt(tmp_path):
    store = Store.open(tmp_path)
    write(store, "d0", TEXTS[0])
    (tmp_path / INDEX_FILE).write_bytes(b"not an index")
    assert_same(DerivedIndexes.load(store, 4, tmp_path).keywords, store)


def test_an_empty_store_finds_nothing():
    index = KeywordIndex.build(Store.memory())
    assert index.search(["anything"], 10) == []
    assert index.documents_of([1, 2]) == {}


def test_new_passages_go_to_small_segments_that_merge_later(tmp_path):
    store = Store.open(tmp_path)
    for i in range(60):
        write(store, f"d{i}", TEXTS[i % len(TEXTS)])
    index = KeywordIndex.build(store)
    for i in range(3):
        write(store, f"n{i}", f"Fresh note {i} on kafka retention and route planning.")
        index.sync(store)
    assert len(index.segments) == 4  # one per batch: no copy of the whole matrix
    assert_same(index, store)
    for i in range(3, 8):
        write(store, f"n{i}", f"Fresh note {i} on difficult migrations.")
        index.sync(store)
    assert index.segments[0].shape[1] == 67  # merged when 7 new columns passed 6 (a tenth)
    assert len(index.segments) == 2  # the eighth starts the next segment
    assert_same(index, store)
    index.save(tmp_path)
    assert_same(DerivedIndexes.load(store, 4, tmp_path).keywords, store)
