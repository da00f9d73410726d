"""Fit: how well a mentor's expertise covers what a mentee wants to learn.

A mentee's topics are their goals (weight 1) and the skills they hold at level
1-2, their gaps (weight ``FitWeights.gaps``). For each topic and mentor:

- skills: the mentor's best skill for the topic, named in it or close to it by
  the embedder, times level / 5; a skill counts only where the mentor holds it
  at level 3 or more, and higher than the mentee (in reverse mentoring too: the
  junior teaches where they are stronger);
- documents: what the mentor wrote that the caller may read, each matching the
  topic by its vector, or at 0.7 by a tag that names the topic, divided among the
  document's authors, and combined as a noisy-or (two good documents say more
  than one);
- topic fit = skills weight * skills + documents weight * documents.

A pair's fit is the weighted mean topic fit over the mentee's topics, so it
says how much of what they want the mentor covers (0 to 1), plus optional
bonuses (shared language, close time zone, same location, another department)
and the mentor's outcomes (``outcomes`` times their outcome score in [-1, 1], see
``search.mentoring.relationships.outcome_score``) only where that coverage is
positive. Each distinct topic and skill name is embedded once and cached; the rest is
matrix products.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from indexer.embedders import Embedder, cosine_floor, embed_queries, rescale
from indexer.records import Person
from search.closeness import DOCUMENT_MARGIN, SHORT_TEXT_MARGIN, centre, lines
from search.mentoring.rules import codes, share_any, timezone_matrix
from search.text import stem, terms

GAP_LEVEL = 2  # a skill held at this level or below is something to grow
TEACH_LEVEL = 3  # and one held at this level or above is something one can teach
# Cosine ramps, read off MiniLM on the demo corpus: skill names below 0.5 are
# unrelated ("Salesforce"/"AWS" 0.55 barely counts); a goal and an unrelated
# document reach 0.35, a related one 0.45-0.6. Each floor also stands a margin above
# the topic's cosine to the centre of the skills (documents) compared, and the ramp
# moves up with it (search/closeness.py): with e5 the floors alone let "machine
# learning" match a guide for new managers.
SKILL_FLOOR, SKILL_FULL = 0.5, 0.85
DOC_FLOOR, DOC_FULL = 0.4, 0.65
TAG_MATCH = 0.7  # a document tagged with the topic; its text may still make it a full match
DOCS_SHOWN = 2


@dataclass(frozen=True)
class Topic:
    text: str
    kind: str  # "goal" or "gap"


@dataclass(frozen=True)
class FitWeights:
    """Weights of the fit. ``skills`` and ``documents`` are rescaled to sum to 1."""

    skills: float = 0.6
    documents: float = 0.4
    gaps: float = 0.5             # a skill gap counts this much of a stated goal
    shared_language: float = 0.0  # bonuses, added where the coverage is positive
    timezone: float = 0.0         # times (1 - hours apart / 12)
    same_location: float = 0.0
    cross_department: float = 0.0
    outcomes: float = 0.05        # times the mentor's outcome score, -1 to 1: gently


@dataclass(frozen=True)
class DocInfo:
    id: str
    title: str
    tags: tuple[str, ...] = ()


@dataclass
class Expertise:
    """The written evidence: documents the caller may read, their vectors, who wrote them."""

    documents: Mapping[str, DocInfo] = field(default_factory=dict)
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    by_author: Mapping[str, Sequence[str]] = field(default_factory=dict)
    authors: Mapping[str, int] = field(default_factory=dict)  # doc id -> how many wrote it
    centre: np.ndarray | None = None  # of every document (search/closeness.py); None: none
    # of every skill name people declare, so a topic's line is the same whoever is in the
    # pool (None: the centre of the pool's own skill names)
    skill_centre: np.ndarray | None = None


def topics_of(person: Person) -> list[Topic]:
    """What the person wants to learn: their goals, then their weakest skills."""
    found: dict[str, Topic] = {}
    for goal in person.goals:
        found.setdefault(goal.strip().casefold(), Topic(goal.strip(), "goal"))
    for skill in person.skills:
        if skill.level <= GAP_LEVEL:
            found.setdefault(skill.name.strip().casefold(), Topic(skill.name.strip(), "gap"))
    return [t for t in found.values() if t.text]


@functools.lru_cache(maxsize=65_536)
def stems(text: str) -> frozenset[str]:
    return frozenset(stem(t) for t in terms(text))


def named(name: str, text: str) -> bool:
    """True when every word of ``name`` (a skill, a tag) appears in ``text`` (a topic)."""
    words = stems(name)
    return bool(words) and words <= stems(text)


def tag_named(tag: str, topic: str) -> bool:
    """A tag names a topic when it covers all of it, or is a phrase inside it: a document
    tagged "engineering" is not about "privacy engineering", one tagged "kafka" is about
    "kafka" and one tagged "public-speaking" about "get better at public speaking"."""
    words, wanted = stems(tag), stems(topic)
    return bool(words) and (wanted <= words or (len(words) > 1 and words <= wanted))


def ramp(similarity: np.ndarray, floor: float | np.ndarray, full: float | np.ndarray
         ) -> np.ndarray:
    return np.clip((similarity - floor) / (full - floor), 0.0, 1.0)


def lifted_ramp(similarity: np.ndarray, queries: np.ndarray, middle: np.ndarray,
                floor: float, full: float, margin: float, cosine_floor: float) -> np.ndarray:
    """``ramp`` with each query's (row's) floor at its line (search/closeness.py), the
    ramp's width kept."""
    start = lines(floor, margin, middle, queries, cosine_floor)[:, None]
    return ramp(similarity, start, start + (full - floor)).astype(np.float32)


class FitModel:
    """Scores mentees against mentors; keeps the vectors of texts it has embedded."""

    def __init__(self, embedder: Embedder, weights: FitWeights | None = None,
                 cache_size: int = 50_000) -> None:
        self.embedder = embedder
        self.cosine_floor = cosine_floor(embedder)
        self.weights = weights or FitWeights()
        self.cache_size = cache_size
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` (goals, gaps and skill names: short texts compared
        with each other and with documents, read as queries), embedding only the ones
        not seen before."""
        known = self._vectors  # another thread may replace the cache meanwhile
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            found = dict(zip(new, embed_queries(self.embedder, new), strict=True))
            if len(known) + len(new) > self.cache_size:
                self._vectors = found
            else:
                self._vectors = {**known, **found}
            known = {**known, **found}
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack([known[t] for t in texts]).astype(np.float32)

    def cosines(self, queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(queries x vectors) cosines on the common scale (indexer.embedders.rescale),
        where the ramps' floors and fulls are drawn."""
        return np.asarray(rescale(queries @ vectors.T, self.cosine_floor), np.float32)

    def score(self, mentees: Sequence[Person], mentors: Sequence[Person],
              expertise: Expertise | None = None, weights: FitWeights | None = None,
              outcomes: Mapping[str, float] | None = None) -> Fit:
        """``outcomes``: mentor id -> outcome score in [-1, 1] (none: 0)."""
        w = weights or self.weights
        return Fit(self, list(mentees), list(mentors), expertise or Expertise(), w,
                   outcomes or {})


class Fit:
    """The fit of every mentee (rows) to every mentor (columns), and why."""

    def __init__(self, model: FitModel, mentees: list[Person], mentors: list[Person],
                 expertise: Expertise, weights: FitWeights,
                 outcomes: Mapping[str, float] | None = None) -> None:
        self.mentees, self.mentors, self.weights = mentees, mentors, weights
        self.outcomes = np.array([(outcomes or {}).get(p.id, 0.0) for p in mentors],
                                 dtype=np.float32)
        total = max(weights.skills + weights.documents, 1e-12)
        self._ws, self._wd = weights.skills / total, weights.documents / total
        self._topics(mentees)
        query = model.embed(self.topics)
        self._skills(mentors, query, expertise, model)
        self._documents(mentors, query, expertise, model)
        self.coverage = self._coverage()
        self.values = self.coverage + self._bonus()

    # -- building ------------------------------------------------------------

    def _topics(self, mentees: Sequence[Person]) -> None:
        keys: dict[str, int] = {}
        self.topics: list[str] = []
        self.mentee_topics: list[list[tuple[int, float, Topic]]] = []
        for person in mentees:
            items = []
            for topic in topics_of(person):
                weight = 1.0 if topic.kind == "goal" else self.weights.gaps
                if weight <= 0:
                    continue
                key = topic.text.casefold()
                if key not in keys:
                    keys[key] = len(self.topics)
                    self.topics.append(topic.text)
                items.append((keys[key], weight, topic))
            self.mentee_topics.append(items)

    def _skills(self, mentors: Sequence[Person], query: np.ndarray, expertise: Expertise,
                model: FitModel) -> None:
        """Topic x skill-name match, and each mentor's skills as padded index/level rows."""
        keys: dict[str, int] = {}
        names: list[str] = []
        for p in mentors:
            for s in p.skills:
                if s.name.casefold() not in keys:
                    keys[s.name.casefold()] = len(names)
                    names.append(s.name)
        self.skill_names, self._skill_keys = names, keys
        if names and len(query):
            vectors = model.embed(names)
            middle = (expertise.skill_centre if expertise.skill_centre is not None
                      else centre(vectors, vectors.shape[1]))
            match = lifted_ramp(model.cosines(query, vectors), query, middle, SKILL_FLOOR,
                                SKILL_FULL, SHORT_TEXT_MARGIN, model.cosine_floor)
        else:
            match = np.zeros((len(self.topics), len(names)), np.float32)
        for t, topic in enumerate(self.topics):
            for k, name in enumerate(names):
                if named(name, topic):
                    match[t, k] = 1.0
        # One zero column more: the padding of mentors with fewer skills points at it.
        self._skill_match = np.hstack([match, np.zeros((len(self.topics), 1), np.float32)])
        width = max([len(p.skills) for p in mentors] + [1])
        self._idx = np.full((len(mentors), width), len(names), dtype=np.int64)
        self._lvl = np.zeros((len(mentors), width), dtype=np.float32)
        for j, p in enumerate(mentors):
            for c, s in enumerate(p.skills):
                self._idx[j, c], self._lvl[j, c] = keys[s.name.casefold()], s.level

    def _documents(self, mentors: Sequence[Person], query: np.ndarray,
                   expertise: Expertise, model: FitModel) -> None:
        """Topic x document match, and the noisy-or of each mentor's documents per topic."""
        index: dict[str, int] = {}
        self._mentor_docs: list[list[int]] = []
        rows, cols = [], []
        for j, p in enumerate(mentors):
            mine = []
            for doc_id in dict.fromkeys(expertise.by_author.get(p.id, ())):
                if doc_id in expertise.vectors and doc_id in expertise.documents:
                    n = index.setdefault(doc_id, len(index))
                    mine.append(n)
                    rows.append(n)
                    cols.append(j)
            self._mentor_docs.append(mine)
        self.doc_ids = list(index)
        self.docs = [expertise.documents[d] for d in self.doc_ids]
        n_topics, n_docs = len(self.topics), len(self.doc_ids)
        if not n_docs or not n_topics:
            self._doc_match = np.zeros((n_topics, n_docs), np.float32)
            self._topic_docs = np.zeros((n_topics, len(mentors)), np.float32)
            return
        vectors = np.vstack([expertise.vectors[d] for d in self.doc_ids]).astype(np.float32)
        middle = (expertise.centre if expertise.centre is not None
                  else np.zeros(vectors.shape[1], np.float32))
        match = lifted_ramp(model.cosines(query, vectors), query, middle, DOC_FLOOR, DOC_FULL,
                            DOCUMENT_MARGIN, model.cosine_floor)
        match = np.maximum(match, TAG_MATCH * self._tags_named())
        # A co-written document is shared among its authors, as votes are in expert ranking.
        shares = np.array([1.0 / max(expertise.authors.get(d, 1), 1) for d in self.doc_ids],
                          dtype=np.float32)
        match = match * shares[None, :]
        self._doc_match = match
        # noisy-or over a mentor's documents: 1 - prod(1 - m), as a sum of logs in one product
        logs = np.log1p(-np.minimum(match, 0.99)).astype(np.float64)
        wrote = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                  shape=(n_docs, len(mentors)))
        self._topic_docs = (1.0 - np.exp(np.asarray((wrote.T @ logs.T).T))).astype(np.float32)

    def _tags_named(self) -> np.ndarray:
        """1 where one of the document's tags is named in the topic."""
        vocab: dict[str, int] = {}
        doc_tags = [[vocab.setdefault(t.casefold(), len(vocab)) for t in d.tags]
                    for d in self.docs]
        tags = list(vocab)
        hit = np.array([[tag_named(tag, topic) for tag in tags] for topic in self.topics],
                       dtype=np.float32).reshape(len(self.topics), len(tags))
        has = np.zeros((len(self.docs), len(tags)), dtype=np.float32)
        for n, found in enumerate(doc_tags):
            has[n, found] = 1.0
        return np.minimum(hit @ has.T, 1.0)

    def _strength(self, i: int) -> np.ndarray:
        """Each mentor skill's level / 5 where it is 3 or more and beats the mentee's."""
        own = np.zeros(len(self.skill_names) + 1, dtype=np.float32)
        for s in self.mentees[i].skills:
            k = self._skill_keys.get(s.name.casefold())
            if k is not None:
                own[k] = max(own[k], s.level)
        teach = (self._lvl > own[self._idx]) & (self._lvl >= TEACH_LEVEL)
        return np.where(teach, self._lvl / 5.0, 0.0)

    def _coverage(self) -> np.ndarray:
        out = np.zeros((len(self.mentees), len(self.mentors)), dtype=np.float32)
        if not self.mentors:
            return out
        for i, items in enumerate(self.mentee_topics):
            if not items:
                continue
            t = [x[0] for x in items]
            w = np.array([x[1] for x in items], dtype=np.float32)
            skill = (self._skill_match[t][:, self._idx] * self._strength(i)[None]).max(axis=2)
            out[i] = (w / w.sum()) @ (self._ws * skill + self._wd * self._topic_docs[t])
        return out

    def _bonus(self) -> np.ndarray:
        w = self.weights
        bonus = np.zeros_like(self.coverage)
        if w.shared_language:
            bonus += w.shared_language * share_any(self.mentees, self.mentors)
        if w.timezone:
            hours = timezone_matrix(self.mentees, self.mentors)
            bonus += w.timezone * np.nan_to_num(1.0 - hours / 12.0, nan=0.0)
        if w.same_location or w.cross_department:
            for weight, attr, same in ((w.same_location, "location", True),
                                       (w.cross_department, "department", False)):
                if weight:
                    a, b = codes(self.mentees, self.mentors, lambda p, f=attr: getattr(p, f))
                    equal = (a[:, None] == b[None, :])
                    known = (a[:, None] >= 0) & (b[None, :] >= 0)
                    bonus += weight * (known & (equal if same else ~equal))
        if w.outcomes and len(self.outcomes):
            bonus += w.outcomes * self.outcomes[None, :]
        return np.where(self.coverage > 0, bonus, 0.0).astype(np.float32)

    # -- explaining ----------------------------------------------------------

    def topic_fit(self, i: int, j: int) -> list[dict[str, Any]]:
        """Per topic of mentee ``i``: its fit with mentor ``j``, the skills and documents."""
        strength = self._strength(i)[j]
        out = []
        for t, weight, topic in self.mentee_topics[i]:
            scores = self._skill_match[t, self._idx[j]] * strength
            c = int(np.argmax(scores))
            skills = []
            if scores[c] > 0:
                s = self.mentors[j].skills[c]
                skills = [{"name": s.name, "level": s.level,
                           "match": round(float(self._skill_match[t, self._idx[j, c]]), 3)}]
            docs = sorted(((float(self._doc_match[t, n]), self.docs[n])
                           for n in self._mentor_docs[j] if self._doc_match[t, n] > 0),
                          key=lambda x: (-x[0], x[1].id))[:DOCS_SHOWN]
            value = self._ws * float(scores[c]) + self._wd * float(self._topic_docs[t, j])
            out.append({"topic": topic.text, "kind": topic.kind, "weight": weight,
                        "fit": round(value, 4), "skills": skills,
                        "documents": [{"id": d.id, "title": d.title, "match": round(m, 3)}
                                      for m, d in docs]})
        return out

    def reason(self, i: int, j: int) -> dict[str, Any]:
        """Which of the mentee's topics the mentor covers and with what, in one record."""
        topics = self.topic_fit(i, j)
        covered = sorted((x for x in topics if x["fit"] > 0),
                         key=lambda x: (-x["fit"] * x["weight"], x["topic"]))
        return {"fit": round(float(self.values[i, j]), 4),
                "coverage": round(float(self.coverage[i, j]), 4),
                "outcome": round(float(self.outcomes[j]), 4),
                "covers": covered,
                "not_covered": [x["topic"] for x in topics if x["fit"] <= 0],
                "why": explain(covered, [x["topic"] for x in topics if x["fit"] <= 0])}


def explain(covered: Sequence[dict[str, Any]], missing: Sequence[str]) -> str:
    """One line: which goal meets which skill and documents."""
    parts = []
    for item in covered:
        found = [f"lists {s['name']} (level {s['level']})" for s in item["skills"]]
        found += [f"wrote '{d['title']}'" for d in item["documents"]]
        parts.append(f"{item['topic']} ({item['kind']}): {', '.join(found)}")
    if missing:
        parts.append("not covered: " + ", ".join(missing))
    return "; ".join(parts) if parts else "covers none of the mentee's topics"
