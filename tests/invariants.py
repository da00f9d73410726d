"""What must hold after any crash, as plain functions: each raises AssertionError saying
what broke. The fault-injection tests (tests/chaos/test_kills.py) check them after every kill;
any test may use them.

- ``check_store``: the SQLite store is whole and its tables agree with each other.
- ``check_indexes``: the derived indexes, loaded as the server loads them, hold exactly
  the store's passages: the same ids, the same vectors, the same words.
- ``check_saved_indexes``: the index files as they lie on disk, with no catch-up, do so.
- ``check_documents``: every document an accepted ingest or upload held is stored.
- ``check_jobs_settled``: no job is left queued or running.
- ``check_no_leftovers``: no temporary file of a killed writer is left.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import backends
import faiss
import numpy as np

from api.runtime import Runtime
from indexer import keywords, vectors
from indexer.keywords import KeywordIndex
from indexer.store import Store
from indexer.tokenizer import tokens
from indexer.vectors import VectorIndex

SAMPLE = 50  # passages whose vector and words are compared one by one
FLAT_TOLERANCE = 1e-6  # a flat index holds the stored float32 vector exactly
IVF_MIN_COSINE = 0.99  # an IVF index holds it quantised to 8 bits per dimension


def _some(values: Iterable[Any], limit: int = 5) -> str:
    """A few of ``values`` for a message, and how many more there are."""
    items = sorted(values)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(map(repr, items[:limit])) + more


def _ids(store: Store, sql: str) -> set[Any]:
    return {row[0] for row in store.db.execute(sql)}


# -- the store ---------------------------------------------------------------------

def check_store(store: Store, sample: int = SAMPLE, seed: int = 0) -> None:
    """SQLite's own checks, then the tables against each other: every document has its
    passages, every passage its document and its FTS row (with the text search indexes)
    and no FTS row is without a passage, authorship points to documents, vectors have the
    store's dimension, and passage ids are never handed out twice. On PostgreSQL (no
    FTS5 table; the server keeps its own pages whole) the same, less what is SQLite's."""
    sqlite = store.backend == "sqlite"
    if sqlite:
        _check_sqlite(store)
    problems = {
        "documents without passages": _ids(store, "SELECT id FROM documents d WHERE NOT "
                                           "EXISTS (SELECT 1 FROM chunks c WHERE c.doc_id = d.id)"),
        "passages without a document": _ids(store, "SELECT id FROM chunks c WHERE NOT EXISTS "
                                            "(SELECT 1 FROM documents d WHERE d.id = c.doc_id)"),
        "authorship of missing documents": _ids(store, "SELECT DISTINCT doc_id FROM authorship "
                                                "a WHERE NOT EXISTS (SELECT 1 FROM documents d "
                                                "WHERE d.id = a.doc_id)"),
        "documents with a passage number twice": _ids(store, "SELECT doc_id FROM chunks "
                                                      "GROUP BY doc_id, ordinal "
                                                      "HAVING count(*) > 1"),
    }
    if sqlite:
        problems["passages without an FTS row"] = _ids(
            store, "SELECT id FROM chunks EXCEPT SELECT rowid FROM chunks_fts")
        problems["FTS rows without a passage"] = _ids(
            store, "SELECT rowid FROM chunks_fts EXCEPT SELECT id FROM chunks")
    dim = store.get_meta("dim")
    if dim is not None:
        problems["passages whose vector is not of the store's dimension"] = _ids(
            store, f"SELECT id FROM chunks WHERE length(vector) != {4 * int(dim)}")
    broken = {what: ids for what, ids in problems.items() if ids}
    assert not broken, "; ".join(f"{len(ids)} {what}: {_some(ids)}"
                                 for what, ids in broken.items())
    highest = store.db.execute("SELECT max(id) FROM chunks").fetchone()[0]
    following = store.get_meta("next_chunk_id")
    if highest is not None and following is not None:
        assert int(following) > highest, (
            f"next_chunk_id {following} would reuse passage id {highest}")
    if sqlite:
        _check_fts_text(store, _sample(store.chunk_ids(), sample, seed))
    _check_change_log(store)


def _check_sqlite(store: Store) -> None:
    result = [row[0] for row in store.db.execute("PRAGMA integrity_check")]
    assert result == ["ok"], f"PRAGMA integrity_check: {result[:5]}"
    try:
        with store.writing():  # a command, written as an INSERT; it changes nothing
            store.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    except Exception as exc:  # sqlite3.DatabaseError: the FTS index disagrees with its rows
        raise AssertionError(f"the FTS5 index fails its integrity-check: {exc}") from exc


def _check_change_log(store: Store) -> None:
    """A store that logged from its first passage: replaying the change log gives the
    stored passages exactly (indexer/changes.py), at the store's generation."""
    if int(store.get_meta("changes_from") or 0) != 0:
        return  # a store from before the log: it cannot replay what came before
    changes = store.changes_since(0)
    assert changes is not None and changes.generation == store.generation, (
        f"the change log does not reach generation {store.generation}")
    logged, stored = set(changes.added.tolist()), set(store.chunk_ids().tolist())
    assert logged == stored, (
        f"the change log replays to {len(logged)} passages, the store holds {len(stored)}: "
        f"{_some(logged - stored)} logged, not stored; {_some(stored - logged)} stored, "
        "not logged")


def _check_fts_text(store: Store, ids: np.ndarray) -> None:
    """The FTS row of each passage holds its title and text, as keyword search reads them."""
    for chunk_id, _, text, _ in store.iter_passages(ids):
        row = store.db.execute("SELECT text FROM chunks_fts WHERE rowid = ?",
                               [chunk_id]).fetchone()
        assert row is not None and row[0] == text, (
            f"the FTS row of passage {chunk_id} does not hold its text")


def _sample(ids: np.ndarray, size: int, seed: int) -> np.ndarray:
    if len(ids) <= size:
        return np.sort(ids)
    return np.sort(np.random.default_rng(seed).choice(ids, size=size, replace=False))


# -- the derived indexes -------------------------------------------------------------

def check_indexes(data_dir: str | Path, sample: int = SAMPLE, seed: int = 0) -> None:
    """Load both indexes as the server does (which catches up with the store and removes
    killed writers' leftovers) and compare them with the store by content."""
    runtime = Runtime.open(backends.settings(Path(data_dir)))
    indexes = runtime.indexes()
    check_vectors(runtime.store, indexes.vectors, sample, seed)
    check_keywords(runtime.store, indexes.keywords, sample, seed)


def check_saved_indexes(store: Store, data_dir: str | Path, sample: int = SAMPLE,
                        seed: int = 0) -> None:
    """The index files exactly as they lie, read with no catch-up and no repair: a file
    half written, or a manifest that disagrees with its index, fails here. Only for a
    store no one changed since the files were saved (a re-index of it, killed)."""
    data_dir = Path(data_dir)
    try:
        manifest = json.loads((data_dir / vectors.MANIFEST_FILE).read_text())
        raw = faiss.read_index(str(data_dir / vectors.INDEX_FILE))
        words = read_keywords(data_dir)
    except Exception as exc:  # half written: faiss, numpy or json says so in its own way
        raise AssertionError(f"a saved index file cannot be read: {exc!r}") from exc
    saved = VectorIndex(raw.d, raw, int(manifest["generation"]), int(manifest["trained_count"]))
    assert (manifest["generation"], manifest["count"], manifest["dim"], manifest["kind"]) == (
        store.generation, len(saved), int(store.get_meta("dim") or raw.d), saved.kind), (
        f"the vector manifest {manifest} does not describe the saved index "
        f"({len(saved)} vectors of {raw.d} dimensions, {saved.kind}) of store generation "
        f"{store.generation}")
    check_vectors(store, saved, sample, seed)
    assert words.generation == store.generation, (
        f"the saved keyword index is of generation {words.generation}, the store "
        f"{store.generation}")
    check_keywords(store, words, sample, seed)


def read_keywords(data_dir: Path) -> KeywordIndex:
    """The saved BM25 index as it is (``DerivedIndexes.load`` would rebuild a bad file)."""
    return KeywordIndex.read(data_dir / keywords.INDEX_FILE)


def _check_same_ids(what: str, held: np.ndarray, stored: np.ndarray) -> None:
    repeated = {int(i) for i, n in Counter(held.tolist()).items() if n > 1}
    assert not repeated, f"the {what} holds passages twice: {_some(repeated)}"
    extra = set(held.tolist()) - set(stored.tolist())
    missing = set(stored.tolist()) - set(held.tolist())
    assert not extra and not missing, (
        f"the {what} disagrees with the store: {len(missing)} passages missing "
        f"({_some(missing)}), {len(extra)} not in the store ({_some(extra)})")


def check_vectors(store: Store, index: VectorIndex, sample: int = SAMPLE, seed: int = 0) -> None:
    """The FAISS index holds exactly the store's passage ids, and for a sample of them the
    stored vector (exactly for a flat index, up to quantisation for IVF). It builds
    the IVF index's direct map for the while (no one may use the index meanwhile)."""
    _check_same_ids("vector index", index.ids(), store.chunk_ids())
    raw = faiss.downcast_index(index.index)
    if isinstance(raw, faiss.IndexIVF):
        raw.set_direct_map_type(faiss.DirectMap.Hashtable)  # ids are not 0..n-1
        try:
            _check_vectors(store, raw, sample, seed, ivf=True)
        finally:
            raw.set_direct_map_type(faiss.DirectMap.NoMap)  # as the index was
    else:
        _check_vectors(store, raw, sample, seed, ivf=False)


def _check_vectors(store: Store, raw: faiss.Index, sample: int, seed: int, ivf: bool) -> None:
    for ids, stored in store.vectors_of(_sample(store.chunk_ids(), sample, seed)):
        for chunk_id, vector in zip(ids.tolist(), stored, strict=True):
            held = raw.reconstruct(chunk_id)
            if ivf:
                cosine = float(held @ vector) / max(float(np.linalg.norm(held)), 1e-12)
                assert cosine >= IVF_MIN_COSINE, (
                    f"passage {chunk_id}: the IVF index's vector is not the stored one "
                    f"(cosine {cosine:.4f})")
            else:
                assert np.allclose(held, vector, atol=FLAT_TOLERANCE), (
                    f"passage {chunk_id}: the vector index holds another vector than the "
                    f"store (largest difference {float(np.abs(held - vector).max()):.3g})")


def check_keywords(store: Store, index: KeywordIndex, sample: int = SAMPLE,
                   seed: int = 0) -> None:
    """The BM25 index's live columns are exactly the store's passages, and for a sample of
    them the column holds the passage's tokens (title and text, as FTS5 indexes them)
    with their counts, its length, and its document."""
    columns = len(index.ids)
    shapes = (len(index.lengths), len(index.doc_index), len(index.languages),
              len(index.alive), sum(m.shape[1] for m in index.segments))
    assert shapes == (columns,) * 5, (
        f"the keyword index's arrays disagree on its number of columns: {columns}, {shapes}")
    assert (np.diff(index.ids) > 0).all(), "the keyword index's passage ids are not ascending"
    _check_same_ids("keyword index", index.ids[index.alive], store.chunk_ids())
    terms = {row: term for term, row in index.vocab.items()}
    wanted = _sample(store.chunk_ids(), sample, seed)
    held = _columns(index, np.searchsorted(index.ids, wanted))
    for chunk_id, doc_id, text, language in store.iter_passages(wanted):
        column = int(np.searchsorted(index.ids, chunk_id))
        words = Counter(tokens(text, language))
        found = {terms[row]: count for row, count in held[column].items()}
        assert found == words, (
            f"passage {chunk_id}: the keyword index holds other words than the store "
            f"(missing {_some(set(words) - set(found))}, extra {_some(set(found) - set(words))}"
            f", counts differ for {_some(t for t in words if found.get(t, words[t]) != words[t])})")
        assert index.lengths[column] == sum(words.values()), (
            f"passage {chunk_id}: the keyword index counts {index.lengths[column]} tokens, "
            f"the text has {sum(words.values())}")
        assert index.language_names[index.languages[column]] == (language or ""), (
            f"passage {chunk_id}: the keyword index holds it as language "
            f"{index.language_names[index.languages[column]]!r}, the store as {language!r}")
        assert index.doc_names[index.doc_index[column]] == doc_id, (
            f"passage {chunk_id}: the keyword index files it under "
            f"{index.doc_names[index.doc_index[column]]!r}, the store under {doc_id!r}")


def _columns(index: KeywordIndex, columns: np.ndarray) -> dict[int, dict[int, int]]:
    """column -> {vocabulary row: term frequency} for the given columns, over segments."""
    out: dict[int, dict[int, int]] = {int(c): {} for c in columns}
    offset = 0
    for matrix in index.segments:
        mine = [c for c in out if offset <= c < offset + matrix.shape[1]]
        if mine:
            part = matrix.tocsc()[:, [c - offset for c in mine]].tocoo()
            for row, col, count in zip(part.row, part.col, part.data, strict=True):
                out[mine[col]][int(row)] = int(count)
        offset += matrix.shape[1]
    return out


# -- what was accepted, the jobs, the files ---------------------------------------------

def check_documents(store: Store, expected: Mapping[str, str]) -> None:
    """Every document an accepted ingest or upload held (id -> title) is stored, under its
    title, with its passages (``check_store`` holds the passages to their document)."""
    stored = dict(store.db.execute("SELECT id, title FROM documents").fetchall())
    missing = set(expected) - set(stored)
    assert not missing, f"{len(missing)} accepted documents are not in the store: {_some(missing)}"
    wrong = {i for i, title in expected.items() if stored[i] != title}
    assert not wrong, f"{len(wrong)} documents are stored under another title: {_some(wrong)}"


def check_jobs_settled(store: Store) -> None:
    """Every job ended: done, failed, or dead with the reason it was given up."""
    rows = store.db.execute("SELECT id, kind, state, errors FROM jobs").fetchall()
    stuck = {f"{i} ({kind}, {state})" for i, kind, state, _ in rows
             if state not in ("done", "failed", "dead")}
    assert not stuck, f"{len(stuck)} jobs did not end: {_some(stuck)}"
    unexplained = {i for i, _, state, errors in rows if state == "dead"
                   and not any(e.get("reason") for e in json.loads(errors or "[]"))}
    assert not unexplained, f"dead jobs without a reason: {_some(unexplained)}"


def leftovers(data_dir: str | Path) -> list[Path]:
    """Temporary files under the data folder (killed writers leave them)."""
    return sorted(Path(data_dir).rglob("*.tmp"))


def check_no_leftovers(data_dir: str | Path) -> None:
    left = leftovers(data_dir)
    assert not left, f"temporary files left behind: {_some(str(p) for p in left)}"
