"""Builds the real objects from settings: the store, the embedder, the index, the answerer."""

from __future__ import annotations

from dataclasses import dataclass

from api.settings import Settings
from indexer.copying import check_finished
from indexer.embedders import DEFAULT_EMBEDDER, Embedder, kind_of, make_embedder
from indexer.errors import IndexMismatch
from indexer.indexes import DerivedIndexes
from indexer.store import Store
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
    threads: int | None = None  # the model's threads (None: one per core)

    @classmethod
    def open(cls, settings: Settings, threads: int | None = None) -> Runtime:
        """``threads``: the model's threads (default: the settings' ``model_threads``,
        else one per core, for ingest's batches). A server passes ``SERVING_THREADS``."""
        threads = threads or settings.model_threads
        store = settings.open_store()
        check_finished(store)  # an interrupted `whoknows migrate` is finished first
        # This process's derived indexes and model caches live there, whichever the store
        # (with a database URL nothing else creates the folder).
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        stored = store.get_meta("embedder")
        kind = settings.embedder or (kind_of(stored) if stored else DEFAULT_EMBEDDER)
        embedder = make_embedder(kind, cache_dir=settings.data_dir / "models", threads=threads)
        if stored is not None and stored != embedder.name:
            raise IndexMismatch(
                f"{settings.store_at} was built with the embedder {stored}, not {embedder.name}",
                f"unset WHOKNOWS_EMBEDDER (or set it to {kind_of(stored)}) to use the one it "
                "was built with, or ingest into another --data-dir")
        return cls(settings, store, embedder, threads)

    def follow_model(self) -> bool:
        """Take the model the store records now, when a re-embed (``whoknows reembed``,
        in any process) switched it since this runtime opened: True when it did. Whoever
        holds objects built on the old model (an answerer) builds them again."""
        stored = self.store.get_meta("embedder")
        if stored is None or stored == self.embedder.name:
            return False
        self.embedder = make_embedder(kind_of(stored), cache_dir=self.settings.data_dir
                                      / "models", threads=self.threads)
        return True

    def _dim(self) -> int:
        return int(self.store.get_meta("dim") or self.embedder.dim)

    def indexes(self) -> DerivedIndexes:
        """The FAISS and BM25 indexes, loaded from the data folder, brought up to date
        with the store and saved."""
        return DerivedIndexes.load(self.store, self._dim(), self.settings.data_dir,
                                   self.settings.ann_threshold)

    def refresh_indexes(self) -> None:
        """Bring both derived indexes up to date with the store and save them."""
        self.indexes()

    def reindex(self) -> DerivedIndexes:
        """Rebuild the FAISS and BM25 indexes from the stored passages (no re-embedding)."""
        return DerivedIndexes.build(self.store, self._dim(), self.settings.data_dir,
                                    self.settings.ann_threshold)

    def answerer(self) -> Answerer:
        return Answerer(self.store, self.indexes(), self.embedder,
                        **self.settings.answer_options())
