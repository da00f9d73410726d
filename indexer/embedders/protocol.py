"""What an embedder is, and the helpers every caller of one shares.

An embedder turns texts into L2-normalised float32 vectors. ``embed`` is for
what is stored (passages, profiles). A model trained to read the two sides
differently (multilingual-e5 wants "query: " and "passage: " before a text)
also has ``embed_queries``; code that embeds what someone asks goes through
:func:`embed_queries`, which falls back to ``embed`` for every other model.
Both extras are optional, found by name, so that a thin wrapper (a memo in a
benchmark, a counting embedder in the tests) stays an embedder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from indexer.tokens import WordPieceCounter


class Embedder(Protocol):
    name: str  # recorded by a data folder: vectors of two names never mix
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""
        ...


def cosine_floor(embedder: Embedder) -> float:
    """Where the model's cosines start to mean anything: its ``cosine_floor`` (0 for a
    model without one). Thresholds on cosines (weak match, evidence about the question,
    skill matches, mentoring fit, similar questions) are written on MiniLM's scale; a
    model whose cosines run high (e5: 0.8 for nearly anything) declares the floor that
    maps its cosines onto that scale, see :func:`rescale`."""
    return float(getattr(embedder, "cosine_floor", 0.0))


def shifts_query_language(embedder: Embedder) -> bool:
    """Whether a query's vector leaves its language's corner of the space before it meets
    the passages (indexer.language_centres): a multilingual model that declares
    ``shifts_query_language`` (multilingual-e5, measured on MLQA-R)."""
    return bool(getattr(embedder, "shifts_query_language", False))


def reads_case(embedder: Embedder) -> bool:
    """Whether the model tells "gdpr" from "GDPR" (multilingual-e5 declares ``reads_case``;
    MiniLM lowercases every text): a question's words then take the corpus's case first
    (search/casing.py)."""
    return bool(getattr(embedder, "reads_case", False))


def english_only(embedder: Embedder) -> bool:
    """Whether the model was trained on English alone (all-MiniLM-L6-v2 declares
    ``english_only``): with it, a question in one language finds little written in
    another (docs/benchmarks.md, MLQA-R)."""
    return bool(getattr(embedder, "english_only", False))


def rescale(cosines: np.ndarray | float, floor: float) -> np.ndarray | float:
    """Cosines on the common scale: ``(cos - floor) / (1 - floor)``; a floor of 0 leaves
    them as they are. Linear, so it never changes an order (nor min-max fusion)."""
    return cosines if floor == 0.0 else (cosines - floor) / (1.0 - floor)


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The vectors of ``texts`` read as queries: the embedder's ``embed_queries`` where
    its model tells queries from passages, else its ``embed``."""
    method = getattr(embedder, "embed_queries", None)
    return method(texts) if callable(method) else embedder.embed(texts)


def token_counter(embedder: Embedder) -> WordPieceCounter | None:
    """The word pieces of the window ``embedder`` reads, for sizing passages; None for an
    embedder that reads whole texts (the hashing one of the tests)."""
    make = getattr(embedder, "token_counter", None)
    return make() if callable(make) else None


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (an all-zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
