import numpy as np
import pytest
from conftest import unit

from indexer.errors import IndexMismatch, NotFound
from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store
from indexer.vectors import INDEX_FILE, MANIFEST_FILE, VectorIndex


def put(store, doc_id, vector, text="text"):
    store.write_document(Document(id=doc_id, title=doc_id, body=text),
                         [Chunk(doc_id, 0, text)], np.array([unit(vector)]))


def test_the_store_refuses_another_embedder(tmp_path):
    store = Store.open(tmp_path)
    store.bind_embedder("all-MiniLM-L6-v2", 384)
    store.bind_embedder("all-MiniLM-L6-v2", 384)  # the same one is fine
    with pytest.raises(IndexMismatch, match="built with the embedder all-MiniLM-L6-v2"):
        Store.open(tmp_path).bind_embedder("hashing-256", 256)


def test_a_failed_write_leaves_the_previous_state(store):
    put(store, "a", [1, 0, 0])
    generation = store.generation
    bad = (Document(id="b", title="b", body="x"), [Chunk("b", 0, "x"), Chunk("b", 1, "y")],
           np.array([unit([0, 1, 0])]))  # two chunks, one vector: fails midway
    with pytest.raises(ValueError):
        store.write_documents([bad])
    assert store.count("documents") == 1 and store.count("chunks") == 1
    assert store.generation == generation
    if store.backend == "sqlite":
        assert store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 1


def test_delete_document_and_unknown_ids(store):
    put(store, "a", [1, 0, 0])
    store.delete_document("a")
    assert store.count("chunks") == 0
    with pytest.raises(NotFound):
        store.delete_document("a")
    with pytest.raises(NotFound):
        store.get_person("nobody")


def test_document_vectors_are_read_once_per_generation_and_shared(store):
    """The expert ranker and the mentor catalog both read them: one copy, not two; a
    change to the passages is seen at once; a write's own reads are never kept."""
    put(store, "a", [1, 0, 0])
    first = store.document_vectors()
    assert store.document_vectors() is first
    with pytest.raises(ValueError):
        first["a"][0] = 0.5  # read-only: a reader cannot change what the others see
    put(store, "b", [0, 1, 0])
    second = store.document_vectors()
    assert second is not first and set(second) == {"a", "b"}
    with pytest.raises(RuntimeError), store.writing():
        put(store, "c", [0, 0, 1])
        inside = store.document_vectors()
        raise RuntimeError("the write never lands")
    assert set(inside) == {"a", "b", "c"}
    assert store.document_vectors() is second
    put(store, "d", [1, 1, 0])  # the generation the rolled-back write had reached
    assert set(store.document_vectors()) == {"a", "b", "d"}


def test_vector_index_is_rebuilt_from_stored_vectors_without_embedding(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", [1, 0, 0])
    put(store, "b", [0, 1, 0])
    index = DerivedIndexes.load(store, 3, tmp_path).vectors
    assert [doc for doc, _ in index.search(unit([0, 1, 0.1]), 1)] == [2]
    # The store changes after the index was saved: loading brings the index up to date.
    store.delete_document("a")
    put(store, "c", [0, 0, 1])
    index = DerivedIndexes.load(store, 3, tmp_path).vectors
    assert sorted(index.ids().tolist()) == [2, 3]
    assert index.generation == store.generation


def test_a_damaged_index_file_is_rebuilt(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a", [1, 0, 0])
    DerivedIndexes.load(store, 3, tmp_path)
    (tmp_path / INDEX_FILE).write_bytes(b"garbage")
    index = DerivedIndexes.load(store, 3, tmp_path).vectors
    assert index.ids().tolist() == [1]
    assert (tmp_path / MANIFEST_FILE).exists()


def test_filtered_search_is_exact_over_the_allowed_chunks():
    store = Store.memory()
    for i in range(50):
        put(store, f"d{i}", np.random.default_rng(i).normal(size=3))
    index = VectorIndex.build(store, 3)
    allowed = np.array([7, 30], dtype=np.int64)
    hits = index.search(unit([1, 1, 1]), 10, allowed)
    assert sorted(i for i, _ in hits) == [7, 30]


def test_light_listings_of_documents(store):
    from indexer.records import Filters, Person

    def doc(doc_id, source, **fields):
        store.write_document(Document(id=doc_id, title=doc_id.upper(), body="x", source=source,
                                      **fields), [Chunk(doc_id, 0, "x")],
                             np.array([unit([1, 0, 0])]))

    doc("a", "/k/a.md", tags=("kafka",), language="en", groups=("ops",))
    doc("b", "/k/many.jsonl", language="de")
    doc("c", "/k/many.jsonl", language="fr", groups=("hr",))
    doc("d", "/k/mixed.yaml")
    store.write_person(Person(id="p", name="P", source="/k/mixed.yaml"), None)
    assert store.document_labels()["a"] == ("A", ("kafka",), ("ops",))
    assert store.document_labels()["b"] == ("B", (), ())
    # A file of several documents, or of a document and a person, is not single.
    assert store.single_document_sources(["/k/a.md", "/k/many.jsonl", "/k/mixed.yaml",
                                          "/k/none.md"]) == {"/k/a.md"}
    assert store.single_document_sources([]) == set()
    assert store.languages() == ["de", "en", "fr"]
    # Documents of a group the reader is not in are not counted, nor are their languages.
    assert store.languages(Filters(groups=("ops",))) == ["de", "en"]
