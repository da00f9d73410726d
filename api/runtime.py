"""Builds the real objects from settings: the store, the embedder, the index, the answerer."""

from __future__ import annotations

from dataclasses import dataclass

from api.settings import Settings
from indexer.embedders import DEFAULT_EMBEDDER, Embedder, kind_of, make_embedder
from indexer.errors import IndexMismatch
from indexer.keywords import KeywordIndex
from indexer.store import Store
from indexer.vectors import VectorIndex
from search.answers import Answerer

# A server embeds one short query per request: one thread each is as fast, and it leaves
# the other cores to the other requests (more threads would spin-wait on them instead;
# docs/benchmarks.md, "Searches side by side").
SERVING_THREADS = 1


@dataclass
class Runtime:
    settings: Settings
    store: Store
    embedder: Embedder

    @classmethod
    def open(cls, settings: Settings, threads: int | None = None) -> Runtime:
        """``threads``: the model's threads (default: one per core, for ingest's batches).
        A server passes ``SERVING_THREADS``."""
        store = Store.open(settings.data_dir)
        stored = store.get_meta("embedder")
        kind = settings.embedder or (kind_of(stored) if stored else DEFAULT_EMBEDDER)
        embedder = make_embedder(kind, cache_dir=settings.data_dir / "models", threads=threads)
        if stored is not None and stored != embedder.name:
            raise IndexMismatch(
                f"{settings.data_dir} was built with the embedder {stored}, not {embedder.name}",
                f"unset WHOKNOWS_EMBEDDER (or set it to {kind_of(stored)}) to use the one it "
                "was built with, or ingest into another --data-dir")
        return cls(settings, store, embedder)

    def vectors(self) -> VectorIndex:
        """The FAISS index, loaded and brought up to date with the store."""
        dim = int(self.store.get_meta("dim") or self.embedder.dim)
        return VectorIndex.load(self.store, self.settings.data_dir, dim,
                                self.settings.ann_threshold)

    def keywords(self) -> KeywordIndex:
        """The BM25 index, loaded and brought up to date with the store."""
        return KeywordIndex.load(self.store, self.settings.data_dir)

    def refresh_indexes(self) -> None:
        """Bring both derived indexes up to date with the store and save them."""
        self.vectors()
        self.keywords()

    def reindex(self) -> VectorIndex:
        """Rebuild the FAISS and BM25 indexes from the stored passages (no re-embedding)."""
        dim = int(self.store.get_meta("dim") or self.embedder.dim)
        index = VectorIndex.build(self.store, dim, self.settings.ann_threshold)
        index.save(self.settings.data_dir)
        KeywordIndex.build(self.store).save(self.settings.data_dir)
        return index

    def answerer(self) -> Answerer:
        return Answerer(self.store, self.vectors(), self.embedder, keywords=self.keywords(),
                        **self.settings.answer_options())
