"""Expert finding: who knows about X, and why.

A person's score is the sum of three named signals, so every suggestion can
show each signal's share:

- ``evidence``: document-centric voting (Balog's Model 2; Macdonald & Ounis's
  voting model). Each of the top retrieved documents votes for its authors with
  its retrieval score, shared among its authors.
- ``profile``: how well their own profile (skills with levels, title, bio)
  matches the query.
- ``activity``: a small prior for people with more written evidence overall.

Visibility: people with ``visible: false`` and authors without a person record
are never suggested. Evidence comes only from the ranking it is given, so a
caller that filtered documents by access never sees votes from hidden ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.embedder import Embedder
from indexer.records import Evidence, ExpertHit, Person
from indexer.store import Store
from search.retrieval import DocScore
from search.snippets import make_snippet
from search.text import stem, terms


@dataclass(frozen=True)
class ExpertWeights:
    evidence: float = 0.6
    profile: float = 0.3
    activity: float = 0.1
    evidence_depth: int = 100     # top documents that vote
    author_share: float = 0.5     # a vote is divided by n_authors ** author_share
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
        self._doc_counts: dict[str, int] = {}
        self._profile_ids: list[str] = []
        self._profile_vectors = np.zeros((0, 0), dtype=np.float32)
        self._skill_vectors: dict[str, np.ndarray] = {}

    def _refresh(self) -> None:
        """Load people, their document counts and profile vectors once per store change."""
        key = (self.store.generation, self.store.count("people"))
        if key == self._cache_key:
            return
        self._people = self.store.get_people()
        self._doc_counts = {p: len(d) for p, d in self.store.documents_by_author().items()}
        self._profile_ids, self._profile_vectors = self.store.profile_vectors()
        names = sorted({s.name for p in self._people.values() for s in p.skills})
        vectors = self.embedder.embed(names) if names else np.zeros((0, 0), np.float32)
        self._skill_vectors = dict(zip(names, vectors, strict=True))
        self._cache_key = key

    def rank(self, query: str, ranking: Sequence[DocScore], query_vector: np.ndarray,
             limit: int = 10, departments: Sequence[str] = ()) -> list[ExpertHit]:
        """People ranked for ``query`` from a document ranking (already access-filtered)."""
        self._refresh()
        w = self.weights
        votes = {pid: vs for pid, vs in self._votes(ranking[: w.evidence_depth]).items()
                 if self._eligible(pid)}
        evidence = _normalise({p: sum(v for _, v in vs) for p, vs in votes.items()})
        profile, skills = self._profile_scores(query, query_vector)
        max_docs = max(self._doc_counts.values(), default=0)
        wanted = {d.lower() for d in departments}
        hits = []
        for pid in evidence.keys() | profile.keys():
            person = self._people[pid]
            if wanted and (person.department or "").lower() not in wanted:
                continue
            activity = (math.log1p(self._doc_counts.get(pid, 0)) / math.log1p(max_docs)
                        if max_docs else 0.0)
            signals = {"evidence": w.evidence * evidence.get(pid, 0.0),
                       "profile": w.profile * profile.get(pid, 0.0),
                       "activity": w.activity * activity}
            hits.append(ExpertHit(
                id=pid, name=person.name, score=round(sum(signals.values()), 6),
                title=person.title, department=person.department, location=person.location,
                mentoring_available=person.mentoring_available,
                signals={k: round(v, 6) for k, v in signals.items()},
                skills=skills.get(pid, []), evidence=self._evidence(votes.get(pid, []), query)))
        hits.sort(key=lambda h: (-h.score, h.id))
        for hit in hits[:limit]:
            hit.why = explain(hit)
        return hits[:limit]

    def _eligible(self, pid: str) -> bool:
        """Only people with a record who have not opted out are ever suggested."""
        person = self._people.get(pid)
        return person is not None and person.visible

    def _votes(self, top: Sequence[DocScore]) -> dict[str, list[tuple[DocScore, float]]]:
        authors = self.store.authors_by_document([d.doc_id for d in top])
        votes: dict[str, list[tuple[DocScore, float]]] = {}
        for scored in top:
            people = authors.get(scored.doc_id, [])
            if not people:
                continue
            share = scored.score / len(people) ** self.weights.author_share
            for pid in people:
                votes.setdefault(pid, []).append((scored, share))
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

    def _evidence(self, votes: list[tuple[DocScore, float]], query: str) -> list[Evidence]:
        if not votes:
            return []
        top = sorted(votes, key=lambda v: -v[1])[: self.weights.evidence_shown]
        docs = self.store.get_documents(d.doc_id for d, _ in top)
        chunks = self.store.get_chunks(d.best_chunk for d, _ in top if d.best_chunk is not None)
        out = []
        for scored, share in top:
            doc = docs.get(scored.doc_id)
            if doc is None:
                continue
            chunk = chunks.get(scored.best_chunk) if scored.best_chunk is not None else None
            snippet, _ = make_snippet(chunk["text"] if chunk else doc.body, query, width=25)
            out.append(Evidence(id=doc.id, title=doc.title, kind=doc.kind,
                                contribution=round(share, 6), snippet=snippet))
        return out


def _normalise(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


def explain(hit: ExpertHit) -> str:
    """One line a person can read: what they wrote and which skills matched."""
    parts = []
    if hit.evidence:
        kinds = {e.kind for e in hit.evidence}
        noun = "lessons" if kinds == {"lesson"} else "documents"
        parts.append(f"wrote {len(hit.evidence)} of the top {noun}"
                     if len(hit.evidence) > 1 else f"wrote '{hit.evidence[0].title}'")
    if hit.skills:
        parts.append("lists " + ", ".join(f"{s['name']} (level {s['level']})"
                                          for s in hit.skills[:3]))
    shares = hit.shares()
    if shares:
        parts.append("score: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if v > 0))
    return "; ".join(parts)
