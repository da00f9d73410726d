"""Which FAISS index holds the vectors: exact below a size threshold, IVF above it.

- ``flat``: exact inner product (``IndexIDMap2(IndexFlatIP)``). Every query reads
  every vector; best while that is fast enough.
- ``ivf``: an inverted file of ``nlist`` k-means cells whose vectors are stored as
  8-bit scalar-quantised residuals (``IndexIVFScalarQuantizer``, 384 bytes a
  vector); a query scans the ``nprobe`` nearest cells. Chosen over HNSW because
  FAISS's IVF indexes delete by id natively (``remove_ids``) and take new ids
  after training, so updates and deletions stay exact bookkeeping, not a mask;
  HNSW cannot remove vectors in FAISS and at 5M vectors would need about 9 GB
  with full vectors. The cells are trained once from a sample of the stored
  vectors; when the index has grown to ``REBUILD_GROWTH`` times the size it was
  trained at, the next load retrains it from the stored vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

DEFAULT_ANN_THRESHOLD = 50_000  # chunks; exact search reads them all: ~8 ms at 50k on 2 cores
REBUILD_GROWTH = 4.0
TRAIN_POINTS_PER_CELL = 40  # FAISS wants at least 39 per centroid
KMEANS_ITERATIONS = 10


@dataclass(frozen=True)
class IndexPlan:
    kind: str  # "flat" or "ivf"
    nlist: int = 0
    nprobe: int = 0

    @classmethod
    def for_size(cls, count: int, threshold: int = DEFAULT_ANN_THRESHOLD) -> IndexPlan:
        if count < max(threshold, 1):
            return cls("flat")
        nlist = nlist_for(count)
        return cls("ivf", nlist, nprobe_for(nlist))

    def training_size(self, count: int) -> int:
        return min(count, self.nlist * TRAIN_POINTS_PER_CELL)


def nlist_for(count: int) -> int:
    """About 4 sqrt(n) cells, a power of two between 256 and 4096."""
    target = 4 * math.sqrt(max(count, 1))
    return int(min(4096, max(256, 2 ** round(math.log2(target)))))


def nprobe_for(nlist: int) -> int:
    """Cells scanned per query: 1/64 of them, at least 32 (recall@10 0.97-0.98 on the
    bench's clustered vectors from 100k to 5M; see docs/benchmarks.md)."""
    return max(32, nlist // 64)


def empty_index(dim: int, plan: IndexPlan, training: np.ndarray | None = None) -> faiss.Index:
    """A new index for ``plan``; an IVF index is trained on ``training`` first."""
    if plan.kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if training is None or len(training) < plan.nlist:
        raise ValueError(f"an IVF index of {plan.nlist} cells needs at least that many "
                         "training vectors")
    quantiser = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantiser, dim, plan.nlist,
                                          faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = KMEANS_ITERATIONS
    index.cp.max_points_per_centroid = TRAIN_POINTS_PER_CELL
    index.train(np.ascontiguousarray(training, dtype=np.float32))
    index.nprobe = plan.nprobe
    return index  # faiss's wrapper keeps a reference to the quantiser for the index


def kind_of(index: faiss.Index) -> str:
    return "ivf" if isinstance(faiss.downcast_index(index), faiss.IndexIVF) else "flat"


def stored_ids(index: faiss.Index) -> np.ndarray:
    """Every id the index holds."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    invlists = index.invlists
    parts = []
    for cell in range(index.nlist):
        size = invlists.list_size(cell)
        if size:
            ids = faiss.rev_swig_ptr(invlists.get_ids(cell), size)
            parts.append(np.array(ids, dtype=np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def search_parameters(index: faiss.Index, allowed: np.ndarray | None,
                      exhaustive: bool) -> faiss.SearchParameters | None:
    """Restrict to ``allowed`` ids; ``exhaustive`` scans every IVF cell (a selective
    filter: its few matching vectors may sit in cells a normal query never opens)."""
    selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
    ivf = faiss.downcast_index(index)
    if isinstance(ivf, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector,
                                         nprobe=ivf.nlist if exhaustive else ivf.nprobe)
    return faiss.SearchParameters(sel=selector) if selector is not None else None
