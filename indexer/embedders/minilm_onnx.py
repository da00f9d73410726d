"""all-MiniLM-L6-v2 through onnxruntime, with int8 (or fp32) weights: the default.

The ONNX file is exported from the packaged sentence-transformers model and
quantised once, on first use, into a cache folder (the data folder's
``models/``); later runs load it in well under a second. Nothing is downloaded.
The recipe is ``onnx_export``'s, the run ``onnx_runtime``'s: the same as
multilingual-e5's.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedders.minilm_torch import MINILM, model_token_counter, packaged_model_path
from indexer.embedders.onnx_export import (
    EXPORT_VERSION,
    default_cache,
    ensure_onnx,
    export_encoder,
)
from indexer.embedders.onnx_runtime import OnnxEncoder
from indexer.tokens import WordPieceCounter

log = logging.getLogger("whoknows.embedder")


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime; ``quantised`` picks int8 weights."""

    def __init__(self, cache_dir: Path | None = None, quantised: bool = True,
                 model_path: str | None = None, threads: int | None = None) -> None:
        self.quantised = quantised
        self.name = f"{MINILM}/onnx-{'int8' if quantised else 'fp32'}"
        self.dim = 384
        self.english_only = True  # see protocol.english_only
        self.cache_dir = cache_dir
        self.model_path = model_path
        self.threads = threads or os.cpu_count() or 1
        self._encoder: OnnxEncoder | None = None

    def warm_up(self) -> None:
        if self._encoder is not None:
            return
        source = Path(self.model_path or packaged_model_path())
        model = ensure_minilm_onnx(source, self.cache_dir or default_cache(), self.quantised)
        self._encoder = OnnxEncoder(model, source / "tokenizer.json",
                                    self.token_counter().max_tokens, self.threads, self.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        assert self._encoder is not None
        return self._encoder.embed(texts)

    def token_counter(self) -> WordPieceCounter:
        return model_token_counter(self.model_path)


def ensure_minilm_onnx(source: Path, cache: Path, quantised: bool) -> Path:
    """The cached ONNX export of the model folder ``source`` (int8 or fp32), made once."""
    stem = f"{source.name}-{_fingerprint(source)}-{EXPORT_VERSION}"
    config = json.loads((source / "config.json").read_text())

    def export(target: Path) -> None:
        log.info("exporting %s to ONNX (once)", source)
        export_encoder(lambda: _load(source), target, int(config["num_attention_heads"]),
                       int(config["hidden_size"]))

    return ensure_onnx(cache / f"{stem}-fp32.onnx", cache / f"{stem}-int8.onnx", quantised,
                       export)


def _load(source: Path):  # noqa: ANN202 - a transformers model, imported lazily
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()


def _fingerprint(source: Path) -> str:
    """Which weights: a change of the packaged model gives a new cache entry."""
    weights = source / "model.safetensors"
    stat = weights.stat() if weights.exists() else None
    config = json.loads((source / "config.json").read_text()) if (
        source / "config.json").exists() else {}
    key = f"{stat.st_size if stat else 0}-{config.get('transformers_version', '')}"
    return key.replace(".", "_")
