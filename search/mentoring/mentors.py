"""Mentors for one employee: ranked by fit, filtered by the hard rules, explained.

``MentorCatalog`` reads people and the written evidence from the store once per
store change; ``find_mentors`` ranks every other visible person who passes the
rules (``search.mentoring.rules``) by fit (``search.mentoring.fit``). The history of
relationships (``search.mentoring.relationships.history``) counts too: a mentor's
places are those still free, pairs together now or that ended badly are never
suggested, and a mentor's outcomes count gently in the fit. Modes:

- ``standard``: the mentor covers the employee's goals and skill gaps;
- ``reverse``: a junior mentors the senior employee on skills where the junior
  is stronger (the seniority rule inverted);
- ``group``: mentors with room for a group (capacity 2 or more), each with the
  other employees who share the goals they cover, up to the mentor's capacity.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.embedders import Embedder
from indexer.records import Filters, Person, may_read
from indexer.store import Store
from search.closeness import centre
from search.mentoring.fit import DocInfo, Expertise, Fit, FitModel, FitWeights, stems, topics_of
from search.mentoring.relationships import History, history
from search.mentoring.rules import RULES, Options, feasible, rule_matrices, violations


@dataclass(frozen=True)
class _Written:
    """What everyone wrote, read from the store once per change and replaced whole."""

    key: tuple[int, int]
    docs: dict[str, tuple[DocInfo, tuple[str, ...]]]  # doc id -> (info, access groups)
    vectors: dict[str, np.ndarray]
    by_author: dict[str, list[str]]
    authors: dict[str, int]
    centre: np.ndarray  # of every document (search/closeness.py)
    skill_names: tuple[str, ...]  # every skill someone declares, each once


class MentorCatalog:
    """People and what they wrote, from the store, cached until the store changes."""

    def __init__(self, store: Store, embedder: Embedder,
                 weights: FitWeights | None = None) -> None:
        self.store = store
        self.model = FitModel(embedder, weights)
        self._written: _Written | None = None
        self._refreshing = threading.Lock()

    def people(self) -> dict[str, Person]:
        return self.store.get_people()

    def history(self) -> History:
        """What the relationships so far mean for suggestions: places held, pairs
        blocked, outcomes (read fresh each time: a place taken counts at once)."""
        return history(self.store)

    def expertise(self, filters: Filters | None = None) -> Expertise:
        """The documents the caller may read (``filters.groups``), by author."""
        written = self._refresh()
        groups = None if filters is None else filters.groups
        readable = {d: info for d, (info, doc_groups) in written.docs.items()
                    if may_read(doc_groups, groups)}
        by_author = {p: [d for d in docs if d in readable]
                     for p, docs in written.by_author.items()}
        names = list(written.skill_names)
        skills = centre(self.model.embed(names), self.model.embedder.dim) if names else None
        return Expertise(readable, written.vectors, by_author, written.authors,
                         written.centre, skills)

    def _refresh(self) -> _Written:
        # Documents bump the generation, people their own; authorship resolves emails
        # to people, so both are part of the key.
        key = (self.store.generation, self.store.people_generation)
        if self._written is not None and self._written.key == key:
            return self._written
        with self._refreshing:
            if self._written is None or self._written.key != key:
                self._written = _read_written(self.store, key)
            return self._written


def _read_written(store: Store, key: tuple[int, int]) -> _Written:
    docs = {doc_id: (DocInfo(doc_id, title, tags), groups)
            for doc_id, (title, tags, groups) in store.document_labels().items()}
    by_author: dict[str, list[str]] = {}
    authors: dict[str, int] = {}
    for doc_id, ids in store.authors_by_document().items():
        authors[doc_id] = len(set(ids))
        for pid in dict.fromkeys(ids):
            by_author.setdefault(pid, []).append(doc_id)
    vectors = store.document_vectors()
    dim = len(next(iter(vectors.values()))) if vectors else 0
    skill_names = {s.name.casefold(): s.name for p in store.get_people().values()
                   for s in p.skills}
    return _Written(key, docs, vectors, by_author, authors,
                    centre(list(vectors.values()), dim), tuple(sorted(skill_names.values())))


def find_mentors(catalog: MentorCatalog, mentee: Person, options: Options | None = None,
                 filters: Filters | None = None, limit: int = 5,
                 people: Mapping[str, Person] | None = None,
                 weights: FitWeights | None = None) -> dict[str, Any]:
    """Mentors for ``mentee``, best fit first, each with the reason; see the module doc."""
    options = (options or Options()).check()
    people = dict(catalog.people() if people is None else people)
    everyone = {**people, mentee.id: mentee}
    past = catalog.history()
    # People who opted out are not candidates at all: they are not even counted.
    candidates = sorted(past.with_free_places(
        p for p in people.values() if p.visible and p.id != mentee.id), key=lambda p: p.id)
    rules = rule_matrices([mentee], candidates, options, everyone,
                          past_pairs=past.blocked_pairs())
    ok = feasible(rules)[0] if candidates else np.zeros(0, dtype=bool)
    allowed = [p for p, keep in zip(candidates, ok, strict=True) if keep]
    fit = catalog.model.score([mentee], allowed, catalog.expertise(filters), weights,
                              past.outcomes)
    order = sorted((j for j in range(len(allowed)) if fit.coverage[0, j] > 0),
                   key=lambda j: (-float(fit.values[0, j]), allowed[j].id))
    mentors = [_mentor(fit, j) for j in order[:limit]]
    if options.mode == "group":
        for entry, j in zip(mentors, order, strict=False):
            entry["group"] = _group(fit, j, mentee, everyone, options)
    topics = topics_of(mentee)
    return {"employee": mentee.id if mentee.id in people else None, "mode": options.mode,
            "topics": [{"topic": t.text, "kind": t.kind} for t in topics],
            "mentors": mentors, "considered": len(candidates),
            "excluded": _first_rules(rules),
            "note": _note(topics, candidates, allowed, mentors, _first_rules(rules), options)}


def _mentor(fit: Fit, j: int) -> dict[str, Any]:
    p = fit.mentors[j]
    return {"id": p.id, "name": p.name, "title": p.title, "department": p.department,
            "location": p.location, "timezone": p.timezone, "languages": list(p.languages),
            "seniority": p.seniority, "capacity": p.mentoring_capacity, **fit.reason(0, j)}


def _group(fit: Fit, j: int, mentee: Person, everyone: Mapping[str, Person],
           options: Options) -> dict[str, Any]:
    """Others who share the goals this mentor covers for the mentee, up to capacity."""
    mentor = fit.mentors[j]
    covered = {stems(x["topic"]): x["topic"] for x in fit.topic_fit(0, j) if x["fit"] > 0}
    members = []
    for other in sorted(everyone.values(), key=lambda p: p.id):
        if other.id in (mentee.id, mentor.id) or not other.visible:
            continue
        shared = [covered[stems(t.text)] for t in topics_of(other) if stems(t.text) in covered]
        if shared and not violations(other, mentor, options, everyone):
            members.append({"id": other.id, "name": other.name,
                            "department": other.department, "shared": shared})
    members.sort(key=lambda m: (-len(m["shared"]), m["id"]))
    members = members[: max(mentor.mentoring_capacity - 1, 0)]
    shared_topics = list(dict.fromkeys(t for m in members for t in m["shared"]))
    return {"size": 1 + len(members), "capacity": mentor.mentoring_capacity,
            "shared_topics": shared_topics, "members": members}


def _first_rules(rules: Mapping[str, np.ndarray]) -> dict[str, int]:
    """How many candidates each rule excluded, each counted once, under its first rule."""
    counts: dict[str, int] = {}
    if not rules or not next(iter(rules.values())).size:
        return counts
    names = list(rules)
    stacked = np.vstack([rules[r][0] for r in names])  # rules x candidates
    blocked = stacked.any(axis=0)
    for r in np.argmax(stacked, axis=0)[blocked]:
        counts[names[r]] = counts.get(names[r], 0) + 1
    return dict(sorted(counts.items(), key=lambda x: (-x[1], x[0])))


def _note(topics: Sequence[Any], candidates: Sequence[Person], allowed: Sequence[Person],
          mentors: Sequence[dict], excluded: Mapping[str, int], options: Options) -> str | None:
    """Why the list is empty, in words a person can act on."""
    if mentors:
        return None
    if not topics:
        return "no goals or skill gaps to match on: add goals to the profile"
    if not candidates:
        return "nobody else is indexed"
    if not allowed:
        return "no mentor passes the rules and options: " + "; ".join(
            f"{n} {RULES[r]}" for r, n in excluded.items()) + (
            f"; {options.impossible()}" if options.impossible() else "")
    return (f"none of the {len(allowed)} mentors who pass the rules covers these topics: "
            + ", ".join(t.text for t in topics))

