"""The FAISS vector index: derived from the vectors in the store, never the truth.

The index maps chunk ids to vectors (inner product over unit vectors, i.e.
cosine): exact below a size threshold, an IVF index above it (indexer/ann.py
says which and why). It is saved to a temporary file and renamed into place, and
a manifest records the store generation it reflects; an index that does not
match the store is brought up to date from the stored vectors, never by
re-embedding (indexer/indexes.py decides when, for both derived indexes).
"""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np

from indexer import ann
from indexer.changes import Changes
from indexer.files import atomic_write
from indexer.store import Store

INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "vectors.json"


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None, generation: int = -1,
                 trained_count: int = 0) -> None:
        self.dim = dim
        self.index = index if index is not None else ann.empty_index(dim, ann.IndexPlan("flat"))
        self.generation = generation
        self.trained_count = trained_count  # how many vectors an IVF index had when trained

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        return ann.kind_of(self.index)

    def ids(self) -> np.ndarray:
        return ann.stored_ids(self.index)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, cosine) for one query vector, best first.

        With ``allowed``, only those chunk ids are searched: a selective filter never
        loses results to an index that returned other chunks first. When the IVF cells
        a query opens would hold too few allowed chunks, every cell is scanned.
        """
        if len(self) == 0 or k <= 0:
            return []
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            params = ann.search_parameters(self.index, allowed, self._selective(allowed, k))
            k = min(k, len(allowed))
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _selective(self, allowed: np.ndarray, k: int) -> bool:
        """Would the cells a normal query opens hold fewer than 4k allowed chunks?"""
        ivf = faiss.downcast_index(self.index)
        if not isinstance(ivf, faiss.IndexIVF):
            return True  # flat search is exact anyway
        return len(allowed) * ivf.nprobe / ivf.nlist < 4 * k

    # -- keeping it in step with the store ---------------------------------

    def sync(self, store: Store) -> None:
        """Add the store's chunks this index lacks and drop those the store no longer has
        (by comparing id sets: for an index older than the change log)."""
        generation, stored = store.chunk_ids_now()
        present = self.ids()
        self.remove(np.setdiff1d(present, stored, assume_unique=True))
        for ids, vectors in store.vectors_of(np.setdiff1d(stored, present, assume_unique=True)):
            self.add(ids, vectors)
        self.generation = generation

    def apply(self, changes: Changes, store: Store) -> None:
        """Drop the removed passages, add the added ones' stored vectors (those deleted
        since are skipped: the next changes remove them anyway)."""
        self.remove(changes.removed)
        for ids, vectors in store.vectors_of(changes.added):
            self.add(ids, vectors)
        self.generation = changes.generation

    @classmethod
    def build(cls, store: Store, dim: int,
              ann_threshold: int = ann.DEFAULT_ANN_THRESHOLD) -> VectorIndex:
        """A fresh index from every stored vector (no re-embedding): exact, or IVF when
        the store holds ``ann_threshold`` chunks or more."""
        with store.reading():  # one snapshot: the index is exactly that generation's
            generation, count = store.generation, store.count("chunks")
            plan = ann.IndexPlan.for_size(count, ann_threshold)
            training = (store.sample_vectors(plan.training_size(count))
                        if plan.kind == "ivf" else None)
            index = cls(dim, ann.empty_index(dim, plan, training),
                        trained_count=count if plan.kind == "ivf" else 0)
            del training
            for ids, vectors in store.iter_vectors():
                index.add(ids, vectors)
        index.generation = generation
        return index

    def outgrown(self, count: int, ann_threshold: int) -> bool:
        """Should the index be rebuilt for a store of ``count`` chunks? Flat past the
        threshold; IVF far below it, or grown well past the size its cells were
        trained at."""
        if self.kind == "flat":
            return count >= ann_threshold
        return count < ann_threshold // 2 or count > ann.REBUILD_GROWTH * self.trained_count

    def save(self, data_dir: str | Path) -> None:
        """The index, then its manifest: a crash between them leaves a manifest that
        is behind, and the next load catches up from the store."""
        data_dir = Path(data_dir)
        with atomic_write(data_dir / INDEX_FILE) as tmp:
            faiss.write_index(self.index, str(tmp))
        manifest = {"generation": self.generation, "count": len(self), "dim": self.dim,
                    "kind": self.kind, "trained_count": self.trained_count}
        with atomic_write(data_dir / MANIFEST_FILE) as tmp:
            tmp.write_text(json.dumps(manifest))

    @classmethod
    def read(cls, data_dir: str | Path, dim: int) -> VectorIndex | None:
        """The index saved in ``data_dir`` as it is, or None when there is none, it is
        damaged, or its vectors have another dimension (indexer/indexes.py decides what
        to do with it)."""
        data_dir = Path(data_dir)
        try:
            manifest = json.loads((data_dir / MANIFEST_FILE).read_text())
            raw = faiss.read_index(str(data_dir / INDEX_FILE))
        except (OSError, ValueError, RuntimeError):
            return None
        if raw.d != dim:
            return None
        return cls(dim, raw, int(manifest.get("generation", -1)),
                   int(manifest.get("trained_count", 0)))


def saved_generation(data_dir: str | Path) -> int | None:
    """The store generation of the index saved in ``data_dir``, from its manifest alone."""
    try:
        return int(json.loads((Path(data_dir) / MANIFEST_FILE).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
