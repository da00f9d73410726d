"""Expert finding: who knows about X, and why.

A person's score is the sum of four named signals, so every suggestion can
show each signal's share:

- ``evidence``: document-centric voting (Balog's Model 2; Macdonald & Ounis's
  voting model). Each of the top retrieved documents votes for its authors with
  its retrieval score, shared among its authors.
- ``profile``: how well their own profile (skills with levels, title, bio)
  matches the query.
- ``focus``: how close the query is to the direction of everything they wrote
  (the sum of their documents' vectors).
- ``activity``: a small prior for people with more written evidence overall.

Visibility: people with ``visible: false`` and authors without a person record
are never suggested. Evidence comes only from the ranking it is given, so a
caller that filtered documents by access never sees votes from hidden ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.embedder import Embedder, normalise
from indexer.records import Evidence, ExpertHit, Person
from indexer.store import Store
from search.retrieval import DocScore
from search.snippets import make_snippet
from search.text import stem, terms

TOP_RESULTS = 10  # "wrote 3 of the top 10 results"


@dataclass(frozen=True)
class Vote:
    """One document's vote for one of its authors."""

    doc: DocScore
    share: float
    rank: int


@dataclass(frozen=True)
class ExpertWeights:
    """Signal weights. The written-evidence signals keep the 0.7 : 0.2 : 0.1 ratio that was
    measured on the expert benchmarks (docs/benchmarks.md); the declared profile is added."""

    evidence: float = 0.56
    focus: float = 0.16
    profile: float = 0.20
    activity: float = 0.08
    evidence_depth: int = 500     # top documents that vote
    author_share: float = 1.0     # a vote is divided by n_authors ** author_share
    skill_threshold: float = 0.5  # cosine at which a skill counts as matching the query
    evidence_shown: int = 3


class ExpertRanker:
    def __init__(self, store: Store, embedder: Embedder,
                 weights: ExpertWeights | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights or ExpertWeights()
        self._cache_key: tuple[int, int] | None = None
        self._people: dict[str, Person] = {}
        self._authors: dict[str, list[str]] = {}
        self._doc_counts: dict[str, int] = {}
        self._profile_ids: list[str] = []
        self._profile_vectors = np.zeros((0, 0), dtype=np.float32)
        self._focus_ids: list[str] = []
        self._focus_vectors = np.zeros((0, 0), dtype=np.float32)
        self._skill_vectors: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        """Load what ranking needs now (skill vectors take the model a second or so)."""
        self._refresh()

    def _refresh(self) -> None:
        """Load people, their document counts and vectors once per store change."""
        key = (self.store.generation, self.store.count("people"))
        if key == self._cache_key:
            return
        self._people = self.store.get_people()
        self._authors = self.store.authors_by_document()
        by_author: dict[str, list[str]] = {}
        for doc_id, people in self._authors.items():
            for pid in people:
                if self._eligible(pid):
                    by_author.setdefault(pid, []).append(doc_id)
        self._doc_counts = {p: len(docs) for p, docs in by_author.items()}
        self._profile_ids, self._profile_vectors = self.store.profile_vectors()
        self._focus_ids, self._focus_vectors = _focus_vectors(self.store, by_author)
        names = sorted({s.name for p in self._people.values() for s in p.skills})
        vectors = self.embedder.embed(names) if names else np.zeros((0, 0), np.float32)
        self._skill_vectors = dict(zip(names, vectors, strict=True))
        self._cache_key = key

    def rank(self, query: str, ranking: Sequence[DocScore], query_vector: np.ndarray,
             limit: int = 10, departments: Sequence[str] = (),
             locations: Sequence[str] = ()) -> list[ExpertHit]:
        """People ranked for ``query`` from a document ranking (already access-filtered).

        Every signal is scaled to [0, 1] over the people being ranked, then weighted.
        """
        self._refresh()
        w = self.weights
        votes = {pid: vs for pid, vs in self._votes(ranking[: w.evidence_depth]).items()
                 if self._eligible(pid)}
        profile, skills = self._profile_scores(query, query_vector)
        # Focus and activity describe everything a person wrote, so they only count for
        # people with evidence the caller may see for this query, or a matching profile.
        candidates = votes.keys() | profile.keys()
        evidence = _min_max({p: sum(v.share for v in vs) for p, vs in votes.items()}, candidates)
        focus = _min_max(self._focus(query_vector), candidates)
        activity = _min_max({p: math.log1p(n) for p, n in self._doc_counts.items()}, candidates)
        wanted = {d.lower() for d in departments}
        places = {p.lower() for p in locations}
        hits = []
        for pid in candidates:
            person = self._people[pid]
            if wanted and (person.department or "").lower() not in wanted:
                continue
            if places and (person.location or "").lower() not in places:
                continue
            signals = {"evidence": w.evidence * evidence[pid], "focus": w.focus * focus[pid],
                       "profile": w.profile * profile.get(pid, 0.0),
                       "activity": w.activity * activity[pid]}
            hits.append(ExpertHit(
                id=pid, name=person.name, score=round(sum(signals.values()), 6),
                title=person.title, department=person.department, location=person.location,
                mentoring_available=person.mentoring_available,
                signals={k: round(v, 6) for k, v in signals.items()},
                skills=skills.get(pid, []),
                top_results=sum(v.rank <= TOP_RESULTS for v in votes.get(pid, []))))
        hits.sort(key=lambda h: (-h.score, h.id))
        # Evidence (documents, passages, snippets) only for the people shown.
        for hit in hits[:limit]:
            hit.evidence = self._evidence(votes.get(hit.id, []), hit.signals["evidence"], query)
            hit.why = explain(hit)
        return hits[:limit]

    def _focus(self, query_vector: np.ndarray) -> dict[str, float]:
        """Cosine between the query and the direction of everything a person wrote."""
        if not self._focus_ids:
            return {}
        sims = self._focus_vectors @ query_vector
        return dict(zip(self._focus_ids, sims.tolist(), strict=True))

    def _eligible(self, pid: str) -> bool:
        """Only people with a record who have not opted out are ever suggested."""
        person = self._people.get(pid)
        return person is not None and person.visible

    def _votes(self, top: Sequence[DocScore]) -> dict[str, list[Vote]]:
        votes: dict[str, list[Vote]] = {}
        for rank, scored in enumerate(top, start=1):
            people = self._authors.get(scored.doc_id, [])
            if not people:
                continue
            share = scored.score / len(people) ** self.weights.author_share
            for pid in people:
                votes.setdefault(pid, []).append(Vote(scored, share, rank))
        return votes

    def _profile_scores(self, query: str, query_vector: np.ndarray
                        ) -> tuple[dict[str, float], dict[str, list[dict]]]:
        """profile score in [0, 1] and the matched skills, per person with a profile."""
        query_stems = {stem(t) for t in terms(query)}
        similarity = {name: float(vec @ query_vector) for name, vec in self._skill_vectors.items()}
        for name in similarity:
            name_stems = {stem(t) for t in terms(name)}
            if name_stems and name_stems <= query_stems:
                similarity[name] = 1.0  # the skill is named in the query
        profile_sim = {}
        if len(self._profile_ids):
            sims = self._profile_vectors @ query_vector
            profile_sim = dict(zip(self._profile_ids, sims.tolist(), strict=True))
        scores: dict[str, float] = {}
        matched: dict[str, list[dict]] = {}
        for pid, person in self._people.items():
            if not person.visible:
                continue
            found = [{"name": s.name, "level": s.level, "match": round(similarity[s.name], 3)}
                     for s in person.skills
                     if similarity.get(s.name, 0.0) >= self.weights.skill_threshold]
            found.sort(key=lambda s: (-s["match"] * s["level"], s["name"]))
            skill_score = max((s["match"] * s["level"] / 5 for s in found), default=0.0)
            # The whole profile (title, bio) counts only where it clearly relates.
            whole = max(0.0, profile_sim.get(pid, 0.0) - 0.25) / 0.75
            score = max(skill_score, 0.0) * 0.75 + whole * 0.25
            if score > 0:
                scores[pid] = score
                matched[pid] = found
        return scores, matched

    def _evidence(self, votes: list[Vote], signal: float, query: str) -> list[Evidence]:
        """The documents that voted most, each with its part of the evidence signal."""
        if not votes:
            return []
        total = sum(v.share for v in votes)
        top = sorted(votes, key=lambda v: -v.share)[: self.weights.evidence_shown]
        docs = self.store.get_documents(v.doc.doc_id for v in top)
        chunks = self.store.get_chunks(v.doc.best_chunk for v in top
                                       if v.doc.best_chunk is not None)
        out = []
        for vote in top:
            doc = docs.get(vote.doc.doc_id)
            if doc is None:
                continue
            chunk = chunks.get(vote.doc.best_chunk) if vote.doc.best_chunk is not None else None
            snippet, _ = make_snippet(chunk["text"] if chunk else doc.body, query, width=25)
            out.append(Evidence(id=doc.id, title=doc.title, kind=doc.kind,
                                contribution=round(signal * vote.share / total, 6)
                                if total > 0 else 0.0,
                                snippet=snippet,
                                rank=vote.rank))
        return out


def _min_max(scores: dict[str, float], over: Iterable[str]) -> dict[str, float]:
    """Scale ``scores`` to [0, 1] over the people ``over`` (a missing score counts 0)."""
    values = {p: scores.get(p, 0.0) for p in over}
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    if hi - lo <= 1e-12:
        return {p: (1.0 if hi > 0 else 0.0) for p in values}
    return {p: (v - lo) / (hi - lo) for p, v in values.items()}


def _focus_vectors(store: Store, by_author: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    """Per person, the unit direction of the sum of their documents' unit vectors."""
    doc_vectors = store.document_vectors()
    ids, rows = [], []
    for pid, docs in sorted(by_author.items()):
        found = [doc_vectors[d] for d in docs if d in doc_vectors]
        if found:
            ids.append(pid)
            rows.append(np.sum(found, axis=0))
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    return ids, normalise(np.vstack(rows))


def explain(hit: ExpertHit) -> str:
    """One line a person can read: what they wrote and which skills matched."""
    parts = []
    if hit.top_results > 1:
        parts.append(f"wrote {hit.top_results} of the top {TOP_RESULTS} results")
    elif hit.evidence:
        first = hit.evidence[0]
        parts.append(f"wrote '{first.title}' (result #{first.rank})")
    if hit.skills:
        parts.append("lists " + ", ".join(f"{s['name']} (level {s['level']})"
                                          for s in hit.skills[:3]))
    shares = hit.shares()
    if shares:
        parts.append("score: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if v > 0))
    return "; ".join(parts)
