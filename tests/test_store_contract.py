"""The store's contract, specified once and run against both engines: SQLite in a data
folder (the default) and PostgreSQL (a real server on loopback: the ``pg_url`` fixture;
skipped here without one, a failure in CI).

Each test says one thing every caller may rely on, whichever engine holds the data."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from indexer.errors import IndexMismatch, NotFound
from indexer.feedback import FeedbackLog
from indexer.jobs import JobStore
from indexer.keys import KeyRing
from indexer.migrations import applied
from indexer.profiles import ProfileBook
from indexer.query_log import QueryLog
from indexer.records import Chunk, Document, Filters, Person, Skill
from indexer.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path) -> str:
    """Where a store lives: a data folder, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "data")


@pytest.fixture
def store(where) -> Store:
    return open_store(where)


def vec(*values: float, dim: int = 4) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[:len(values)] = values
    return v / np.linalg.norm(v)


def doc(doc_id: str, *texts: str, **fields) -> tuple[Document, list[Chunk], np.ndarray]:
    d = Document(id=doc_id, title=fields.pop("title", doc_id.title()), body=" ".join(texts),
                 **fields)
    chunks = [Chunk(doc_id, i, t) for i, t in enumerate(texts)]
    return d, chunks, np.vstack([vec(1, i + 1, len(doc_id)) for i in range(len(texts))])


def test_documents_read_back_as_written(store):
    d, chunks, vectors = doc("kb-1", "first passage", "second passage", kind="lesson",
                             authors=("Ana Lima", "bo@example.com"), tags=("Kafka", "ops"),
                             language="en", updated_at="2024-05-01", groups=("Finance",),
                             source="/x/kb-1.md", extra={"url": "https://x", "n": 3})
    store.write_document(d, chunks, vectors, chunking="v1")
    got = store.get_document("kb-1")
    assert (got.title, got.kind, got.authors, got.tags, got.language, got.updated_at,
            got.groups, got.source, got.extra) == (
        "Kb-1", "lesson", ("Ana Lima", "bo@example.com"), ("Kafka", "ops"), "en",
        "2024-05-01", ("Finance",), "/x/kb-1.md", {"url": "https://x", "n": 3})
    assert store.document_hashes() == {"kb-1": (d.content_hash(), "/x/kb-1.md", "v1")}
    ids, stored = next(store.iter_vectors())
    assert len(ids) == 2 and stored.tobytes() == vectors.astype(np.float32).tobytes()
    texts = [t for _, _, t, _ in store.iter_passages()]
    assert texts == ["Kb-1\nfirst passage", "Kb-1\nsecond passage"]


def test_a_document_its_reader_may_not_read_is_missing(store):
    store.write_document(*doc("secret", "salaries", groups=("Finance",)))
    assert store.get_document("secret", groups=("finance",)).id == "secret"  # any case
    with pytest.raises(NotFound):
        store.get_document("secret", groups=("hr",))
    with pytest.raises(NotFound):
        store.get_document("nothing")


def test_filters_select_the_same_documents(store):
    store.write_documents([
        doc("a", "alpha", kind="article", tags=("Kafka",), language="en",
            updated_at="2024-01-01", groups=()),
        doc("b", "beta", kind="lesson", tags=("ops", "kafka"), language="de",
            updated_at="2024-06-01", groups=("Finance",)),
        doc("c", "gamma", kind="lesson", tags=(), language="de", updated_at="2023-01-01",
            groups=("HR",)),
    ])
    count = store.count_documents
    assert count(Filters(kinds=("LESSON",))) == 2
    assert count(Filters(tags=("KAFKA",))) == 2
    assert count(Filters(languages=("de",), updated_after="2024-01-01")) == 1
    assert count(Filters(groups=("finance",))) == 2  # the open one and Finance's
    assert count(Filters(groups=())) == 1  # a caller in no group reads open documents only
    assert store.tags() == ["Kafka", "kafka", "ops"]
    assert store.languages(Filters(groups=("hr",))) == ["de", "en"]
    assert sorted(store.chunk_documents(store.chunk_ids(), Filters(kinds=("lesson",)))
                  .values()) == ["b", "c"]


def test_passage_ids_are_never_reused_and_the_generation_counts_writes(store):
    start = store.generation
    store.write_document(*doc("a", "one", "two"))
    first = set(store.chunk_ids().tolist())
    store.write_document(*doc("a", "one again"))  # replaced: new ids
    second = set(store.chunk_ids().tolist())
    store.delete_document("a")
    store.write_document(*doc("b", "three"))
    assert not (first | second) & set(store.chunk_ids().tolist()) and not first & second
    assert store.generation == start + 4
    changes = store.changes_since(start)
    assert changes is not None and changes.added.tolist() == store.chunk_ids().tolist()
    assert store.changes_since(start + 1).removed.tolist() == sorted(first | second)


def test_passages_and_their_vectors_are_counted_per_document_language(store):
    for d in (doc("de-1", "eins", "zwei", language="de"), doc("en-1", "one", language="en"),
              doc("xx-1", "???")):
        store.write_document(*d, chunking="v1")
    sums = store.vector_sums_by_language(batch=2)  # batches split a language's passages
    assert {k: v[0] for k, v in sums.items()} == {"de": 2, "en": 1, None: 1}
    assert store.passages_by_language() == {"de": 2, "en": 1, None: 1}
    np.testing.assert_allclose(sums["de"][1], doc("de-1", "eins", "zwei")[2].sum(axis=0),
                               rtol=1e-6)


def test_a_failed_write_changes_nothing(store):
    store.write_document(*doc("a", "one"))
    generation = store.generation
    bad = (Document(id="b", title="b", body="x"), [Chunk("b", 0, "x"), Chunk("b", 1, "y")],
           np.array([vec(1)]))  # two passages, one vector: fails midway
    with pytest.raises(ValueError):
        store.write_documents([doc("c", "fine"), bad])
    assert store.count("documents") == 1 and store.count("chunks") == 1
    assert store.generation == generation
    store.write_document(*doc("d", "after"))  # the store writes on
    assert store.count("documents") == 2


def test_writers_in_two_connections_queue_and_lose_nothing(where):
    stores = [open_store(where), open_store(where)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                stores[n].write_document(*doc(f"w{n}-{i}", f"text {n} {i}", "more"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in (0, 1)]
    start = stores[0].generation
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = stores[1].chunk_ids()
    assert len(ids) == 60 and len(set(ids.tolist())) == 60
    assert stores[1].generation == start + 30
    assert len(stores[0].changes_since(start).added) == 60


def test_a_read_snapshot_does_not_move_under_a_writer(where):
    reader, writer = open_store(where), open_store(where)
    reader.write_document(*doc("a", "one"))
    with reader.reading():
        before = (reader.generation, reader.count("chunks"))
        writer.write_document(*doc("b", "two"))
        assert (reader.generation, reader.count("chunks")) == before
    assert reader.count("chunks") == 2


def test_people_identities_and_visibility(store):
    store.write_person(Person(id="p-ana", name="Ana Lima", email="ana@x.com",
                              department="Data", location="Lisbon",
                              skills=(Skill("Kafka", 4, 2.5),), languages=("pt", "en")),
                       vec(1, 0))
    store.write_person(Person(id="slack-U1", name="ana.lima", email="ANA@x.com",
                              system="slack"), None)
    store.write_person(Person(id="p-hid", name="Hidden Person", department="Secret",
                              location="Nowhere", visible=False), vec(0, 1))
    store.write_documents([doc("kb", "text", authors=("slack-U1", "Hidden Person", "Zed"))])
    assert store.merged_accounts() == 1
    assert store.authors_by_document() == {"kb": ["p-ana", "p-hid", "Zed"]}
    assert store.get_document("kb").authors == ("slack-U1", "Zed")  # the opted-out left out
    assert store.get_person("p-ana").skills == (Skill("Kafka", 4, 2.5),)
    with pytest.raises(NotFound):
        store.get_person("p-hid", shown=True)
    with pytest.raises(NotFound):
        store.get_person("slack-U1", shown=True)  # listed as the person it is
    assert store.departments() == ["Data"] and store.locations() == ["Lisbon"]
    assert store.count_visible_people() == 1
    ids, vectors = store.profile_vectors()
    assert ids == ["p-ana", "p-hid"] and vectors.shape == (2, 4)
    assert store.unmatched_authors() == (1, [("Zed", 1, False)])
    assert [d["id"] for d in store.documents_of(store.get_person("p-ana"))] == ["kb"]
    generation = store.people_generation
    store.delete_person("p-hid")
    assert store.people_generation > generation
    assert store.authors_by_document()["kb"] == ["p-ana", "Hidden Person", "Zed"]


def test_the_model_is_bound_once(store):
    store.bind_embedder("model-a", 4)
    store.bind_embedder("model-a", 4)
    with pytest.raises(IndexMismatch):
        store.bind_embedder("model-b", 8)
    store.rebind_embedder("model-b", 8)
    assert (store.get_meta("embedder"), store.get_meta("dim")) == ("model-b", "8")
    assert store.indexes_valid_from == store.generation


def test_jobs_are_claimed_once_and_reclaimed_once(store):
    jobs = JobStore(store, stale_after_s=0.05)
    job = jobs.create("ingest", {"paths": ["/a"], "sync": True})
    assert jobs.start(job.id, "host-a:1") is not None
    assert jobs.start(job.id, "host-b:2") is None  # running, alive
    assert jobs.synced_folders() == ["/a"]
    time.sleep(0.1)
    lost = jobs.lost("host-c:3")
    assert [j.id for j in lost] == [job.id]
    assert jobs.reclaim(lost[0]) == "queued"
    assert jobs.reclaim(lost[0]) is None  # it moved on meanwhile: nobody reclaims it twice
    again = jobs.start(job.id, "host-b:2")
    assert again is not None and again.attempts == 2 and again.worker == "host-b:2"
    jobs.finish(job.id, "done", [], {"documents": 1})
    assert [j.state for j in jobs.recent(state="done")] == ["done"]


def test_keys_are_checked_by_their_secret(store):
    ring = KeyRing(store)
    key, secret = ring.add("lms", groups=("Finance",), name="lms")
    assert ring.verify(secret).id == key.id
    assert ring.verify(secret + "x") is None
    ring.revoke(key.id)
    assert ring.verify(secret) is None


def test_the_learning_tables_keep_order_and_replace_votes(store):
    book = FeedbackLog(store)
    book.add("kafka lag", vec(1), "helped", "kb-1", "v1", at="2024-01-01T00:00:00")
    book.add("Kafka  lag", vec(1), "not_about", "kb-1", "v1", at="2024-01-02T00:00:00")
    votes = book.votes()
    assert [(v.sign, v.target_id, v.query) for v in votes] == [(-1, "kb-1", "Kafka  lag")]
    log = QueryLog(store)
    log.record("kafka lag", vec(1), 0.8, False, 3, ["p-ana", "p-bo"], at="2024-01-01")
    log.record("dbt", vec(0, 1), 0.2, True, 0, ["p-ana"], at="2024-01-02")
    assert [e.query for e in log.entries()] == ["kafka lag", "dbt"]
    assert log.suggested("2024-01-01") == {"p-ana": 2, "p-bo": 1}
    store.write_person(Person(id="p-ana", name="Ana"), None)
    profiles = ProfileBook(store)
    profiles.choose("p-ana", "ask_me", "Kafka")
    profiles.choose("p-ana", "ask_me", "kafka")  # the same topic
    profiles.choose("p-ana", "opt_out")
    assert profiles.opted_out() == {"p-ana"}
    with pytest.raises(NotFound):
        store.get_person("p-ana", shown=True)


def test_migrations_run_once_and_a_newer_store_is_refused(where):
    first = open_store(where)
    versions = applied(first.db)
    assert versions == sorted(versions) and len(versions) >= 2
    assert applied(open_store(where).db) == versions  # opened again: nothing ran twice
    with first.writing():
        first.db.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                         "VALUES (?, ?, ?)", [999, "from the future", "2099-01-01"])
    with pytest.raises(IndexMismatch):
        open_store(where)
