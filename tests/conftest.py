from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from indexer.embedder import HashingEmbedder
from indexer.store import Store
from indexer.vectors import VectorIndex
from ingest.pipeline import Ingester
from search.answers import Answerer

DATA = Path(__file__).parent / "data"


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting how many texts it was asked to embed."""

    def __init__(self, dim: int = 2048) -> None:
        super().__init__(dim)  # wide enough that no two test words share a bucket
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def store() -> Store:
    return Store.memory()


@pytest.fixture
def ingester(store, embedder) -> Ingester:
    return Ingester(store, embedder)


def write(root: Path, name: str, content: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content).lstrip())
    return path


def answerer_for(store: Store, embedder) -> Answerer:
    dim = embedder.dim
    return Answerer(store, VectorIndex.build(store, dim), embedder)


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)
