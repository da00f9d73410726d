"""What the running server holds: the runtime, a warm answerer, the key ring."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from api.queue import Queue
from api.runtime import Runtime
from indexer.keys import KeyRing
from search.answers import Answerer
from search.mentoring.mentors import MentorCatalog


class SharedLock:
    """Many readers at once, or one writer: searches read the in-memory indexes side
    by side and wait only while the indexes catch up with the store.

    ``with lock:`` reads (re-entrant within a thread); ``with lock.exclusive():``
    writes. A waiting writer goes before new readers, so catch-up is never starved.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._held = threading.local()

    def __enter__(self) -> SharedLock:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            with self._cond:
                while self._writing or self._writers_waiting:
                    self._cond.wait()
                self._readers += 1
        self._held.depth = depth + 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._held.depth -= 1
        if self._held.depth == 0:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        if getattr(self._held, "depth", 0):
            raise RuntimeError("a reader cannot take the write lock (it would wait for itself)")
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass
class ServerState:
    runtime: Runtime
    queue: Queue | None = None
    answerer: Answerer | None = None
    bind_host: str = "127.0.0.1"  # where the server listens: open mode needs loopback
    # Searches share the in-memory indexes (``with state.lock``); bringing them up to date
    # with the store takes them alone. Each thread has its own store connection.
    lock: SharedLock = field(default_factory=SharedLock)
    _warming: threading.Lock = field(default_factory=threading.Lock)
    _catalog: MentorCatalog | None = None

    def catalog(self) -> MentorCatalog:
        """The mentoring catalog: one per server (it caches what people wrote until the
        store changes), for the API, the pages and recommendations alike."""
        if self._catalog is None:
            with self._warming:
                if self._catalog is None:
                    self._catalog = MentorCatalog(self.runtime.store, self.runtime.embedder)
        return self._catalog

    @property
    def keys(self) -> KeyRing:
        return KeyRing(self.runtime.store)

    def warm_up(self) -> None:
        """Load the vector index and the model so the first search is fast."""
        if self.answerer is not None:
            return
        with self._warming:
            if self.answerer is None:
                answerer = self.runtime.answerer()
                warm = getattr(self.runtime.embedder, "warm_up", None)
                if warm:
                    warm()
                answerer.warm_up()  # people and skill vectors for expert ranking
                answerer.searcher.sync_on_query = False  # ``current`` catches up instead
                self.answerer = answerer

    def current(self) -> Answerer:
        """The answerer over the latest complete index. Call it before ``with state.lock``
        (it takes the lock alone when the indexes must catch up), then search inside.

        A worker in another process commits to the store (a batch at a time while it
        ingests); the store's generation tells this process to catch up
        (``DerivedIndexes.catch_up``: the new passages read into the indexes in memory,
        the worker saves the files).
        """
        self.warm_up()
        assert self.answerer is not None
        indexes = self.answerer.searcher.indexes
        if indexes.behind():
            with self.lock.exclusive():
                if self.runtime.follow_model():  # a re-embed switched the store's model
                    self.answerer = self._catalog = None
                else:
                    indexes.catch_up()
            if self.answerer is None:
                self.warm_up()
        assert self.answerer is not None
        return self.answerer

    @property
    def ready(self) -> bool:
        return self.answerer is not None

    def indexes_lag(self) -> dict[str, int | None] | None:
        """How far behind the store this server's indexes are (``DerivedIndexes.lag``);
        None while they are not loaded (at start, or rebuilt for another model)."""
        answerer = self.answerer
        if answerer is None:
            return None
        with self.lock:
            return answerer.searcher.indexes.lag()
