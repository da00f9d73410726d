"""A tiny deterministic embedder for tests: a bag of words hashed into buckets.

Texts that share words are close and texts that share none are orthogonal, so a
test can name the ids of a ranking and write the arithmetic in a comment.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from indexer.embedders.protocol import normalise

_WORD = re.compile(r"[a-z0-9]+")


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
