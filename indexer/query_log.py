"""What people search, kept for analytics: the query, when, and how well it was answered.

Who asked is not stored as such: ``asker`` is a salted hash of the caller's key (the
server always passes one; None where no caller is known) that only tells two searches
of one asker apart, so a topic can wait for several askers before it is shown. Entries
older than the retention are deleted (``forget_before``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from indexer.feedback import now
from indexer.store import Store


@dataclass(frozen=True)
class LoggedQuery:
    id: int
    query: str
    vector: np.ndarray
    at: str
    asker: str | None
    best_similarity: float   # the closest passage's cosine
    weak: bool               # nothing close in meaning was found
    results: int             # articles found
    experts: tuple[str, ...]  # the people suggested, best first


class QueryLog:
    """The ``query_log`` table, created on the store's connection the first time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.has_table("query_log"):  # no write lock on every search
            return
        with store.writing():
            store.db["query_log"].create(
                {"id": int, "query": str, "vector": bytes, "at": str, "asker": str,
                 "best_similarity": float, "weak": int, "results": int, "experts": str},
                pk="id", if_not_exists=True)
            store.db.execute("CREATE INDEX IF NOT EXISTS query_log_at ON query_log(at)")

    def record(self, query: str, vector: np.ndarray, best_similarity: float, weak: bool,
               results: int, experts: list[str], asker: str | None = None,
               at: str | None = None) -> None:
        with self.store.writing():
            self.store.db["query_log"].insert(
                {"query": query, "vector": np.asarray(vector, np.float32).tobytes(),
                 "at": at or now(), "asker": asker, "best_similarity": best_similarity,
                 "weak": int(weak), "results": results, "experts": json.dumps(experts)})

    def entries(self, since: str | None = None) -> list[LoggedQuery]:
        sql, params = "SELECT * FROM query_log", []
        if since:
            sql += " WHERE at >= ?"
            params.append(since)
        return [LoggedQuery(r["id"], r["query"], np.frombuffer(r["vector"], np.float32),
                            r["at"], r["asker"], float(r["best_similarity"] or 0.0),
                            bool(r["weak"]), int(r["results"] or 0),
                            tuple(json.loads(r["experts"] or "[]")))
                for r in self.store.db.query(sql + " ORDER BY id", params)]

    def suggested(self, since: str) -> dict[str, int]:
        """person id -> how many logged searches since ``since`` suggested them."""
        rows = self.store.db.execute(
            "SELECT e.value, count(*) FROM query_log q, json_each(q.experts) e "
            "WHERE q.at >= ? GROUP BY e.value", [since])
        return {pid: n for pid, n in rows}

    def forget_before(self, cutoff: str) -> int:
        with self.store.writing():
            return self.store.db.execute("DELETE FROM query_log WHERE at < ?",
                                         [cutoff]).rowcount
