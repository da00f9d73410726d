"""The hard rules of mentoring: who may never mentor whom, and the options that narrow it.

Every pair is checked the same way for one employee and for a whole cohort:

- never the mentee themself, never anyone on the mentee's manager chain, never
  the mentee's direct reports (a daily reporting line; further down the tree is
  where reverse mentoring usually finds its mentors);
- never someone unavailable, opted out (``visible: false``) or without capacity;
- options: cross-functional (another department), a seniority gap window
  (inverted in reverse mentoring, where the mentor is the junior one), a shared
  language, at most N hours between time zones, the same location;
- past pairs are never repeated: in a cohort those the request lists, and everywhere
  the pairs that are together now or ended badly (``search.mentoring.relationships``).

``violations`` checks one pair and reads like the rules; ``rule_matrices``
checks every mentee against every mentor at once with numpy. A property test
keeps the two in agreement.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.errors import InvalidQuery
from indexer.records import Person

MODES = ("standard", "reverse", "group")
# Why a pair is infeasible, as an API and a person read it.
RULES = {
    "self": "is the mentee",
    "manager_chain": "is on the mentee's manager chain or reports to them directly",
    "unavailable": "is not available to mentor",
    "capacity": "has no mentoring place left",
    "department": "works in the same department (or it is unknown)",
    "seniority": "is outside the seniority gap window (or seniority is unknown)",
    "language": "shares no language",
    "timezone": "is too many hours away (or a time zone is unknown)",
    "location": "works in another location (or it is unknown)",
    "past_pair": "mentors this mentee now, or mentored them before",
}
# Offsets are compared on a winter and a summer day, so "at most N hours apart"
# holds all year round; a fixed year keeps answers reproducible.
REFERENCE_DAYS = (dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC),
                  dt.datetime(2025, 7, 15, 12, tzinfo=dt.UTC))


@dataclass(frozen=True)
class Options:
    """How to narrow the mentors; the defaults keep only the hard rules.

    The seniority gap is measured in years the mentor has more than the mentee
    (reverse mode: fewer). Reverse mode without a window asks for any positive gap.
    """

    mode: str = "standard"
    cross_functional: bool = False
    min_seniority_gap: float | None = None
    max_seniority_gap: float | None = None
    shared_language: bool = False
    max_timezone_hours: float | None = None
    same_location: bool = False

    def check(self) -> Options:
        """Refuse options that are not options at all. Options no pair can meet (an empty
        seniority window) are not an error: they answer with nobody, and say why."""
        if self.mode not in MODES:
            raise InvalidQuery(f"unknown mode {self.mode!r}", f"use one of {', '.join(MODES)}")
        if self.max_timezone_hours is not None and self.max_timezone_hours < 0:
            raise InvalidQuery("max_timezone_hours must be 0 or more")
        return self

    def impossible(self) -> str | None:
        """Why no pair can ever meet these options, if that is so."""
        lo, hi = self.min_seniority_gap, self.max_seniority_gap
        if lo is not None and hi is not None and lo > hi:
            return f"the seniority gap window is empty (min {lo:g} > max {hi:g})"
        return None

    @property
    def reverse(self) -> bool:
        return self.mode == "reverse"

    @property
    def min_capacity(self) -> int:
        return 2 if self.mode == "group" else 1  # a group needs room for two at least


def manager_chain(person: Person, people: Mapping[str, Person]) -> set[str]:
    """Ids of the person's manager, their manager, and so on (cycles are cut)."""
    chain: set[str] = set()
    seen = person.manager_id
    while seen and seen not in chain and seen != person.id:
        chain.add(seen)
        seen = people[seen].manager_id if seen in people else None
    return chain


@functools.lru_cache(maxsize=1024)
def utc_offsets(name: str | None) -> tuple[float, ...] | None:
    """The zone's UTC offsets in hours on the reference days; None if unknown."""
    if not name:
        return None
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return tuple(day.astimezone(zone).utcoffset().total_seconds() / 3600  # type: ignore[union-attr]
                 for day in REFERENCE_DAYS)


def valid_timezone(name: str) -> bool:
    return utc_offsets(name) is not None


def timezone_hours(a: str | None, b: str | None) -> float | None:
    """Hours between two IANA zones' clocks, the larger of winter and summer; None if unknown."""
    oa, ob = utc_offsets(a), utc_offsets(b)
    if oa is None or ob is None:
        return None
    return max(_clock_distance(x - y) for x, y in zip(oa, ob, strict=True))


def _clock_distance(diff: float | np.ndarray) -> float | np.ndarray:
    """Around the clock: +13 h and -10 h are 1 hour apart, not 23."""
    d = np.abs(diff) % 24
    return np.minimum(d, 24 - d)


def seniority_ok(mentee: float | None, mentor: float | None, options: Options) -> bool:
    lo, hi = options.min_seniority_gap, options.max_seniority_gap
    if lo is None and hi is None and not options.reverse:
        return True
    if mentee is None or mentor is None:
        return False
    gap = (mentee - mentor) if options.reverse else (mentor - mentee)
    if options.reverse and lo is None and gap <= 0:
        return False  # reverse mentoring: the mentor is the junior one
    return (lo is None or gap >= lo) and (hi is None or gap <= hi)


def violations(mentee: Person, mentor: Person, options: Options,
               people: Mapping[str, Person], capacity: int | None = None,
               past_pairs: Collection[tuple[str, str]] = ()) -> list[str]:
    """The rules (keys of ``RULES``) that forbid ``mentor`` for ``mentee``; empty: allowed."""
    found = []
    if mentor.id == mentee.id:
        found.append("self")
    if mentor.id in manager_chain(mentee, people) or mentor.manager_id == mentee.id:
        found.append("manager_chain")
    if not mentor.offers_mentoring():
        found.append("unavailable")
    if (mentor.mentoring_capacity if capacity is None else capacity) < options.min_capacity:
        found.append("capacity")
    if options.cross_functional and (not mentee.department or not mentor.department or
                                     _key(mentee.department) == _key(mentor.department)):
        found.append("department")
    if not seniority_ok(mentee.seniority, mentor.seniority, options):
        found.append("seniority")
    if options.shared_language and not ({_key(x) for x in mentee.languages}
                                        & {_key(x) for x in mentor.languages}):
        found.append("language")
    if options.max_timezone_hours is not None:
        hours = timezone_hours(mentee.timezone, mentor.timezone)
        if hours is None or hours > options.max_timezone_hours:
            found.append("timezone")
    if options.same_location and (not mentee.location or
                                  _key(mentee.location) != _key(mentor.location or "")):
        found.append("location")
    if (mentee.id, mentor.id) in past_pairs:
        found.append("past_pair")
    return found


def rule_matrices(mentees: Sequence[Person], mentors: Sequence[Person], options: Options,
                  people: Mapping[str, Person], capacities: Sequence[int] | None = None,
                  past_pairs: Iterable[tuple[str, str]] = ()) -> dict[str, np.ndarray]:
    """For each rule, an (n mentees x m mentors) boolean matrix: True where it forbids."""
    n, m = len(mentees), len(mentors)
    caps = np.array([p.mentoring_capacity for p in mentors] if capacities is None
                    else list(capacities), dtype=np.int64)
    column = np.array([not p.offers_mentoring() for p in mentors], bool)
    out = {"self": _equal(codes(mentees, mentors, lambda p: p.id)),
           "manager_chain": _chains(mentees, mentors, people),
           "unavailable": np.broadcast_to(column, (n, m)),
           "capacity": np.broadcast_to(caps < options.min_capacity, (n, m))}
    if options.cross_functional:
        out["department"] = _equal(codes(mentees, mentors, lambda p: p.department),
                                   unknown_fails=True)
    out["seniority"] = _seniority(mentees, mentors, options)
    if options.shared_language:
        out["language"] = ~share_any(mentees, mentors)
    if options.max_timezone_hours is not None:
        out["timezone"] = ~(timezone_matrix(mentees, mentors) <= options.max_timezone_hours)
    if options.same_location:
        a, b = codes(mentees, mentors, lambda p: p.location)
        out["location"] = (a[:, None] != b[None, :]) | (a[:, None] < 0) | (b[None, :] < 0)
    out["past_pair"] = _pairs(mentees, mentors, past_pairs)
    return out


def feasible(rules: Mapping[str, np.ndarray]) -> np.ndarray:
    """True where no rule forbids the pair."""
    blocked = np.zeros(next(iter(rules.values())).shape, dtype=bool)
    for matrix in rules.values():
        blocked |= matrix
    return ~blocked


def _key(text: str) -> str:
    return text.strip().casefold()


def codes(mentees: Sequence[Person], mentors: Sequence[Person], attr
           ) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of an attribute on both sides; -1 (mentees) and -2 (mentors) if unknown."""
    vocab: dict[str, int] = {}

    def code(p: Person, missing: int) -> int:
        value = attr(p)
        return vocab.setdefault(_key(value), len(vocab)) if value else missing

    return (np.array([code(p, -1) for p in mentees], dtype=np.int64),
            np.array([code(p, -2) for p in mentors], dtype=np.int64))


def _equal(codes: tuple[np.ndarray, np.ndarray], unknown_fails: bool = False) -> np.ndarray:
    a, b = codes
    same = a[:, None] == b[None, :]
    if unknown_fails:
        same |= (a[:, None] < 0) | (b[None, :] < 0)
    return same


def _chains(mentees: Sequence[Person], mentors: Sequence[Person],
            people: Mapping[str, Person]) -> np.ndarray:
    out = np.zeros((len(mentees), len(mentors)), dtype=bool)
    rows = {p.id: i for i, p in enumerate(mentees)}
    cols: dict[str, list[int]] = {}
    for j, p in enumerate(mentors):
        cols.setdefault(p.id, []).append(j)
        if p.manager_id in rows:  # the mentor reports to the mentee directly
            out[rows[p.manager_id], j] = True
    for i, p in enumerate(mentees):
        for boss in manager_chain(p, people):
            out[i, cols.get(boss, [])] = True
    return out


def _seniority(mentees: Sequence[Person], mentors: Sequence[Person],
               options: Options) -> np.ndarray:
    lo, hi = options.min_seniority_gap, options.max_seniority_gap
    n, m = len(mentees), len(mentors)
    if lo is None and hi is None and not options.reverse:
        return np.zeros((n, m), dtype=bool)
    a = np.array([np.nan if p.seniority is None else p.seniority for p in mentees], float)
    b = np.array([np.nan if p.seniority is None else p.seniority for p in mentors], float)
    gap = (a[:, None] - b[None, :]) if options.reverse else (b[None, :] - a[:, None])
    ok = ~np.isnan(gap)  # an unknown seniority cannot meet a window
    if options.reverse and lo is None:
        ok &= gap > 0
    with np.errstate(invalid="ignore"):
        if lo is not None:
            ok &= gap >= lo
        if hi is not None:
            ok &= gap <= hi
    return ~ok


def share_any(mentees: Sequence[Person], mentors: Sequence[Person]) -> np.ndarray:
    vocab: dict[str, int] = {}
    for p in [*mentees, *mentors]:
        for lang in p.languages:
            vocab.setdefault(_key(lang), len(vocab))

    def matrix(people: Sequence[Person]) -> np.ndarray:
        out = np.zeros((len(people), max(len(vocab), 1)), dtype=np.float32)
        for i, p in enumerate(people):
            out[i, [vocab[_key(x)] for x in p.languages]] = 1.0
        return out

    return (matrix(mentees) @ matrix(mentors).T) > 0  # a shared language is a nonzero product


def timezone_matrix(mentees: Sequence[Person], mentors: Sequence[Person]) -> np.ndarray:
    """Hours apart for every pair; NaN where a zone is unknown."""

    def offsets(people: Sequence[Person]) -> np.ndarray:
        return np.array([utc_offsets(p.timezone) or (np.nan,) * len(REFERENCE_DAYS)
                         for p in people], dtype=float).reshape(len(people), len(REFERENCE_DAYS))

    a, b = offsets(mentees), offsets(mentors)
    return np.asarray(_clock_distance(a[:, None, :] - b[None, :, :])).max(axis=2)


def _pairs(mentees: Sequence[Person], mentors: Sequence[Person],
           pairs: Iterable[tuple[str, str]]) -> np.ndarray:
    out = np.zeros((len(mentees), len(mentors)), dtype=bool)
    rows = {p.id: i for i, p in enumerate(mentees)}
    cols: dict[str, list[int]] = {}
    for j, p in enumerate(mentors):
        cols.setdefault(p.id, []).append(j)
    for mentee, mentor in pairs:
        if mentee in rows:
            out[rows[mentee], cols.get(mentor, [])] = True
    return out
