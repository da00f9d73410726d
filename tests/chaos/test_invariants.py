"""The invariants the chaos tests check (tests/invariants.py) catch what they claim to:
each passes on a sound data folder and fails, saying what broke, on one damaged on
purpose. Fast: these run with every ``make test``."""

import json
from collections.abc import Callable

import backends
import faiss
import numpy as np
import pytest
from conftest import write
from invariants import (
    check_documents,
    check_indexes,
    check_jobs_settled,
    check_keywords,
    check_no_leftovers,
    check_saved_indexes,
    check_store,
    check_vectors,
    read_keywords,
)

from api.runtime import Runtime
from indexer.jobs import JobStore
from indexer.keywords import KeywordIndex
from indexer.vectors import VectorIndex
from ingest.pipeline import Ingester

NOTES = {f"n-{i}": f"Note {i}" for i in range(30)}


@pytest.fixture
def runtime(tmp_path) -> Runtime:
    """30 one-passage notes, ingested, with their indexes saved and one job done."""
    for i in range(30):
        write(tmp_path / "corpus", f"n{i}.md", f"---\nid: n-{i}\ntitle: Note {i}\nauthors: "
              f"[p-{i % 3}]\n---\n" + " ".join(f"w{(i * 7 + j) % 97}" for j in range(60)))
    runtime = Runtime.open(backends.settings(tmp_path / "data", embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([tmp_path / "corpus"])
    runtime.refresh_indexes()
    jobs = JobStore(runtime.store)
    job = jobs.create("reindex", {})
    jobs.finish(job.id, "done", [], {})
    return runtime


def everything(runtime: Runtime) -> None:
    data = runtime.settings.data_dir
    check_store(runtime.store)
    check_saved_indexes(runtime.store, data)
    check_indexes(data)
    check_documents(runtime.store, NOTES)
    check_jobs_settled(runtime.store)
    check_no_leftovers(data)


def test_a_sound_data_folder_passes(runtime):
    everything(runtime)


# -- damage, one kind at a time ---------------------------------------------------------

def sql(statement: str) -> Callable[[Runtime], None]:
    def damage(runtime: Runtime) -> None:
        with runtime.store.writing():
            runtime.store.db.execute(statement)
    return damage


def first_id(runtime: Runtime) -> int:
    return int(runtime.store.chunk_ids().min())


def saved_vectors(runtime: Runtime) -> VectorIndex:
    data = runtime.settings.data_dir
    return VectorIndex(2048, faiss.read_index(str(data / "vectors.faiss")),
                       runtime.store.generation)


def vector_replaced(runtime: Runtime) -> None:
    """One passage's vector in the saved index swapped for another's."""
    index = saved_vectors(runtime)
    ids = index.ids()
    index.remove(ids[:1])
    index.add(ids[:1], runtime.embedder.embed(["something else entirely"]))
    index.save(runtime.settings.data_dir)


def vector_dropped(runtime: Runtime) -> None:
    index = saved_vectors(runtime)
    index.remove(index.ids()[:1])
    index.save(runtime.settings.data_dir)


def words_swapped(runtime: Runtime) -> None:
    """Two terms' rows swapped in the saved keyword index: "note" (every title) and one
    that fewer passages hold."""
    data = runtime.settings.data_dir
    index = read_keywords(data)
    other = next(t for t in sorted(index.vocab) if t.startswith("w"))
    index.vocab["note"], index.vocab[other] = index.vocab[other], index.vocab["note"]
    index.save(data)


def half_written(name: str) -> Callable[[Runtime], None]:
    def damage(runtime: Runtime) -> None:
        path = runtime.settings.data_dir / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damage


def manifest_behind(runtime: Runtime) -> None:
    path = runtime.settings.data_dir / "vectors.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "generation": manifest["generation"] - 1}))


def left_tmp(runtime: Runtime) -> None:
    (runtime.settings.data_dir / "vectors.faiss.999999.tmp").write_bytes(b"half")


def job_stuck(state: str) -> Callable[[Runtime], None]:
    def damage(runtime: Runtime) -> None:
        job = JobStore(runtime.store).create("ingest", {"paths": []})
        with runtime.store.writing():
            runtime.store.db.execute("UPDATE jobs SET state = ? WHERE id = ?", [state, job.id])
    return damage


def check_saved(runtime: Runtime) -> None:
    check_saved_indexes(runtime.store, runtime.settings.data_dir)


def store_ok(runtime: Runtime) -> None:
    check_store(runtime.store)


def jobs_ok(runtime: Runtime) -> None:
    check_jobs_settled(runtime.store)


def no_leftovers(runtime: Runtime) -> None:
    check_no_leftovers(runtime.settings.data_dir)


DAMAGES = {
    "passage without FTS row": (sql("DELETE FROM chunks_fts WHERE rowid = "
                                    "(SELECT min(id) FROM chunks)"),
                                store_ok, "1 passages without an FTS row"),
    "FTS row without passage": (sql("INSERT INTO chunks_fts(rowid, text) VALUES (99999, 'x')"),
                                store_ok, "1 FTS rows without a passage: 99999"),
    "FTS row of other text": (sql("UPDATE chunks_fts SET text = 'x' WHERE rowid = "
                                  "(SELECT min(id) FROM chunks)"),
                              store_ok, "does not hold its text"),
    "document without passages": (sql("DELETE FROM chunks WHERE doc_id = 'n-3'"),
                                  store_ok, "1 documents without passages: 'n-3'"),
    "passage without document": (sql("DELETE FROM documents WHERE id = 'n-4'"),
                                 store_ok, "1 passages without a document"),
    "authorship of nothing": (sql("INSERT INTO authorship (doc_id, author) "
                                  "VALUES ('ghost', 'p-1')"),
                              store_ok, "authorship of missing documents: 'ghost'"),
    "passage id about to be reused": (sql("UPDATE meta SET value = '1' WHERE "
                                          "key = 'next_chunk_id'"),
                                      store_ok, "would reuse passage id"),
    "passage missing from the change log": (sql("DELETE FROM chunk_changes WHERE chunk_id = "
                                                "(SELECT max(id) FROM chunks)"),
                                            store_ok, "not logged"),
    "vector replaced": (vector_replaced, check_saved, "holds another vector than the store"),
    "vector dropped": (vector_dropped, check_saved, "1 passages missing"),
    "words swapped": (words_swapped, check_saved, "holds other words"),
    "vectors half written": (half_written("vectors.faiss"), check_saved, "cannot be read"),
    "keywords half written": (half_written("keywords.npz"), check_saved, "cannot be read"),
    "manifest behind": (manifest_behind, check_saved, "manifest"),
    "temporary file left": (left_tmp, no_leftovers, "vectors.faiss.999999.tmp"),
    "job left running": (job_stuck("running"), jobs_ok, "1 jobs did not end"),
    "job dead without a reason": (job_stuck("dead"), jobs_ok, "without a reason"),
}


@pytest.mark.parametrize("name", DAMAGES)
def test_each_invariant_catches_its_damage(runtime, name):
    if "FTS" in name and runtime.store.backend != "sqlite":
        pytest.skip("the FTS5 table is SQLite's (PostgreSQL has none to damage)")
    damage, check, words = DAMAGES[name]
    damage(runtime)
    with pytest.raises(AssertionError, match=words):
        check(runtime)


def test_a_document_not_stored_is_named(runtime):
    with pytest.raises(AssertionError, match="1 accepted documents are not in the store: 'n-99'"):
        check_documents(runtime.store, {**NOTES, "n-99": "Note 99"})
    with pytest.raises(AssertionError, match="stored under another title: 'n-1'"):
        check_documents(runtime.store, {**NOTES, "n-1": "Note one"})


def test_the_ivf_index_is_compared_within_its_quantisation(tmp_path):
    """300 passages in an IVF index (threshold 100): its vectors pass, a replaced one not."""
    corpus = tmp_path / "corpus"
    for i in range(300):
        write(corpus, f"n{i}.md", f"---\nid: n-{i}\n---\n" + " ".join(
            f"w{(i * 13 + j) % 997}" for j in range(40)))
    runtime = Runtime.open(backends.settings(tmp_path / "data", embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([corpus])
    index = VectorIndex.build(runtime.store, 2048, ann_threshold=100)
    assert index.kind == "ivf"
    check_vectors(runtime.store, index)
    check_keywords(runtime.store, KeywordIndex.build(runtime.store))
    ids = np.sort(index.ids())[:1]
    index.remove(ids)
    index.add(ids, runtime.embedder.embed(["something else entirely"]))
    with pytest.raises(AssertionError, match="the IVF index's vector is not the stored one"):
        check_vectors(runtime.store, index, sample=300)

