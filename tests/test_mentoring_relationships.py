"""Mentoring relationships over time: every state change, places, check-ins, outcomes,
privacy and the report, in the library (an in-memory store, exact times)."""

import dataclasses
import datetime as dt

import pytest
import test_mentoring

from indexer.errors import Conflict, InvalidQuery, NotAllowed, NotFound
from indexer.profiles import ProfileBook
from indexer.relationships import Relationships
from search.mentoring import relationships as rel
from search.mentoring.cohort import match_people
from search.mentoring.mentors import find_mentors
from search.mentoring.report import programme_report, report_csv

catalog = test_mentoring.catalog  # the same people and documents as the mentor tests
LMS, ADMIN = rel.Actor("lms"), rel.Actor("admin")
ME, KIM, BO = rel.Actor("reader", "me"), rel.Actor("reader", "kim"), rel.Actor("reader", "bo")
DAY = "2026-03-0{}T09:00:00+00:00"


@pytest.fixture
def people(catalog):
    return catalog.people()


def new(catalog, people, mentor="bo", mentees=("me",), actor=LMS, **kw):
    return rel.create(catalog.store, people, actor, mentor, list(mentees), **kw)


def move(catalog, people, rel_id, *states, actor=LMS, at=None):
    found = None
    for state in states:
        reason = "no time" if state in rel.NEEDS_REASON else None
        found = rel.transition(catalog.store, people, actor, rel_id, state, reason, at)
    return found


def test_a_relationship_moves_through_its_states_and_records_who_and_when(catalog, people):
    r = new(catalog, people, requested_at="2026-02-27T09:00:00+00:00", at=DAY.format(1))
    assert (r.state, r.mode, r.mentor, r.mentees, r.source) == \
        ("proposed", "one_to_one", "bo", ("me",), "suggestion")
    assert [g["text"] for g in r.goals] == ["kafka"]  # the mentee's goals from the profile
    rel.transition(catalog.store, people, BO, r.id, "active", at=DAY.format(2))
    done = rel.transition(catalog.store, people, ME, r.id, "completed", at=DAY.format(3))
    assert (done.activated_at, done.ended_at) == (DAY.format(2), DAY.format(3))
    history = Relationships(catalog.store).events(rel_ids=[r.id])
    assert [(e["kind"], e["by"], e["at"]) for e in history] == [
        ("created", "lms", DAY.format(1)), ("goal", "lms", DAY.format(1)),
        ("state", "bo", DAY.format(2)), ("state", "me", DAY.format(3))]
    assert history[-1]["detail"] == {"from": "active", "to": "completed", "reason": None}


@pytest.mark.parametrize("path, then", [
    (["active", "completed"], "active"), (["active", "completed"], "ended"),
    (["declined"], "active"), ([], "completed"), ([], "ended"), (["active"], "declined"),
    (["active", "ended"], "completed"),
])
def test_a_state_that_cannot_follow_is_a_conflict(catalog, people, path, then):
    r = new(catalog, people)
    move(catalog, people, r.id, *path)
    with pytest.raises(Conflict, match=f"cannot become {then}"):
        move(catalog, people, r.id, then)


@pytest.mark.parametrize("path, state", [([], "declined"), (["active"], "ended")])
def test_declining_or_ending_early_needs_a_reason_and_keeps_it(catalog, people, path, state):
    r = new(catalog, people)
    move(catalog, people, r.id, *path)
    with pytest.raises(InvalidQuery, match="needs a reason"):
        rel.transition(catalog.store, people, LMS, r.id, state, "  ")
    found = rel.transition(catalog.store, people, LMS, r.id, state, "moved team")
    assert (found.state, found.end_reason) == (state, "moved team")


def test_who_may_create_and_change(catalog, people):
    # A person asks for themself only; the LMS for anyone; a key for nobody reads nothing.
    with pytest.raises(NotAllowed):
        new(catalog, people, actor=KIM)  # kim asking for me
    with pytest.raises(NotAllowed):
        new(catalog, people, actor=rel.Actor("reader"))
    r = new(catalog, people, actor=ME, source="request")
    assert (r.created_by, r.source) == ("me", "request")
    with pytest.raises(NotFound):  # kim is not in the pair: it is not there for her
        rel.transition(catalog.store, people, KIM, r.id, "active")
    with pytest.raises(NotAllowed):  # only an admin swaps a mentor, not even the LMS
        rel.swap_mentor(catalog.store, people, LMS, r.id, "ana", "better fit")
    assert rel.listing(catalog.store, people, KIM) == []
    assert [x["id"] for x in rel.listing(catalog.store, people, ME)] == [r.id]
    assert rel.listing(catalog.store, people, rel.Actor("reader")) == []


def test_a_relationship_obeys_the_hard_rules(catalog, people):
    with pytest.raises(Conflict, match="manager chain"):
        new(catalog, people, mentor="lead")  # me's manager
    with pytest.raises(Conflict, match="not available"):
        new(catalog, people, mentor="busy")
    with pytest.raises(NotFound):
        new(catalog, people, mentor="shy")  # opted out: nobody to propose
    with pytest.raises(Conflict, match="several in mode group"):
        new(catalog, people, mentor="ana", mentees=("me", "kim"))
    group = new(catalog, people, mentor="ana", mentees=("me", "kim"), mode="group")
    assert (group.mode, group.mentees) == ("group", ("me", "kim"))
    assert [(g["mentee"], g["text"]) for g in group.goals] == [("me", "kafka"),
                                                                ("kim", "Kafka")]
    with pytest.raises(Conflict, match="mentors this mentee now"):
        new(catalog, people, mentor="ana", mentees=("kim",))  # together already


def test_places_count_and_free_up(catalog, people):
    # bo offers 1 place: me takes it; kim cannot have bo, nor is bo suggested or matched,
    # until me's proposal is declined.
    first = new(catalog, people)
    with pytest.raises(Conflict, match="bo has 0 free mentoring place"):
        new(catalog, people, mentees=("kim",))
    found = find_mentors(catalog, people["kim"], limit=10)
    assert "bo" not in [m["id"] for m in found["mentors"]]
    assert found["excluded"]["capacity"] == 2  # bo, and full (capacity 0)
    match = match_people(catalog, ["kim"], ["bo"])
    assert match["summary"]["places"] == 0 and match["pairs"] == []
    ana = next(m for m in found["mentors"] if m["id"] == "ana")
    assert ana["capacity"] == 2  # the places still free
    move(catalog, people, first.id, "declined")
    assert "bo" in [m["id"] for m in find_mentors(catalog, people["kim"], limit=10)["mentors"]]
    assert new(catalog, people, mentees=("kim",)).state == "proposed"


def test_a_group_takes_a_place_per_mentee(catalog, people):
    new(catalog, people, mentor="cy", mentees=("me",))  # cy offers 2
    with pytest.raises(Conflict, match="cy has 1 free mentoring place.* of 2; this needs 2"):
        new(catalog, people, mentor="cy", mentees=("kim", "bo"), mode="group")


def test_an_admin_swaps_the_mentor_of_a_proposal_with_the_rules_checked(catalog, people):
    r = new(catalog, people)
    with pytest.raises(Conflict, match="manager chain"):
        rel.swap_mentor(catalog.store, people, ADMIN, r.id, "boss", "closer")
    with pytest.raises(InvalidQuery, match="reason"):
        rel.swap_mentor(catalog.store, people, ADMIN, r.id, "ana", " ")
    swapped = rel.swap_mentor(catalog.store, people, ADMIN, r.id, "ana", "bo is on leave")
    assert swapped.mentor == "ana"
    last = Relationships(catalog.store).events(rel_ids=[r.id])[-1]
    assert (last["kind"], last["detail"]) == ("mentor", {"from": "bo", "to": "ana",
                                                         "reason": "bo is on leave"})
    assert Relationships(catalog.store).held_places() == {"ana": 1}  # bo's place is free
    move(catalog, people, r.id, "active")
    with pytest.raises(Conflict, match="only a proposed match"):
        rel.swap_mentor(catalog.store, people, ADMIN, r.id, "cy", "too late")


def test_check_ins_milestones_and_stalled_pairs(catalog, people):
    r = new(catalog, people, at="2026-01-01T09:00:00+00:00")
    with pytest.raises(Conflict, match="check-ins are for active"):
        rel.check_in(catalog.store, people, ME, r.id, "2026-01-02")
    rel.transition(catalog.store, people, LMS, r.id, "active", at="2026-01-05T09:00:00+00:00")
    goal = r.goals[0]["id"]
    stalled = {"stalled_days": 30, "today": dt.date(2026, 2, 5)}
    # 31 days since it started and no check-in: stalled; a check-in on 2026-01-20 ends it.
    assert [x["id"] for x in rel.listing(catalog.store, people, LMS, **stalled)] == [r.id]
    rel.check_in(catalog.store, people, BO, r.id, "2026-01-20", "talked partitions", [goal])
    assert rel.listing(catalog.store, people, LMS, **stalled) == []
    assert rel.listing(catalog.store, people, LMS, stalled_days=30,
                       today=dt.date(2026, 2, 20))[0]["quiet_since"] == "2026-01-20"
    with pytest.raises(NotFound, match="no goal 99"):
        rel.check_in(catalog.store, people, BO, r.id, "2026-01-21", "", [99])
    m = rel.add_milestone(catalog.store, people, ME, r.id, goal, "first consumer", "2026-02-01")
    rel.complete_milestone(catalog.store, people, BO, r.id, m)
    with pytest.raises(NotFound, match="no open milestone"):
        rel.complete_milestone(catalog.store, people, BO, r.id, m)
    extra = rel.add_goal(catalog.store, people, ME, r.id, "schema registry")
    shown = rel.detail(catalog.store, people, ADMIN, r.id)
    assert [g["text"] for g in shown["goals"]] == ["kafka", "schema registry"]
    assert extra == shown["goals"][1]["id"]
    assert [(x["title"], x["done_at"] is not None) for x in shown["milestones"]] == \
        [("first consumer", True)]


@pytest.mark.parametrize("actor, shown", [(ME, True), (BO, True), (ADMIN, True),
                                          (LMS, False)])
def test_check_in_notes_are_for_the_pair_and_admins(catalog, people, actor, shown):
    r = new(catalog, people)
    move(catalog, people, r.id, "active")
    rel.check_in(catalog.store, people, ME, r.id, "2026-01-20", "my private worry")
    found = rel.detail(catalog.store, people, actor, r.id)
    assert found["notes_shown"] is shown
    assert found["checkins"][0]["notes"] == ("my private worry" if shown else None)
    feed = rel.changes(catalog.store, people)["changes"]
    assert "my private worry" not in repr(feed)  # never in the feed, for anyone


def test_outcomes_ratings_goals_and_confirmed_skills(catalog, people):
    r = new(catalog, people)
    goal = r.goals[0]["id"]
    move(catalog, people, r.id, "active")
    with pytest.raises(Conflict, match="rated when completed"):
        rel.rate(catalog.store, people, ME, r.id, "me", 5, {goal: True})
    move(catalog, people, r.id, "completed")
    with pytest.raises(NotAllowed):
        rel.rate(catalog.store, people, ME, r.id, "bo", 5, {})  # for somebody else
    rel.rate(catalog.store, people, ME, r.id, "me", 5, {goal: True}, confirm_skills=True)
    rel.rate(catalog.store, people, LMS, r.id, "bo", 4, {goal: False}, confirm_skills=True)
    with pytest.raises(Conflict, match="rated .* already"):
        rel.rate(catalog.store, people, ME, r.id, "me", 1, {})
    records = Relationships(catalog.store)
    assert [s["skill"] for s in records.confirmed_skills("me")] == ["kafka"]
    assert records.confirmed_skills("bo") == []  # a mentor's answer confirms nothing
    # On the mentee's profile the reached goal is a confirmed skill, a declared one for
    # experts and mentoring, at the level of a skill being built.
    assert ProfileBook(catalog.store).of("me").confirm == {"kafka": rel.REACHED_GOAL_LEVEL}
    assert ProfileBook(catalog.store).of("bo").confirm == {}
    # One mentee rating of 5: (5 - 3) / 2 * 1 / (1 + 2) = 1/3, times the weight 0.05.
    assert rel.history(catalog.store).outcomes == {"bo": pytest.approx(1 / 3)}
    found = find_mentors(catalog, people["kim"], limit=10)["mentors"]
    bo = next(m for m in found if m["id"] == "bo")
    assert bo["outcome"] == pytest.approx(0.3333, abs=1e-4)
    assert bo["fit"] == pytest.approx(bo["coverage"] + 0.05 / 3, abs=1e-4)


@pytest.mark.parametrize("ratings", [[1], [5, 2]])
def test_a_pair_that_ended_badly_is_not_suggested_again(catalog, people, ratings):
    r = new(catalog, people, mentor="ana")
    move(catalog, people, r.id, "active", "completed")
    for person, rating in zip(["me", "ana"], ratings, strict=False):
        rel.rate(catalog.store, people, LMS, r.id, person, rating, {})
    assert ("me", "ana") in rel.history(catalog.store).bad_pairs
    assert "ana" not in [m["id"] for m in find_mentors(catalog, people["me"],
                                                       limit=10)["mentors"]]
    assert match_people(catalog, ["me"], ["ana"])["unmatched"][0]["reason"] == \
        "only_past_pairs"
    with pytest.raises(Conflict, match="it ended badly"):
        new(catalog, people, mentor="ana")


def test_ended_early_counts_as_ended_badly_and_completed_well_does_not(catalog, people):
    early, fine = new(catalog, people, mentor="ana"), new(catalog, people, mentor="cy")
    move(catalog, people, early.id, "active", "ended")
    move(catalog, people, fine.id, "active", "completed")
    rel.rate(catalog.store, people, LMS, fine.id, "me", 4, {})
    assert rel.history(catalog.store).bad_pairs == {("me", "ana")}
    assert new(catalog, people, mentor="cy").state == "proposed"  # again, gladly


@pytest.mark.parametrize("ratings, score", [([], 0.0), ([5], 1 / 3), ([5, 5, 5], 0.6),
                                            ([1] * 10, -10 / 12), ([3, 3], 0.0)])
def test_outcome_score(ratings, score):
    assert rel.outcome_score(ratings) == pytest.approx(score)


def test_a_person_who_opts_out_keeps_their_relationships_private(catalog, people):
    r = new(catalog, people)
    gone = {**people, "me": dataclasses.replace(people["me"], visible=False)}
    with pytest.raises(NotFound):
        rel.detail(catalog.store, gone, LMS, r.id)
    assert rel.listing(catalog.store, gone, LMS) == []
    assert rel.changes(catalog.store, gone)["changes"] == []
    assert rel.changes(catalog.store, gone)["next"] == 2  # the cursor still moves on
    assert rel.detail(catalog.store, gone, ADMIN, r.id)["id"] == r.id
    assert rel.detail(catalog.store, gone, ME, r.id)["id"] == r.id


def test_the_change_feed_pages_with_a_cursor(catalog, people):
    r = new(catalog, people)  # created + one goal
    move(catalog, people, r.id, "active")
    first = rel.changes(catalog.store, people, 0, limit=2)
    assert [c["kind"] for c in first["changes"]] == ["created", "goal"]
    assert (first["next"], first["more"]) == (2, True)
    rest = rel.changes(catalog.store, people, first["next"], limit=2)
    assert [c["detail"].get("to") for c in rest["changes"]] == ["active"]
    assert (rest["next"], rest["more"]) == (3, False)
    assert rel.changes(catalog.store, people, rest["next"]) == \
        {"changes": [], "next": 3, "more": False}


def test_the_report_in_aggregates(catalog, people):
    day = "2026-0{}-01T09:00:00+00:00"
    a = new(catalog, people, mentor="ana", requested_at=day.format(1), at=day.format(2))
    b = new(catalog, people, mentor="cy", mentees=("kim",), requested_at=day.format(1),
            at=day.format(3))
    c = new(catalog, people, mentor="dee", mentees=("kim",), at=day.format(4))
    # report (1 year) mentors boss (15 years) in reverse.
    new(catalog, people, mentor="report", mentees=("boss",), mode="reverse", at=day.format(4))
    move(catalog, people, b.id, "declined", at=day.format(3))  # frees cy's place
    new(catalog, people, mentor="cy", mentees=("bo", "me"), mode="group", at=day.format(5))
    move(catalog, people, a.id, "active", "completed", at=day.format(6))
    move(catalog, people, c.id, "active", at=day.format(6))
    rel.rate(catalog.store, people, LMS, a.id, "me", 4, {a.goals[0]["id"]: True})
    report = programme_report(catalog.store, people, today=dt.date(2026, 7, 15))
    assert report["relationships"] == 5 and report["suppressed"] is False
    assert report["by_state"] == {"proposed": 2, "active": 1, "completed": 1, "declined": 1,
                                  "ended": 0}
    assert (report["reverse"], report["group"]) == (1, 1)
    # a: requested Jan 1, proposed Feb 1 (31 days); b: Jan 1 -> Mar 1 (59); the rest 0.
    assert report["days_to_proposal"] == {"count": 5, "median": 0.0, "mean": 18.0}
    # Goals: me's kafka in a, e; kim's Kafka in b, c; boss has none. a's was rated reached.
    assert report["goals"] == {"total": 4, "rated": 1, "reached": 1, "reached_share": 1.0}
    # Pairs: me (Eng, Berlin) - ana (Data, Berlin); kim (Ops) - cy (Sales), dee (Data);
    # boss (Eng) - report (Eng); bo (Eng, Lisbon) and me (Eng, Berlin) - cy (Sales,
    # Toronto): 5 of 6 across departments; 2 of 6 across known locations.
    assert report["cross_department"] == pytest.approx(5 / 6, abs=1e-4)
    assert report["cross_location"] == pytest.approx(2 / 6, abs=1e-4)
    assert report["stalled"] == 1  # c: active since June 1, no check-in by July 15
    # Places held: dee 1 (active), report 1, cy 2 (the group); a and b hold none.
    assert report["mentor_load"] == {"mentors": 3, "places_held": 4, "capacity": 4,
                                     "full": 3, "mentors_by_places_held": {"1": 2, "2": 1}}
    assert not set(_values(report)) & set(people)  # nobody is named
    rows = report_csv(report).splitlines()
    assert rows[0] == "section,name,value" and "by_state,completed,1" in rows
    assert "cross_department,,0.8333" in rows
    small = programme_report(catalog.store, people, department="sales")  # cy's b and e
    assert (small["relationships"], small["suppressed"]) == (2, True)
    assert "by_state" not in small
    since = programme_report(catalog.store, people, since="2026-04-01", min_group=1)
    assert since["relationships"] == 3


def _values(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, str):
        yield data


def test_the_same_pair_twice_at_once_is_refused_inside_the_transaction(catalog, people):
    # Past the rules (as a racing request would be), the store still refuses the pair.
    new(catalog, people, mentor="ana")
    with pytest.raises(Conflict, match="ana mentors me already"):
        Relationships(catalog.store).create("one_to_one", "ana", ["me"], [], "suggestion",
                                            "lms", DAY.format(1), capacity=2)
