"""How readers' verdicts move a ranking: bounded, shared by similar questions, fading.

A stored verdict counts for a new query in proportion to how close the two queries
are in meaning: ``(cos - similarity) / (1 - similarity)`` above the line, nothing
below it (the same text counts in full), times ``0.5 ** (age / half_life_days)``. The
answerer sets the line to the model's weak-match cosine (0.40 for all-MiniLM-L6-v2,
search/answers.py): chosen on the android dev split (docs/benchmarks.md), where it was
the best of 0.4-0.7, and a cosine's scale belongs to the model. Where 20 or more
questions have verdicts, the line also stands 0.2 above the new query's cosine to
their centre (search/closeness.py), which with multilingual-e5 keeps a verdict on
"on-call handbook" from counting for "pricing" (0.44).
One voter counts once per target: their strongest verdict. The verdicts on a target
add up to ``net``, and the target's score moves by ``bound * tanh(net / saturation)``:
never more than ``bound`` either way, however many votes, and one voter alone moves it
at most ``bound * tanh(1 / saturation)`` (0.32 of the bound at the default 3).

Scores are in [0, 1] (fused retrieval scores; expert scores whose weights sum to 1), so
the default bound of 0.1 lets feedback reorder close results, never bury a document
that is clearly about the question. Feedback moves only what is already in a ranking
that the caller may read: a verdict on a document outside their access never
reaches them, and a person without evidence about the question is not suggested
however many people vote for them.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from indexer.embedders import rescale
from indexer.feedback import FeedbackLog
from search.closeness import SHORT_TEXT_MARGIN, centre, lines
from search.recency import decay, parse_day
from search.retrieval import DocScore

DEFAULT_SIMILARITY = 0.4


@dataclass(frozen=True)
class FeedbackSettings:
    bound: float = 0.1            # the most feedback moves a score, either way
    saturation: float = 3.0       # net verdicts at which the effect is tanh(1) = 76% of bound
    # Queries at least this close in meaning share verdicts (None: the answerer's model's
    # weak-match line; DEFAULT_SIMILARITY where no model says).
    similarity: float | None = None
    half_life_days: float = 180.0  # a verdict counts half after this (0: never fades)
    reference: dt.date | None = None  # None: today; a benchmark passes its own day


@dataclass(frozen=True)
class Effect:
    """What readers said about one target for queries like this one."""

    helped: int        # distinct voters who said it helped
    not_about: int     # distinct voters who said it did not
    net: float         # their verdicts weighed by closeness and age
    adjustment: float  # what it adds to the score (negative: takes)

    def why(self, target: str) -> str:
        """'3 colleagues said this helped' (``target``: document or person)."""
        yes, no = ("this helped", "this is not about it") if target == "document" else (
            "they helped", "they are not an expert on this")
        parts = [f"{n} colleague{'s' if n > 1 else ''} said {text}"
                 for n, text in ((self.helped, yes), (self.not_about, no)) if n]
        return "; ".join(parts)


@dataclass(frozen=True)
class _Votes:
    key: tuple
    target: np.ndarray     # "document" / "person"
    target_id: list[str]
    sign: np.ndarray
    voter: list[str]
    query: list[str]
    vectors: np.ndarray
    fade: np.ndarray       # each verdict's age weight
    centre: np.ndarray     # of the questions with a verdict (search/closeness.py)


class Feedback:
    """The verdicts of a ``FeedbackLog``, read again only when they change (or the day
    does, for their age)."""

    def __init__(self, log: FeedbackLog, settings: FeedbackSettings | None = None,
                 cosine_floor: float = 0.0) -> None:
        """``cosine_floor``: the model's (indexer.embedders.cosine_floor); queries'
        cosines are compared with the line on the common scale."""
        self.log = log
        self.settings = settings or FeedbackSettings()
        self.cosine_floor = cosine_floor
        self._votes: _Votes | None = None
        self._loading = threading.Lock()

    def effects(self, query_vector: np.ndarray, target: str, query: str = ""
                ) -> dict[str, Effect]:
        """target id -> Effect, for the targets with a verdict that counts for this query."""
        votes = self._current()
        if not len(votes.sign) or votes.vectors.shape[1] != len(query_vector):
            return {}
        s = self.settings
        line = DEFAULT_SIMILARITY if s.similarity is None else s.similarity
        query_vector = np.asarray(query_vector, np.float32)
        sims = rescale(votes.vectors @ query_vector, self.cosine_floor)
        # A question is near another only above what every question there meets
        # (search/closeness.py): e5 puts "pricing" at 0.44 of "on-call handbook".
        line = float(lines(line, SHORT_TEXT_MARGIN, votes.centre, query_vector,
                           self.cosine_floor))
        near = np.clip((sims - line) / max(1e-9, 1 - line), 0.0, 1.0)
        key = " ".join(query.casefold().split())
        strongest: dict[tuple[str, str], tuple[float, int]] = {}
        for i in np.flatnonzero((votes.target == target) & (votes.sign != 0)):
            weight = (1.0 if key and votes.query[i] == key else float(near[i])) * votes.fade[i]
            if weight <= 0:
                continue
            pair = (votes.target_id[i], votes.voter[i])
            if weight > strongest.get(pair, (0.0, 0))[0]:
                strongest[pair] = (weight, int(votes.sign[i]))
        tally: dict[str, list[float]] = {}
        for (tid, _), (weight, sign) in strongest.items():
            t = tally.setdefault(tid, [0, 0, 0.0])
            t[0 if sign > 0 else 1] += 1
            t[2] += sign * weight
        return {tid: Effect(int(y), int(n), round(net, 6),
                            round(s.bound * math.tanh(net / s.saturation), 6))
                for tid, (y, n, net) in tally.items()}

    def adjust(self, ranking: Sequence[DocScore], query_vector: np.ndarray, query: str = ""
               ) -> tuple[list[DocScore], dict[str, Effect]]:
        """The ranking with each document's score moved by its feedback (never below 0),
        sorted again; and the effects on the documents in it."""
        found = self.effects(query_vector, "document", query)
        if not found:
            return list(ranking), {}
        present = {d.doc_id for d in ranking}
        found = {k: v for k, v in found.items() if k in present}
        moved = [replace(d, score=max(0.0, d.score + found[d.doc_id].adjustment))
                 if d.doc_id in found else d for d in ranking]
        moved.sort(key=lambda d: (-d.score, d.doc_id))
        return moved, found

    def _current(self) -> _Votes:
        s = self.settings
        day = s.reference or dt.datetime.now(dt.UTC).date()
        key = (self.log.generation, day)
        if self._votes is not None and self._votes.key == key:
            return self._votes
        with self._loading:
            if self._votes is None or self._votes.key != key:
                self._votes = _load(self.log, key, day, s.half_life_days)
            return self._votes


def _load(log: FeedbackLog, key: tuple, day: dt.date, half_life: float) -> _Votes:
    votes = [v for v in log.votes() if v.sign != 0]
    dims = {len(v.vector) for v in votes}
    dim = max(dims, key=lambda d: sum(len(v.vector) == d for v in votes)) if dims else 0
    votes = [v for v in votes if len(v.vector) == dim]  # another model's vectors: ignored
    fade = [decay((day - (parse_day(v.at) or day)).days, half_life) for v in votes]
    queries = [" ".join(v.query.casefold().split()) for v in votes]
    asked = {q: v.vector for q, v in zip(queries, votes, strict=True)}  # each question once
    return _Votes(key, np.array([v.target for v in votes], dtype=object),
                  [v.target_id for v in votes], np.array([v.sign for v in votes], np.int8),
                  [v.voter for v in votes], queries,
                  np.vstack([v.vector for v in votes]) if votes
                  else np.zeros((0, 0), np.float32), np.array(fade, np.float32),
                  centre(list(asked.values()), dim))
