"""Readers' verdicts on answers, stored with the query they were given for.

A verdict is on a document ("helped", "not_about", or "opened": a click, which says
the result was worth a look and moves no ranking) or on a person ("helped_me",
"not_expert"). Each is stored with the query's text and vector, the voter (a salted
hash of their key, never the key itself) and the time. One voter has one verdict per
target and query: a new one replaces the old. ``feedback_generation`` in the meta
table advances with every write, so what is derived from the votes is rebuilt only
when they change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import numpy as np

from indexer.errors import InvalidRecord
from indexer.store import Store

VERDICTS = {"helped": ("document", 1), "not_about": ("document", -1),
            "opened": ("document", 0),
            "helped_me": ("person", 1), "not_expert": ("person", -1)}
GENERATION = "feedback_generation"


@dataclass(frozen=True)
class Vote:
    target: str       # "document" or "person"
    target_id: str
    sign: int         # +1, -1, or 0 (a click)
    voter: str
    query: str
    vector: np.ndarray
    at: str           # ISO timestamp, UTC


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def pseudonym(store: Store, who: str) -> str:
    """A stable stand-in for a caller (their key id): a hash salted with a secret kept in
    the store, so votes and askers can be told apart and counted, never read back."""
    salt = store.get_meta("pseudonym_salt")
    if salt is None:
        with store.writing():
            salt = store.get_meta("pseudonym_salt") or secrets.token_hex(16)
            store.set_meta("pseudonym_salt", salt)
    return hashlib.sha256(f"{salt}:{who}".encode()).hexdigest()[:16]


class FeedbackLog:
    """The ``feedback`` table, created on the store's connection the first time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.has_table("feedback"):
            return
        with store.writing():
            store.db["feedback"].create(
                {"target": str, "target_id": str, "voter": str, "query_key": str,
                 "query": str, "vector": bytes, "verdict": str, "sign": int, "at": str},
                pk=("target", "target_id", "voter", "query_key", "verdict"),
                if_not_exists=True)
            store.db.execute("CREATE INDEX IF NOT EXISTS feedback_at ON feedback(at)")

    @property
    def generation(self) -> int:
        return int(self.store.get_meta(GENERATION) or 0)

    def add(self, query: str, vector: np.ndarray, verdict: str, target_id: str, voter: str,
            at: str | None = None) -> Vote:
        """Store one verdict (replacing this voter's earlier verdict on the target for the
        same query; a click is kept beside a verdict)."""
        if verdict not in VERDICTS:
            raise InvalidRecord(f"unknown verdict {verdict!r}",
                                f"use one of {', '.join(VERDICTS)}")
        target, sign = VERDICTS[verdict]
        key = " ".join(query.casefold().split())
        row = {"target": target, "target_id": target_id, "voter": voter, "query_key": key,
               "query": query, "vector": np.asarray(vector, np.float32).tobytes(),
               "verdict": verdict, "sign": sign, "at": at or now()}
        with self.store.writing():
            if sign:  # the other verdict on the same target and query goes
                self.store.db.execute(
                    "DELETE FROM feedback WHERE target = ? AND target_id = ? AND voter = ? "
                    "AND query_key = ? AND sign != 0", [target, target_id, voter, key])
            self.store.db["feedback"].upsert(row, pk=("target", "target_id", "voter",
                                                     "query_key", "verdict"))
            self.changed()
        return _vote(row)

    def votes(self, since: str | None = None) -> list[Vote]:
        """Every stored verdict (clicks included), oldest first."""
        sql = "SELECT * FROM feedback"
        params: list[str] = []
        if since:
            sql += " WHERE at >= ?"
            params.append(since)
        return [_vote(r) for r in self.store.db.query(sql + " ORDER BY at, rowid", params)]

    def forget_before(self, cutoff: str) -> int:
        """Delete verdicts older than ``cutoff`` (retention); how many went."""
        with self.store.writing():
            gone = self.store.db.execute("DELETE FROM feedback WHERE at < ?", [cutoff]).rowcount
            if gone:
                self.changed()
        return gone

    def changed(self) -> None:
        """Say the verdicts changed (their vectors too, after a re-embed): caches of them
        key on ``generation``."""
        self.store.set_meta(GENERATION, str(self.generation + 1))


def _vote(row: dict) -> Vote:
    return Vote(row["target"], row["target_id"], int(row["sign"]), row["voter"],
                row["query"], np.frombuffer(row["vector"], dtype=np.float32), row["at"])
