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
- ``activity``: a small prior for people with more written evidence overall; it never
  counts more than the person's strongest other signal, so it breaks ties, never carries.
- ``feedback``: what readers said of them for this question and similar ones ("helped
  me", "not an expert on this"), bounded and fading (search/feedback.py); it may be
  negative, and it is present only where someone gave feedback.

Evidence ages (search/recency.py): with a half-life set, a document's vote is weighed by
its age, and "why" says how recent the evidence is. People's own choices apply
(search/profile.py): confirmed and "ask me about" topics count as declared skills, and
a person is never suggested for a topic they hid or opted out of.

Who is suggested: only people with evidence *about the question*: a document of theirs
among those that vote that is close in meaning to the query (its best passage's cosine
at least ``close_similarity`` and ``close_margin`` above the question's cosine to the
corpus as a whole), or a declared skill that matches it. Deep voting (500
documents) makes the score, not the expert: a prolific author collects votes from far
down any ranking, on documents that share a word with the question (docs/benchmarks.md,
"Expert finding").

Visibility: people with ``visible: false`` and authors without a person record
are never suggested. Evidence comes only from the ranking it is given, so a
caller that filtered documents by access never sees votes from hidden ones.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.dates import document_dates
from indexer.embedders import Embedder, cosine_floor, embed_queries, normalise, rescale
from indexer.profiles import ProfileBook
from indexer.records import Evidence, ExpertHit, Person, may_read
from indexer.store import Store
from search.closeness import DOCUMENT_MARGIN, SHORT_TEXT_MARGIN, centre, lines
from search.feedback import Effect, Feedback
from search.markup import may_hold_markdown
from search.profile import apply_choices, excluded_topics
from search.recency import Recency, describe, parse_day
from search.retrieval import DocScore
from search.snippets import make_snippet
from search.text import stem, terms

TOP_RESULTS = 10  # "wrote 3 of the top 10 results"
FOCUS_WORTH_SAYING = 0.2  # the share of the score from focus at which "why" mentions it


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
    # ... and at least this far above the query's cosine to all the skills people declare
    # (search/closeness.py).
    skill_margin: float = SHORT_TEXT_MARGIN
    # A voting document is about the question when its best passage has at least this
    # cosine with the query. Chosen on the expert benchmarks (docs/benchmarks.md): the
    # model's weak-match line (0.40 for MiniLM) cost MAP there (android 0.0875, DBLP
    # papers 0.442), so a weak match may still list people with evidence above 0.3.
    close_similarity: float = 0.3
    # ... and stands at least this far above the query's cosine to the corpus as a whole
    # (search/closeness.py): with e5 the floor alone let a prolific author's unrelated
    # documents count as about the question.
    close_margin: float = DOCUMENT_MARGIN
    evidence_shown: int = 3


@dataclass(frozen=True)
class _Profiles:
    """What ranking reads about people, derived from the store once per change and
    replaced whole, so queries running side by side never see half of a refresh."""

    key: tuple
    people: dict[str, Person]
    authors: dict[str, list[tuple[str, float]]]  # doc id -> (author id, weight > 0)
    written: dict[str, list[str]]          # eligible person id -> their document ids
    doc_vectors: dict[str, np.ndarray]     # doc id -> unit mean of its passages
    doc_groups: dict[str, tuple[str, ...]]  # doc id -> its access groups
    profile_ids: list[str]
    profile_vectors: np.ndarray
    focus_ids: list[str]                   # everything each person wrote (unrestricted)
    focus_vectors: np.ndarray
    skill_vectors: dict[str, np.ndarray]  # skill names and excluded topics
    centre: np.ndarray                     # the mean document vector: the corpus as a whole
    skill_centre: np.ndarray               # the mean skill vector: all the skills declared
    fresh: dict[str, float] = field(default_factory=dict)  # doc id -> recency weight < 1
    dates: dict[str, str] = field(default_factory=dict)    # doc id -> updated_at
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)  # person -> topics

    def eligible(self, pid: str) -> bool:
        """Only people with a record who have not opted out are ever suggested."""
        person = self.people.get(pid)
        return person is not None and person.visible


class ExpertRanker:
    def __init__(self, store: Store, embedder: Embedder,
                 weights: ExpertWeights | None = None, recency: Recency | None = None,
                 feedback: Feedback | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.cosine_floor = cosine_floor(embedder)  # skill and profile cosines, common scale
        self.weights = weights or ExpertWeights()
        self.recency = recency or Recency()
        self.feedback = feedback  # None: no feedback moves people
        self.book = ProfileBook(store)
        self._profiles: _Profiles | None = None
        self._refreshing = threading.Lock()

    def warm_up(self) -> None:
        """Load what ranking needs now (skill vectors take the model a second or so)."""
        self._refresh()

    def _refresh(self) -> _Profiles:
        """People, their documents and vectors, rebuilt when documents or people change."""
        key = (self.store.generation, self.store.people_generation, self.book.generation,
               self.recency.today() if self.recency.on else None)
        current = self._profiles
        if current is not None and current.key == key:
            return current
        with self._refreshing:
            if self._profiles is not None and self._profiles.key == key:
                return self._profiles
            self._profiles = _load_profiles(self.store, self.embedder, key, self.book,
                                            self.recency)
            return self._profiles

    def rank(self, query: str, ranking: Sequence[DocScore], query_vector: np.ndarray,
             limit: int = 10, departments: Sequence[str] = (),
             locations: Sequence[str] = (),
             groups: Sequence[str] | None = None, rank_all: bool = False) -> list[ExpertHit]:
        """People ranked for ``query`` from a document ranking (already access-filtered
        to ``groups``, the caller's access groups; None: the caller reads everything).

        Every signal is scaled to [0, 1] over the people being ranked, then weighted.
        Only people with evidence about the question are returned (``about``); with
        ``rank_all`` (benchmarks, which rank every candidate) the others follow them.
        """
        known = self._refresh()
        w = self.weights
        line = self.close_line(known, query_vector)
        votes = {pid: vs for pid, vs in self._votes(known, ranking[: w.evidence_depth]).items()
                 if known.eligible(pid)}
        profile, skills = self._profile_scores(known, query, query_vector)
        # Focus and activity describe what a person wrote that the caller may read, and
        # only count for people with evidence for this query, or a matching profile.
        query_stems = {stem(t) for t in terms(query)}
        candidates = {p for p in votes.keys() | profile.keys()
                      if not self._excluded(known, p, query_stems, query_vector)}
        said = (self.feedback.effects(query_vector, "person", query)
                if self.feedback is not None else {})
        evidence = _min_max({p: sum(v.share for v in vs) for p, vs in votes.items()}, candidates)
        focus_raw, counts = _written_signals(known, candidates, query_vector, groups)
        focus = _min_max(focus_raw, candidates)
        activity = _min_max({p: math.log1p(n) for p, n in counts.items()}, candidates)
        wanted = {d.lower() for d in departments}
        places = {p.lower() for p in locations}
        hits, others, close = [], [], {}
        for pid in candidates:
            person = known.people[pid]
            if wanted and (person.department or "").lower() not in wanted:
                continue
            if places and (person.location or "").lower() not in places:
                continue
            signals = {"evidence": w.evidence * evidence[pid], "focus": w.focus * focus[pid],
                       "profile": w.profile * profile.get(pid, 0.0)}
            signals["activity"] = min(w.activity * activity[pid], max(signals.values()))
            if pid in said:
                signals["feedback"] = said[pid].adjustment
            hit = ExpertHit(
                id=pid, name=person.name, score=round(sum(signals.values()), 6),
                title=person.title, department=person.department, location=person.location,
                mentoring_available=person.mentoring_available,
                signals={k: round(v, 6) for k, v in signals.items()},
                skills=skills.get(pid, []),
                top_results=sum(v.rank <= TOP_RESULTS for v in votes.get(pid, [])))
            close[pid] = [v for v in votes.get(pid, []) if about(v, line)]
            (hits if close[pid] or hit.skills else others).append(hit)
        hits.sort(key=lambda h: (-h.score, h.id))
        if rank_all:
            hits += sorted(others, key=lambda h: (-h.score, h.id))
        # Evidence (documents, passages, snippets) only for the people shown.
        for hit in hits[:limit]:
            hit.evidence = self._evidence(votes.get(hit.id, []), hit.signals["evidence"],
                                          query, line)
            hit.why = explain(hit, len(close[hit.id]), said.get(hit.id),
                              self._freshness(known, votes.get(hit.id, []), line))
        return hits[:limit]

    def corpus_centre(self) -> np.ndarray:
        """The mean document vector: the corpus as a whole (search/closeness.py)."""
        return self._refresh().centre

    def close_line(self, known: _Profiles, query_vector: np.ndarray) -> float:
        """The cosine (common scale) a voting document's best passage needs to be about
        the question: ``close_similarity``, and ``close_margin`` above the question's
        cosine to the corpus's centre (search/closeness.py)."""
        return float(lines(self.weights.close_similarity, self.weights.close_margin,
                           known.centre, query_vector, self.cosine_floor))

    def _excluded(self, known: _Profiles, pid: str, query_stems: set[str],
                  query_vector: np.ndarray) -> bool:
        """The person hid a skill or opted out of a topic that this query is about (the
        rule that matches a declared skill to a query, without ``skill_margin``: a
        person's choice errs on the side of keeping them out)."""
        topics = known.excluded.get(pid)
        if not topics:
            return False
        for topic in topics:
            topic_stems = {stem(t) for t in terms(topic)}
            if topic_stems and topic_stems <= query_stems:
                return True
            vector = known.skill_vectors.get(topic)
            if vector is not None and float(rescale(
                    vector @ query_vector, self.cosine_floor)) >= self.weights.skill_threshold:
                return True
        return False

    def _freshness(self, known: _Profiles, votes: list[Vote], line: float) -> str:
        """'latest evidence May 2025 (6 months ago)' over the documents about the
        question (all that voted when none is), when ageing is on and they have dates."""
        if not self.recency.on:
            return ""
        close = [v for v in votes if about(v, line)] or votes
        days = [d for v in close if (d := parse_day(known.dates.get(v.doc.doc_id)))]
        return describe(max(days), self.recency.today()) if days else ""

    def _votes(self, known: _Profiles, top: Sequence[DocScore]) -> dict[str, list[Vote]]:
        votes: dict[str, list[Vote]] = {}
        for rank, scored in enumerate(top, start=1):
            people = known.authors.get(scored.doc_id, [])
            if not people:
                continue
            # An answer's author counts more than the asker of its question (weights).
            share = (scored.score / len(people) ** self.weights.author_share
                     * known.fresh.get(scored.doc_id, 1.0))
            for pid, weight in people:
                votes.setdefault(pid, []).append(Vote(scored, share * weight, rank))
        return votes

    def _profile_scores(self, known: _Profiles, query: str, query_vector: np.ndarray
                        ) -> tuple[dict[str, float], dict[str, list[dict]]]:
        """profile score in [0, 1] and the matched skills, per person with a profile."""
        query_stems = {stem(t) for t in terms(query)}
        line = float(lines(self.weights.skill_threshold, self.weights.skill_margin,
                           known.skill_centre, query_vector, self.cosine_floor))
        similarity = {name: float(rescale(vec @ query_vector, self.cosine_floor))
                      for name, vec in known.skill_vectors.items()}
        # A skill covers the question when it is close to it in meaning, or named by all
        # its words ("GDPR" for "gdpr"), not when it is named among others ("Kafka" in
        # "kafka zebra okapi"): see search.answers.people_know.
        covering = {name for name, sim in similarity.items() if sim >= line}
        named = set()
        for name in similarity:
            name_stems = {stem(t) for t in terms(name)}
            if name_stems and name_stems <= query_stems:
                similarity[name] = 1.0  # the skill is named in the query
                named.add(name)
                if query_stems <= name_stems:
                    covering.add(name)
        profile_sim = {}
        if len(known.profile_ids):
            sims = rescale(known.profile_vectors @ query_vector, self.cosine_floor)
            profile_sim = dict(zip(known.profile_ids, sims.tolist(), strict=True))
        scores: dict[str, float] = {}
        matched: dict[str, list[dict]] = {}
        for pid, person in known.people.items():
            if not person.visible:
                continue
            found = [{"name": s.name, "level": s.level, "match": round(similarity[s.name], 3),
                      "covers": s.name in covering}
                     for s in person.skills
                     if similarity.get(s.name, 0.0) >= line or s.name in named]
            found.sort(key=lambda s: (-s["match"] * s["level"], s["name"]))
            skill_score = max((s["match"] * s["level"] / 5 for s in found), default=0.0)
            # The whole profile (title, bio) counts only where it clearly relates.
            whole = max(0.0, profile_sim.get(pid, 0.0) - 0.25) / 0.75
            score = max(skill_score, 0.0) * 0.75 + whole * 0.25
            if score > 0:
                scores[pid] = score
                matched[pid] = found
        return scores, matched

    def _evidence(self, votes: list[Vote], signal: float, query: str,
                  line: float) -> list[Evidence]:
        """The documents about the question, best ranked first, then those that voted
        most, each with its part of the evidence signal."""
        if not votes:
            return []
        total = sum(v.share for v in votes)
        top = sorted(votes, key=lambda v: (0, v.rank) if about(v, line)
                     else (1, -v.share))
        top = top[: self.weights.evidence_shown]
        docs = self.store.get_documents(v.doc.doc_id for v in top)
        chunks = self.store.get_chunks(v.doc.best_chunk for v in top
                                       if v.doc.best_chunk is not None)
        out = []
        for vote in top:
            doc = docs.get(vote.doc.doc_id)
            if doc is None:
                continue
            chunk = chunks.get(vote.doc.best_chunk) if vote.doc.best_chunk is not None else None
            snippet, _ = make_snippet(chunk["text"] if chunk else doc.body, query, width=25,
                                      markdown=may_hold_markdown(doc.source))
            out.append(Evidence(id=doc.id, title=doc.title, kind=doc.kind,
                                contribution=round(signal * vote.share / total, 6)
                                if total > 0 else 0.0,
                                snippet=snippet,
                                rank=vote.rank))
        return out


def about(vote: Vote, line: float) -> bool:
    """The rule for evidence about the question: a voting document whose best passage is
    close in meaning to the query (at least ``line``, ``ExpertRanker.close_line``), not
    one that only shares words with it."""
    return vote.doc.similarity >= line


def _min_max(scores: dict[str, float], over: Iterable[str]) -> dict[str, float]:
    """Scale ``scores`` to [0, 1] over the people ``over`` (a missing score counts 0)."""
    values = {p: scores.get(p, 0.0) for p in over}
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    if hi - lo <= 1e-12:
        return {p: (1.0 if hi > 0 else 0.0) for p in values}
    return {p: (v - lo) / (hi - lo) for p, v in values.items()}


def _load_profiles(store: Store, embedder: Embedder, key: tuple, book: ProfileBook,
                   recency: Recency) -> _Profiles:
    choices = book.choices()
    people = {pid: apply_choices(p, choices.get(pid)) for pid, p in store.get_people().items()}
    excluded = {pid: topics for pid, c in choices.items() if (topics := excluded_topics(c))}
    # Evidence only: an author of weight 0 (who asked the question) is no expert on it.
    authors = {doc_id: kept for doc_id, pairs in store.authorship().items()
               if (kept := [(pid, w) for pid, w in pairs if w > 0])}
    written: dict[str, list[str]] = {}
    for doc_id, pairs in authors.items():
        for pid, _ in pairs:
            person = people.get(pid)
            if person is not None and person.visible:
                written.setdefault(pid, []).append(doc_id)
    doc_vectors = store.document_vectors()
    groups = {d: labels[2] for d, labels in store.document_labels().items()}
    profile_ids, profile_vectors = store.profile_vectors()
    focus_ids, focus_vectors = _focus_vectors(doc_vectors, written)
    declared = {s.name for p in people.values() for s in p.skills}
    names = sorted(declared | {t for topics in excluded.values() for t in topics})
    # A skill name is a few words matched against a query: read as a query too (e5
    # reads short texts compared with each other that way).
    vectors = embed_queries(embedder, names) if names else np.zeros((0, 0), np.float32)
    dates = document_dates(store)
    return _Profiles(key, people, authors, written, doc_vectors, groups, profile_ids,
                     profile_vectors, focus_ids, focus_vectors,
                     dict(zip(names, vectors, strict=True)),
                     centre(list(doc_vectors.values()), embedder.dim),
                     # the skills people declare (hidden topics are not among them), as
                     # the mentoring fit reads them
                     centre([v for n, v in zip(names, vectors, strict=True) if n in declared],
                            embedder.dim), recency.weights(dates), dates, excluded)


def _written_signals(known: _Profiles, candidates: Iterable[str], query_vector: np.ndarray,
                     groups: Sequence[str] | None) -> tuple[dict[str, float], dict[str, int]]:
    """Per candidate: the cosine between the query and the direction of what they wrote,
    and how many documents they wrote, counting only documents the caller may read."""
    if groups is None:  # reads everything: the precomputed directions
        ids, directions = known.focus_ids, known.focus_vectors
        written = {p: known.written.get(p, []) for p in candidates}
    else:
        written = {p: [d for d in known.written.get(p, [])
                       if may_read(known.doc_groups.get(d, ()), groups)] for p in candidates}
        ids, directions = _focus_vectors(known.doc_vectors, written)
    sims = directions @ query_vector if ids else np.zeros(0)
    focus = dict(zip(ids, sims.tolist(), strict=True))
    return ({p: focus[p] for p in candidates if p in focus},
            {p: len(docs) for p, docs in written.items()})


def _focus_vectors(doc_vectors: dict[str, np.ndarray], by_author: dict[str, list[str]]
                   ) -> tuple[list[str], np.ndarray]:
    """Per person, the unit direction of the sum of their documents' unit vectors."""
    ids, rows = [], []
    for pid, docs in sorted(by_author.items()):
        found = [doc_vectors[d] for d in docs if d in doc_vectors]
        if found:
            ids.append(pid)
            rows.append(np.sum(found, axis=0))
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    return ids, normalise(np.vstack(rows))


def explain(hit: ExpertHit, close: int = 0, said: Effect | None = None,
            fresh: str = "") -> str:
    """One line a person can read: what they wrote about the question (``close``: how many
    of their documents are about it, shown first in ``hit.evidence``), which of their
    skills match it, and, in words, what else weighed (the numbers are in ``signals``):
    how recent the evidence is (``fresh``) and what colleagues said (``said``)."""
    parts = []
    if close and hit.evidence:
        first = hit.evidence[0]
        more = f" and {close - 1} more close to the question" if close > 1 else ""
        parts.append(f"wrote '{first.title}' (result #{first.rank}){more}")
    if hit.skills:
        parts.append("lists " + ", ".join(f"{s['name']} (level {s['level']})"
                                          for s in hit.skills[:3]))
    shares = hit.shares()
    if parts and shares.get("focus", 0.0) >= FOCUS_WORTH_SAYING:
        parts.append("most of what they write is about this")
    if not parts:
        parts.append("nothing they wrote is close to the question")
    if fresh:
        parts.append(fresh)
    if said is not None and (text := said.why("person")):
        parts.append(text)
    return "; ".join(parts)
