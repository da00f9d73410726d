"""The FAISS vector index: derived from the vectors in the store, never the truth.

The index maps chunk ids to vectors (exact inner product over unit vectors, i.e.
cosine). It is saved to a temporary file and renamed into place, and a manifest
records the store generation it reflects; an index that does not match the store
is brought up to date from the stored vectors, never by re-embedding.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import numpy as np

from indexer.store import Store

INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "vectors.json"


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None, generation: int = -1) -> None:
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.generation = generation

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

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

        With ``allowed``, only those chunk ids are searched, exactly: a selective
        filter never loses results to an index that returned other chunks first.
        """
        if len(self) == 0 or k <= 0:
            return []
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            k = min(k, len(allowed))
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    # -- keeping it in step with the store ---------------------------------

    def sync(self, store: Store) -> None:
        """Add the store's chunks this index lacks and drop those the store no longer has."""
        stored = np.array([r[0] for r in store.db.execute("SELECT id FROM chunks")],
                          dtype=np.int64)
        present = self.ids()
        self.remove(np.setdiff1d(present, stored, assume_unique=True))
        missing = np.setdiff1d(stored, present, assume_unique=True)
        if len(missing):
            for start in range(0, len(missing), 50_000):
                part = missing[start:start + 50_000].tolist()
                marks = ",".join("?" * len(part))
                rows = store.db.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks})",
                                        part).fetchall()
                self.add(np.array([r[0] for r in rows], dtype=np.int64),
                         np.vstack([np.frombuffer(r[1], np.float32) for r in rows]))
        self.generation = store.generation

    @classmethod
    def build(cls, store: Store, dim: int) -> VectorIndex:
        """A fresh index from every stored vector (no re-embedding)."""
        index = cls(dim)
        for ids, vectors in store.iter_vectors():
            index.add(ids, vectors)
        index.generation = store.generation
        return index

    def save(self, data_dir: str | Path) -> None:
        data_dir = Path(data_dir)
        tmp = data_dir / (INDEX_FILE + ".tmp")
        faiss.write_index(self.index, str(tmp))
        _fsync(tmp)
        os.replace(tmp, data_dir / INDEX_FILE)
        manifest = {"generation": self.generation, "count": len(self), "dim": self.dim,
                    "kind": "flat-ip"}
        tmp_manifest = data_dir / (MANIFEST_FILE + ".tmp")
        tmp_manifest.write_text(json.dumps(manifest))
        _fsync(tmp_manifest)
        os.replace(tmp_manifest, data_dir / MANIFEST_FILE)

    @classmethod
    def load(cls, store: Store, data_dir: str | Path, dim: int) -> VectorIndex:
        """Open the saved index; bring it up to date with the store when it is stale."""
        data_dir = Path(data_dir)
        index = None
        try:
            manifest = json.loads((data_dir / MANIFEST_FILE).read_text())
            raw = faiss.read_index(str(data_dir / INDEX_FILE))
            if raw.d == dim:
                index = cls(dim, raw, int(manifest.get("generation", -1)))
        except (OSError, ValueError, RuntimeError):
            index = None
        if index is None:
            index = cls.build(store, dim)
            index.save(data_dir)
        elif index.generation != store.generation or len(index) != store.count("chunks"):
            index.sync(store)
            index.save(data_dir)
        return index


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
