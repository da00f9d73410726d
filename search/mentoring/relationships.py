"""Mentoring relationships over time: who may create and change them, the states they
move through, and what their history means for future suggestions.

States: ``proposed`` -> ``active`` -> ``completed``; a proposal may be ``declined`` and
an active relationship ``ended`` early, each with a reason. Every change is recorded
with who and when (``indexer.relationships``).

Who may do what (``Actor``: a role and, for a key bound to a person, that person):

- create: the ``lms`` role or an admin, for anyone; a person, for themself as the one
  mentee (a request from the page);
- change the state, add goals, milestones and check-ins: the pair, the ``lms`` role,
  admins; swap the mentor of a proposal: admins only;
- read a relationship: the pair, the ``lms`` role, admins; but a relationship with a
  member who opted out (``visible: false``) only the pair and admins;
- read check-in notes: the pair and admins only (not the LMS);
- rate: each member for themself (the LMS or an admin may send it on their behalf).

What the history means for suggestions (``History``): a mentor's places are their
capacity less the mentees of their proposed and active relationships; a pair that
ended badly (ended early, or rated ``BAD_RATING`` or lower by either side) is never
suggested or matched again, nor a pair already together; and a mentor's outcomes add
``FitWeights.outcomes`` (0.05 by default) times their outcome score to the fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from indexer.errors import Conflict, InvalidQuery, NotAllowed, NotFound
from indexer.keys import role_allows
from indexer.profiles import ProfileBook
from indexer.records import Person
from indexer.relationships import HOLDS_PLACE, Relationship, Relationships, missing
from indexer.store import Store
from search.mentoring.rules import RULES, Options, violations

MODES = {"standard": "one_to_one", "reverse": "reverse", "group": "group"}
SOURCES = ("suggestion", "cohort", "request")
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"active", "declined"}),
    "active": frozenset({"completed", "ended"}),
}
NEEDS_REASON = frozenset({"declined", "ended"})
FINISHED = frozenset({"completed", "ended"})  # may be rated
BAD_RATING = 2  # a rating at or below this (of 5) means the pair ended badly
OUTCOME_PRIOR = 2  # an outcome score is shrunk by n / (n + this): two ratings say little
STALLED_DAYS = 30
# A goal reached with a mentor, confirmed by the mentee: a skill being built (2 of 5),
# not yet expertise; they can re-level it on their profile.
REACHED_GOAL_LEVEL = 2


@dataclass(frozen=True)
class Actor:
    """Who acts: a role, and the person a key stands for (None: a system, the LMS)."""

    role: str
    person: str | None = None

    def can(self, role: str) -> bool:
        return role_allows(self.role, role)

    @property
    def label(self) -> str:
        return self.person or self.role


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# -- the rules, each once ------------------------------------------------------

def in_pair(actor: Actor, rel: Relationship) -> bool:
    return actor.person is not None and actor.person in rel.members()


def may_read(actor: Actor, rel: Relationship, people: Mapping[str, Person]) -> bool:
    """The pair and admins always; the LMS unless a member opted out."""
    if in_pair(actor, rel) or actor.can("admin"):
        return True
    return actor.can("lms") and private_members(rel, people) == []


def may_read_notes(actor: Actor, rel: Relationship) -> bool:
    """Check-in notes: the pair and admins only."""
    return in_pair(actor, rel) or actor.can("admin")


def may_change(actor: Actor, rel: Relationship) -> bool:
    return in_pair(actor, rel) or actor.can("lms")


def private_members(rel: Relationship, people: Mapping[str, Person]) -> list[str]:
    """Members who opted out (or are gone): their relationships stay private."""
    return [p for p in rel.members() if p not in people or not people[p].visible]


# -- what the history means -------------------------------------------------------

@dataclass(frozen=True)
class History:
    held: Mapping[str, int]  # mentor -> places held
    bad_pairs: frozenset[tuple[str, str]]  # (mentee, mentor) that ended badly
    current_pairs: frozenset[tuple[str, str]]  # (mentee, mentor) proposed or active
    outcomes: Mapping[str, float]  # mentor -> outcome score in [-1, 1]

    def free_places(self, person: Person) -> int:
        return max(person.mentoring_capacity - self.held.get(person.id, 0), 0)

    def with_free_places(self, people: Iterable[Person]) -> list[Person]:
        """The people with their free places as their capacity (the capacity rule)."""
        return [replace(p, mentoring_capacity=self.free_places(p))
                if p.id in self.held else p for p in people]

    def blocked_pairs(self) -> frozenset[tuple[str, str]]:
        return self.bad_pairs | self.current_pairs


def history(store: Store) -> History:
    records = Relationships(store)
    rels = records.find()
    bad, current = set(), set()
    for rel in rels:
        pairs = {(m, rel.mentor) for m in rel.mentees}
        if rel.state in HOLDS_PLACE:
            current |= pairs
        elif rel.state == "ended":
            bad |= pairs
    by_id = {r.id: r for r in rels}
    mentee_ratings: dict[str, list[int]] = {}
    for rating in records.ratings():
        found = by_id.get(rating["relationship"])
        if found is None:
            continue
        rel = found
        if rating["rating"] <= BAD_RATING:
            pairs = ({(rating["person"], rel.mentor)} if rating["side"] == "mentee"
                     else {(m, rel.mentor) for m in rel.mentees})
            bad |= pairs
        if rating["side"] == "mentee":
            mentee_ratings.setdefault(rel.mentor, []).append(rating["rating"])
    return History(records.held_places(), frozenset(bad), frozenset(current),
                   {m: outcome_score(r) for m, r in mentee_ratings.items()})


def outcome_score(ratings: Sequence[int]) -> float:
    """Mentees' ratings (1-5) as a score in [-1, 1]: (mean - 3) / 2, shrunk towards 0 by
    n / (n + OUTCOME_PRIOR). One 5 gives 0.33, three 5s 0.6, ten 1s -0.83."""
    if not ratings:
        return 0.0
    mean = sum(ratings) / len(ratings)
    return (mean - 3) / 2 * len(ratings) / (len(ratings) + OUTCOME_PRIOR)


# -- actions ------------------------------------------------------------------------

def create(store: Store, people: Mapping[str, Person], actor: Actor, mentor: str,
           mentees: Sequence[str], mode: str = "standard", goals: Sequence[str] | None = None,
           source: str = "suggestion", requested_at: str | None = None,
           at: str | None = None) -> Relationship:
    """A proposed relationship, after every rule of mentoring and the mentor's places."""
    at = at or now()
    if mode not in MODES:
        raise InvalidQuery(f"unknown mode {mode!r}", f"use one of {', '.join(MODES)}")
    if source not in SOURCES:
        raise InvalidQuery(f"unknown source {source!r}", f"use one of {', '.join(SOURCES)}")
    mentees = list(dict.fromkeys(mentees))
    if not mentees or (mode != "group" and len(mentees) > 1):
        raise Conflict("a relationship has one mentee, or several in mode group",
                       "send one mentee, or mode group")
    if not actor.can("lms") and (actor.person is None or mentees != [actor.person]):
        raise NotAllowed("a person may request a mentor for themself only",
                         "ask with a key bound to you, or through the LMS")
    found = _people(people, [mentor, *mentees])
    past = history(store)
    _check_rules(found[0], found[1:], mode, people, past)
    # Typed goals are the (first) mentee's; else each mentee's goals from their profile.
    goal_rows = ([(mentees[0], g) for g in goals] if goals is not None
                 else [(m.id, g) for m in found[1:] for g in m.goals])
    return Relationships(store).create(
        MODES[mode], mentor, mentees, goal_rows, source, actor.label, at,
        found[0].mentoring_capacity, requested_at)


def propose_pairs(store: Store, people: Mapping[str, Person], actor: Actor,
                  pairs: Sequence[Mapping[str, Any]], mode: str = "standard",
                  at: str | None = None, requested_at: str | None = None
                  ) -> list[dict[str, Any]]:
    """A proposed relationship for each pair of a cohort match; a pair that can no longer
    be made (a place taken meanwhile) says why, and the others are still proposed."""
    out = []
    for pair in pairs:
        entry: dict[str, Any] = {"mentee": pair["mentee"], "mentor": pair["mentor"]}
        try:
            entry["relationship"] = create(store, people, actor, pair["mentor"],
                                           [pair["mentee"]], mode, source="cohort",
                                           requested_at=requested_at, at=at).id
        except (Conflict, NotFound) as exc:
            entry["error"] = exc.message
        out.append(entry)
    return out


def _people(people: Mapping[str, Person], ids: Sequence[str]) -> list[Person]:
    missing = [i for i in ids if i not in people or not people[i].visible]
    if missing:
        raise NotFound(f"no person with id {missing[0]!r}", "check the id with GET "
                       "/api/people/{id}")
    return [people[i] for i in ids]


def _check_rules(mentor: Person, mentees: Sequence[Person], mode: str,
                 people: Mapping[str, Person], past: History) -> None:
    """The hard rules of ``search.mentoring.rules`` for each mentee; pairs already
    together or that ended badly; places are checked where they are taken."""
    options = Options(mode="reverse" if mode == "reverse" else "standard")
    for mentee in mentees:
        broken = violations(mentee, mentor, options, people,
                            past_pairs=past.blocked_pairs())
        if broken:
            badly = " (it ended badly)" if (mentee.id, mentor.id) in past.bad_pairs else ""
            raise Conflict(f"{mentor.id} cannot mentor {mentee.id}: {mentor.id} "
                           + "; ".join(RULES[r] for r in broken) + badly,
                           "pick another mentor")


def transition(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str,
               state: str, reason: str | None = None, at: str | None = None) -> Relationship:
    records = Relationships(store)
    rel = _readable(records, people, actor, rel_id)
    if not may_change(actor, rel):
        raise NotAllowed("only the pair, the LMS or an admin may change a relationship")
    if state in NEEDS_REASON and not (reason or "").strip():
        raise InvalidQuery(f"a relationship {state} needs a reason", "say why in reason")
    return records.set_state(rel_id, TRANSITIONS, state, actor.label, at or now(),
                             (reason or "").strip() or None)


def swap_mentor(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str,
                mentor: str, reason: str, at: str | None = None) -> Relationship:
    """An admin gives a proposed match another mentor, with the rules checked."""
    if not actor.can("admin"):
        raise NotAllowed("only an admin may change the mentor of a match")
    if not reason.strip():
        raise InvalidQuery("a new mentor needs a reason", "say why in reason")
    records = Relationships(store)
    rel = records.get(rel_id)
    found = _people(people, [mentor, *rel.mentees])
    mode = {v: k for k, v in MODES.items()}[rel.mode]
    _check_rules(found[0], found[1:], mode, people, history(store))
    return records.swap_mentor(rel_id, mentor, found[0].mentoring_capacity, actor.label,
                               at or now(), reason.strip())


def add_goal(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str,
             text: str, mentee: str | None = None, at: str | None = None) -> int:
    records = Relationships(store)
    rel = _changeable(records, people, actor, rel_id)
    mentee = mentee or rel.mentees[0]
    if mentee not in rel.mentees:
        raise InvalidQuery(f"{mentee} is not a mentee of {rel_id}")
    return records.add_goal(rel_id, mentee, text.strip(), actor.label, at or now())


def add_milestone(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str,
                  goal: int, title: str, due: str | None = None, at: str | None = None) -> int:
    records = Relationships(store)
    _changeable(records, people, actor, rel_id)
    return records.add_milestone(rel_id, goal, title.strip(), due, actor.label, at or now())


def complete_milestone(store: Store, people: Mapping[str, Person], actor: Actor,
                       rel_id: str, milestone: int, at: str | None = None) -> None:
    records = Relationships(store)
    _changeable(records, people, actor, rel_id)
    records.complete_milestone(rel_id, milestone, actor.label, at or now())


def check_in(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str,
             on_date: str, notes: str = "", goals: Sequence[int] = (),
             at: str | None = None) -> int:
    records = Relationships(store)
    rel = _changeable(records, people, actor, rel_id)
    if rel.state != "active":
        raise Conflict(f"relationship {rel_id} is {rel.state}; check-ins are for active ones")
    return records.add_checkin(rel_id, on_date, notes, goals, actor.label, at or now())


def rate(store: Store, people: Mapping[str, Person], actor: Actor, rel_id: str, person: str,
         rating: int, reached: Mapping[int, bool], confirm_skills: bool = False,
         at: str | None = None) -> None:
    """One member's rating and goals reached; a mentee who agrees (``confirm_skills``)
    has their reached goals listed as confirmed skills: on their profile they count as
    declared skills at ``REACHED_GOAL_LEVEL`` (indexer.profiles), for experts and
    mentoring alike, and they can hide or re-level them there like any other."""
    records = Relationships(store)
    rel = _readable(records, people, actor, rel_id)
    if person not in rel.members():
        raise InvalidQuery(f"{person} is not a member of {rel_id}")
    if actor.person != person and not actor.can("lms"):
        raise NotAllowed("each member rates for themself")
    if rel.state not in FINISHED:
        raise Conflict(f"relationship {rel_id} is {rel.state}; it is rated when completed "
                       "or ended")
    if not 1 <= rating <= 5:
        raise InvalidQuery("a rating is 1 to 5")
    side = "mentor" if person == rel.mentor else "mentee"
    texts = {g["id"]: g["text"] for g in rel.goals if g["mentee"] == person}
    skills = [texts[g] for g, ok in reached.items() if ok and g in texts] \
        if confirm_skills and side == "mentee" else []
    with store.writing():  # the rating and the profile's new skills, or neither
        records.rate(rel_id, person, side, rating, reached, skills, at or now())
        book = ProfileBook(store)
        for skill in skills:
            book.choose(person, "confirm", skill, level=REACHED_GOAL_LEVEL)


def _readable(records: Relationships, people: Mapping[str, Person], actor: Actor,
              rel_id: str) -> Relationship:
    rel = records.get(rel_id)
    if not may_read(actor, rel, people):
        raise missing(rel_id)  # as if it were not there
    return rel


def _changeable(records: Relationships, people: Mapping[str, Person], actor: Actor,
                rel_id: str) -> Relationship:
    rel = _readable(records, people, actor, rel_id)
    if not may_change(actor, rel):
        raise NotAllowed("only the pair, the LMS or an admin may change a relationship")
    return rel


# -- reading -----------------------------------------------------------------------

def listing(store: Store, people: Mapping[str, Person], actor: Actor,
            state: str | None = None, person: str | None = None,
            stalled_days: int | None = None, today: dt.date | None = None
            ) -> list[dict[str, Any]]:
    """The relationships the actor may read; ``stalled_days``: only the stalled ones."""
    records = Relationships(store)
    if not actor.can("lms"):
        if actor.person is None or person not in (None, actor.person):
            return []  # a person lists their own relationships, nobody else's
        person = actor.person
    rels = [r for r in records.find(state, person) if may_read(actor, r, people)]
    last = records.last_checkins()
    out = []
    for rel in rels:
        since = stalled_since(rel, last.get(rel.id))
        item = {**rel.to_dict(), "last_checkin": last.get(rel.id), "quiet_since": since}
        if stalled_days is None or is_stalled(rel, since, stalled_days, today):
            out.append(item)
    return out


def stalled_since(rel: Relationship, last_checkin: str | None) -> str | None:
    """The date from which an active relationship has been quiet."""
    if rel.state != "active":
        return None
    return last_checkin or (rel.activated_at or rel.created_at)[:10]


def is_stalled(rel: Relationship, quiet_since: str | None, days: int = STALLED_DAYS,
               today: dt.date | None = None) -> bool:
    """Active, and no check-in (or start) for more than ``days`` days."""
    if quiet_since is None:
        return False
    today = today or dt.datetime.now(dt.UTC).date()
    return (today - dt.date.fromisoformat(quiet_since[:10])).days > days


def detail(store: Store, people: Mapping[str, Person], actor: Actor,
           rel_id: str) -> dict[str, Any]:
    """One relationship with goals, milestones, check-ins (notes for the pair and admins
    only), ratings and its history."""
    records = Relationships(store)
    rel = _readable(records, people, actor, rel_id)
    notes = may_read_notes(actor, rel)
    checkins = [c if notes else {**c, "notes": None} for c in records.checkins(rel_id)]
    return {**rel.to_dict(), "milestones": records.milestones(rel_id), "checkins": checkins,
            "notes_shown": notes, "ratings": records.ratings([rel_id]),
            "history": records.events(0, 10_000, [rel_id])}


def changes(store: Store, people: Mapping[str, Person], after: int = 0,
            limit: int = 100) -> dict[str, Any]:
    """The change feed: events after the cursor, without those of private relationships.
    ``next`` is the cursor to send next time (the last event read, even a left-out one)."""
    records = Relationships(store)
    events = records.events(after, limit)
    ids = list(dict.fromkeys(e["relationship"] for e in events))
    private = {r.id for r in records.find(ids=ids) if private_members(r, people)}
    shown = [e for e in events if e["relationship"] not in private]
    return {"changes": shown, "next": events[-1]["cursor"] if events else after,
            "more": len(events) == limit}
