"""What the running server holds: the runtime, a warm answerer, the key ring."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from api.queue import Queue
from api.runtime import Runtime
from indexer.keys import KeyRing
from search.answers import Answerer


@dataclass
class ServerState:
    runtime: Runtime
    queue: Queue | None = None
    answerer: Answerer | None = None
    # The store's SQLite connection and the model are shared by the request threads;
    # queries take turns on them (a query is a few milliseconds of SQL and one embedding).
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keys(self) -> KeyRing:
        return KeyRing(self.runtime.store)

    def warm_up(self) -> None:
        """Load the vector index and the model so the first search is fast."""
        with self.lock:
            if self.answerer is None:
                self.answerer = self.runtime.answerer()
                warm = getattr(self.runtime.embedder, "warm_up", None)
                if warm:
                    warm()
                self.answerer.warm_up()  # people and skill vectors for expert ranking

    def current(self) -> Answerer:
        """The answerer over the latest complete index (call with the lock held).

        A worker in another process commits to the store (a batch at a time while it
        ingests); the store's generation tells this process to catch up. It reads
        just the new passages' vectors into its index in memory (the worker saves
        the files), and loads the saved index only when the store outgrew its kind.
        The BM25 index catches up the same way, inside the searcher.
        """
        assert self.answerer is not None
        searcher, store = self.answerer.searcher, self.runtime.store
        if searcher.vectors.generation != store.generation:
            threshold = self.runtime.settings.ann_threshold
            if searcher.vectors.outgrown(store.count("chunks"), threshold):
                searcher.vectors = self.runtime.vectors()
            else:
                searcher.vectors.sync(store)
        return self.answerer

    @property
    def ready(self) -> bool:
        return self.answerer is not None
