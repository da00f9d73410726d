"""How long a process's derived indexes take to catch up with one new document, at
100k passages: by the change log (indexer/changes.py) and by comparing every passage
id (what an index older than the log does, and what every catch-up did before).

Builds a store of ``--chunks`` passages once (random unit vectors of 384 dimensions,
short texts from a small vocabulary, 500 passages a write) in bench/.cache/, loads
the indexes, then ``--rounds`` times writes one document of 3 passages and deletes an
old one, and times ``DerivedIndexes.catch_up`` both ways on the same changes.

    python bench/catch_up.py --chunks 100000 --rounds 30
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from common import CACHE, write_results

from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store

DIM = 384
WORDS = [f"w{i}" for i in range(5000)]


def document(rng: np.random.Generator, doc_id: str, passages: int
             ) -> tuple[Document, list[Chunk], np.ndarray]:
    texts = [" ".join(rng.choice(WORDS, size=40)) for _ in range(passages)]
    vectors = rng.normal(size=(passages, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    doc = Document(id=doc_id, title=doc_id, body=" ".join(texts))
    return doc, [Chunk(doc_id, i, t) for i, t in enumerate(texts)], vectors


def fill(store: Store, chunks: int, rng: np.random.Generator) -> None:
    for start in range(store.count("chunks"), chunks, 500):
        store.write_documents([document(rng, f"d{i}", 1) for i in range(start, start + 500)])


def timed(indexes: DerivedIndexes) -> float:
    started = time.perf_counter()
    indexes.catch_up()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    folder = CACHE / f"catch-up-{args.chunks}"
    store = Store.open(folder)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    fill(store, args.chunks, rng)
    print(f"store of {store.count('chunks')} passages ready in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    by_log = DerivedIndexes.load(store, DIM, folder)
    by_ids = DerivedIndexes.load(store, DIM, folder)
    by_ids.store = _NoLog(store)  # type: ignore[assignment]
    log_ms, ids_ms = [], []
    for r in range(args.rounds):
        store.write_documents([document(rng, f"new{r}-{time.time_ns()}", 3)])
        old = store.db.execute("SELECT id FROM documents WHERE id LIKE 'd%' ORDER BY id "
                               "LIMIT 1").fetchone()[0]
        store.delete_document(old)
        log_ms.append(timed(by_log))
        ids_ms.append(timed(by_ids))
        assert sorted(by_log.vectors.ids()) == sorted(by_ids.vectors.ids())
    results = {"chunks": store.count("chunks"), "rounds": args.rounds,
               "change_log_ms_p50": round(statistics.median(log_ms), 2),
               "change_log_ms_max": round(max(log_ms), 2),
               "id_compare_ms_p50": round(statistics.median(ids_ms), 2),
               "id_compare_ms_max": round(max(ids_ms), 2)}
    print(results)
    write_results("catch_up", results)


class _NoLog:
    """The store as an index older than the change log sees it."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def changes_since(self, generation: int) -> None:
        return None

    def __getattr__(self, name: str):
        return getattr(self._store, name)


if __name__ == "__main__":
    main()
