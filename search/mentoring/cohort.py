"""Matching a cohort: one global assignment of mentees to mentors that maximises the total.

Each mentor becomes as many slots as their capacity, and each mentee gets an
"unmatched" column of their own, so an assignment always exists. scipy's
``linear_sum_assignment`` (a shortest-augmenting-path Jonker-Volgenant solver)
then solves the whole problem exactly, not greedily. A pair that breaks a hard
rule, was a pair before, or whose fit is not above ``min_fit`` is forbidden
(infinite cost), never merely penalised. A request that contradicts itself (the
same person twice, more places than a mentor offers) is a ``Conflict``.

Objectives:

- ``best_fit``: the largest sum of fit over the matched pairs;
- ``most_matched``: the most mentees matched, then the largest total fit: every
  pair earns a bonus larger than any total fit could be, so count dominates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from indexer.errors import Conflict, InvalidQuery, NotFound
from indexer.records import Filters, Person
from search.mentoring.fit import Expertise, Fit, FitModel, FitWeights, stems
from search.mentoring.mentors import MentorCatalog
from search.mentoring.rules import RULES, Options, feasible, rule_matrices

OBJECTIVES = ("best_fit", "most_matched")
MAX_CELLS = 25_000_000  # mentees x (slots + mentees): about 200 MB of costs


def solve(scores: np.ndarray, allowed: np.ndarray, capacities: Sequence[int],
          objective: str = "best_fit") -> np.ndarray:
    """The mentor (column) of each mentee (row), -1 when unmatched, optimal for ``objective``."""
    n, m = scores.shape
    allowed = allowed & np.isfinite(scores)
    # A mentor never needs more slots than mentees they may take.
    caps = np.minimum(np.maximum(np.asarray(capacities, dtype=np.int64), 0), allowed.sum(axis=0))
    slot_mentor = np.repeat(np.arange(m), caps)
    if n * (len(slot_mentor) + n) > MAX_CELLS:
        raise InvalidQuery(f"the cohort is too large to solve at once ({n} mentees, "
                           f"{len(slot_mentor)} mentor places)", "split it into smaller cohorts")
    value = scores[:, slot_mentor].astype(np.float64)
    if objective == "most_matched":
        best = float(np.max(scores, where=allowed, initial=0.0))
        value = value + (n * max(best, 0.0) + 1.0)
    cost = np.where(allowed[:, slot_mentor], -value, np.inf)
    cost = np.hstack([cost, np.zeros((n, n))])  # the unmatched columns
    rows, cols = linear_sum_assignment(cost)
    out = np.full(n, -1, dtype=np.int64)
    matched = cols < len(slot_mentor)
    out[rows[matched]] = slot_mentor[cols[matched]]
    return out


def greedy(scores: np.ndarray, allowed: np.ndarray, capacities: Sequence[int]) -> np.ndarray:
    """The baseline: take the best remaining allowed pair while places are left."""
    left = np.asarray(capacities, dtype=np.int64).copy()
    out = np.full(scores.shape[0], -1, dtype=np.int64)
    pairs = np.argwhere(allowed & np.isfinite(scores))
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -scores[pairs[:, 0], pairs[:, 1]]))
    for i, j in pairs[order]:
        if out[i] < 0 and left[j] > 0:
            out[i], left[j] = j, left[j] - 1
    return out


def total(assignment: np.ndarray, scores: np.ndarray) -> float:
    rows = np.flatnonzero(assignment >= 0)
    return float(scores[rows, assignment[rows]].sum())


def match_cohort(model: FitModel, mentees: Sequence[Person], mentors: Sequence[Person],
                 people: Mapping[str, Person], options: Options | None = None,
                 capacities: Mapping[str, int] | None = None,
                 past_pairs: Iterable[tuple[str, str]] = (), objective: str = "best_fit",
                 min_fit: float = 0.0, expertise: Expertise | None = None,
                 weights: FitWeights | None = None,
                 outcomes: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Assign ``mentees`` to ``mentors``; every pair and every unmatched mentee says why."""
    options = (options or Options()).check()
    for side, group in (("mentees", mentees), ("mentors", mentors)):
        twice = sorted(k for k, n in Counter(p.id for p in group).items() if n > 1)
        if twice:
            raise Conflict(f"{side} lists the same person twice: {', '.join(twice[:5])}",
                           "list each person once")
    caps = _capacities(mentors, capacities or {}, objective, options)
    everyone = {**people, **{p.id: p for p in [*mentees, *mentors]}}
    rules = rule_matrices(mentees, mentors, options, everyone, caps, past_pairs)
    fit = model.score(mentees, mentors, expertise, weights, outcomes)
    allowed = feasible(rules) & (fit.coverage > 0) & (fit.values > min_fit)
    assignment = solve(fit.values, allowed, caps, objective)
    pairs = [_pair(fit, i, int(j)) for i, j in enumerate(assignment) if j >= 0]
    unmatched = [_unmatched(fit, rules, allowed, options, i, min_fit)
                 for i in np.flatnonzero(assignment < 0)]
    return {"objective": objective, "mode": options.mode, "pairs": pairs,
            "unmatched": unmatched, "mentors": _loads(fit, assignment, caps),
            "summary": {"mentees": len(mentees), "mentors": len(mentors),
                        "places": int(sum(caps)), "matched": len(pairs),
                        "total_fit": round(total(assignment, fit.values), 4),
                        "mean_fit": round(total(assignment, fit.values) / len(pairs), 4)
                        if pairs else 0.0}}


def match_people(catalog: MentorCatalog, mentees: Sequence[str | Person],
                 mentors: Sequence[str | Person] | None, options: Options | None = None,
                 capacities: Mapping[str, int] | None = None,
                 past_pairs: Iterable[tuple[str, str]] = (), objective: str = "best_fit",
                 min_fit: float = 0.0, filters: Filters | None = None,
                 weights: FitWeights | None = None) -> dict[str, Any]:
    """A cohort match by ids of indexed people or inline profiles (``Person`` records not
    in the store); no ``mentors``: everyone in the mentor pool. The API and the CLI call
    this; ``filters`` is the caller's reach into the written evidence. Relationships so
    far count: mentors offer their free places, pairs together now or that ended badly
    are past pairs, and outcomes count in the fit."""
    past = catalog.history()
    stored = {p.id: p for p in past.with_free_places(catalog.people().values())}
    found_mentees = resolve(mentees, stored, "mentee")
    if mentors is None:
        found_mentors = sorted((p for p in stored.values() if p.in_mentor_pool()),
                               key=lambda p: p.id)
    else:
        found_mentors = resolve(mentors, stored, "mentor")
    return match_cohort(catalog.model, found_mentees, found_mentors, stored, options,
                        capacities, [*past_pairs, *past.blocked_pairs()], objective, min_fit,
                        catalog.expertise(filters), weights, past.outcomes)


def resolve(items: Sequence[str | Person], stored: Mapping[str, Person],
            role: str) -> list[Person]:
    """People from ids (indexed) or inline profiles; unknown ids are one clear error."""
    out, unknown = [], []
    for item in items:
        if isinstance(item, str):
            if item in stored:
                out.append(stored[item])
            else:
                unknown.append(item)
        elif item.id in stored:
            raise Conflict(f"inline {role} {item.id!r} has the id of an indexed person",
                           "refer to indexed people by id, or give the profile a new id")
        else:
            out.append(item)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise NotFound(f"unknown {role} id(s): {shown}{more}",
                       "check the ids with GET /api/people/{id}, or give inline profiles")
    return out


def _capacities(mentors: Sequence[Person], given: Mapping[str, int], objective: str,
                options: Options) -> list[int]:
    if objective not in OBJECTIVES:
        raise InvalidQuery(f"unknown objective {objective!r}", f"use {' or '.join(OBJECTIVES)}")
    if options.mode == "group":
        raise InvalidQuery("group mode is for one employee's mentors",
                           "a cohort match already gives each mentor up to capacity mentees; "
                           "use mode standard or reverse")
    ids = {p.id for p in mentors}
    unknown = sorted(set(given) - ids)
    if unknown:
        raise Conflict(f"capacities name people who are not among the mentors: "
                       f"{', '.join(unknown[:5])}", "add them to the mentors, or drop them")
    out = []
    for p in mentors:
        cap = given.get(p.id, p.mentoring_capacity)
        if cap < 0 or cap > p.mentoring_capacity:
            raise Conflict(f"{p.id} offers {p.mentoring_capacity} mentoring places; "
                           f"capacities asks for {cap}",
                           "a capacity may lower a mentor's places, not raise them")
        out.append(int(cap))
    return out


def _pair(fit: Fit, i: int, j: int) -> dict[str, Any]:
    mentee, mentor = fit.mentees[i], fit.mentors[j]
    return {"mentee": mentee.id, "mentee_name": mentee.name,
            "mentor": mentor.id, "mentor_name": mentor.name, **fit.reason(i, j)}


def _unmatched(fit: Fit, rules: Mapping[str, np.ndarray], allowed: np.ndarray,
               options: Options, i: int, min_fit: float) -> dict[str, Any]:
    """Why mentee ``i`` is left without a mentor, most fundamental reason first."""
    person = fit.mentees[i]
    base = {"mentee": person.id, "mentee_name": person.name}
    if not fit.mentee_topics[i]:
        return {**base, "reason": "no_topics",
                "detail": "no goals or skill gaps to match on: add goals to the profile"}
    names = [r for r in rules if r != "past_pair"]
    blocked = {r: rules[r][i] for r in names}
    passes = ~np.any([blocked[r] for r in names], axis=0) if names else \
        np.ones(len(fit.mentors), bool)
    if not passes.any():
        counts: dict[str, int] = {}
        for j in range(len(fit.mentors)):
            first = next(r for r in names if blocked[r][j])
            counts[first] = counts.get(first, 0) + 1
        detail = "; ".join([f"{n} {RULES[r]}" for r, n in
                            sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
                           + ([options.impossible()] if options.impossible() else []))
        return {**base, "reason": "no_eligible_mentor",
                "detail": f"no mentor passes the rules and options: {detail}"
                if detail else "there are no mentors"}
    fits = (fit.coverage[i] > 0) & (fit.values[i] > min_fit)
    if not (passes & fits).any():
        wanted = ", ".join(t.text for _, _, t in fit.mentee_topics[i])
        above = f" above the minimum fit {min_fit}" if min_fit > 0 else ""
        n = int(passes.sum())
        who = ("the one mentor who passes the rules does not cover" if n == 1 else
               f"none of the {n} mentors who pass the rules covers")
        return {**base, "reason": "no_fit", "detail": f"{who} their topics{above}: {wanted}"}
    if not allowed[i].any():
        return {**base, "reason": "only_past_pairs",
                "detail": "every eligible mentor who covers their topics mentored them before"}
    best = max(np.flatnonzero(allowed[i]), key=lambda j: (fit.values[i, j], -j))
    n = int(allowed[i].sum())
    who = "the one suitable mentor" if n == 1 else f"all {n} suitable mentors"
    return {**base, "reason": "capacity",
            "detail": f"the places of {who} went to other mentees (the best fit, "
                      f"{fit.mentors[best].id}, {float(fit.values[i, best]):.2f})"}


def _loads(fit: Fit, assignment: np.ndarray, caps: Sequence[int]) -> list[dict[str, Any]]:
    """Each mentor with mentees: who, and the topics they share (a group's common ground)."""
    out = []
    for j, mentor in enumerate(fit.mentors):
        rows = [int(i) for i in np.flatnonzero(assignment == j)]
        if not rows:
            continue
        topic_sets = [{stems(t.text): t.text for _, _, t in fit.mentee_topics[i]}
                      for i in rows]
        common = set.intersection(*(set(s) for s in topic_sets)) if len(rows) > 1 else set()
        out.append({"id": mentor.id, "name": mentor.name, "capacity": int(caps[j]),
                    "mentees": [fit.mentees[i].id for i in rows],
                    "shared_topics": sorted(topic_sets[0][k] for k in common)})
    return out

