"""The hard rules one pair at a time, and the vectorised form against them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.records import Person
from search.mentoring.rules import (
    Options,
    manager_chain,
    rule_matrices,
    timezone_hours,
    violations,
)


def person(pid, **kw):
    kw.setdefault("mentoring_available", True)
    kw.setdefault("mentoring_capacity", 1)
    return Person(id=pid, name=pid, **kw)


@pytest.mark.parametrize("a, b, hours", [
    ("Europe/Berlin", "Europe/Berlin", 0),
    ("Europe/Berlin", "Europe/Lisbon", 1),
    ("Europe/Berlin", "Asia/Singapore", 7),      # 7 h in winter, 6 h in summer: the larger
    ("America/Toronto", "Europe/Berlin", 6),
    ("Pacific/Auckland", "Pacific/Honolulu", 2),  # around the clock, not 23 h
    ("Asia/Kolkata", "UTC", 5.5),
    ("Europe/Berlin", "Mars/Olympus", None),
    (None, "UTC", None),
])
def test_timezone_hours(a, b, hours):
    assert timezone_hours(a, b) == hours


def test_manager_chain_stops_at_cycles_and_unknown_managers():
    people = {"a": person("a", manager_id="b"), "b": person("b", manager_id="c"),
              "c": person("c", manager_id="a"), "d": person("d", manager_id="ghost")}
    assert manager_chain(people["a"], people) == {"b", "c"}
    assert manager_chain(people["d"], people) == {"ghost"}


MENTEE = person("me", manager_id="lead", department="Eng", seniority=5, languages=("en",),
                timezone="Europe/Berlin", location="Berlin", mentoring_available=False,
                mentoring_capacity=0)
LEAD = person("lead", manager_id="boss")
PEOPLE = {"me": MENTEE, "lead": LEAD, "boss": person("boss")}


@pytest.mark.parametrize("mentor, options, rules", [
    (MENTEE, Options(), ["self", "unavailable", "capacity"]),
    (LEAD, Options(), ["manager_chain"]),
    (PEOPLE["boss"], Options(), ["manager_chain"]),
    (person("report", manager_id="me"), Options(), ["manager_chain"]),
    (person("x", mentoring_available=False), Options(), ["unavailable"]),
    (person("x", visible=False), Options(), ["unavailable"]),
    (person("x", mentoring_capacity=0), Options(), ["capacity"]),
    (person("x", mentoring_capacity=1), Options(mode="group"), ["capacity"]),
    (person("x", department="eng"), Options(cross_functional=True), ["department"]),
    (person("x"), Options(cross_functional=True), ["department"]),  # unknown department
    (person("x", department="Data"), Options(cross_functional=True), []),
    (person("x", seniority=9), Options(min_seniority_gap=5), ["seniority"]),
    (person("x", seniority=10), Options(min_seniority_gap=5), []),
    (person("x", seniority=16), Options(max_seniority_gap=10), ["seniority"]),
    (person("x"), Options(min_seniority_gap=0), ["seniority"]),  # unknown seniority
    (person("x", seniority=10), Options(mode="reverse"), ["seniority"]),
    (person("x", seniority=5), Options(mode="reverse"), ["seniority"]),  # not junior
    (person("x", seniority=2), Options(mode="reverse"), []),
    (person("x", seniority=2), Options(mode="reverse", min_seniority_gap=4), ["seniority"]),
    (person("x", languages=("fr", "de")), Options(shared_language=True), ["language"]),
    (person("x", languages=("EN",)), Options(shared_language=True), []),
    (person("x", timezone="Asia/Singapore"), Options(max_timezone_hours=6), ["timezone"]),
    (person("x", timezone="Asia/Singapore"), Options(max_timezone_hours=7), []),
    (person("x", timezone="Nowhere/Land"), Options(max_timezone_hours=12), ["timezone"]),
    (person("x", location="Lisbon"), Options(same_location=True), ["location"]),
    (person("x", location="berlin"), Options(same_location=True), []),
])
def test_each_rule(mentor, options, rules):
    assert violations(MENTEE, mentor, options, PEOPLE) == rules


def test_past_pairs():
    assert violations(MENTEE, person("x"), Options(), PEOPLE, past_pairs={("me", "x")}) == \
        ["past_pair"]


# -- the matrices agree with the pair-by-pair rules -----------------------------

ZONES = ["Europe/Berlin", "Europe/Lisbon", "Asia/Singapore", "America/Toronto", "Bad/Zone", None]
people_strategy = st.builds(
    lambda i, dept, sen, langs, tz, loc, mgr, avail, cap, vis: Person(
        id=f"p{i}", name="x", department=dept, seniority=sen, languages=tuple(langs),
        timezone=tz, location=loc, manager_id=mgr, mentoring_available=avail,
        mentoring_capacity=cap, visible=vis),
    st.integers(0, 7), st.sampled_from([None, "Eng", "eng", "Data"]),
    st.one_of(st.none(), st.integers(0, 20).map(float)),
    st.lists(st.sampled_from(["en", "de", "fr"]), max_size=2), st.sampled_from(ZONES),
    st.sampled_from([None, "Berlin", "Lisbon"]),
    st.one_of(st.none(), st.integers(0, 7).map(lambda i: f"p{i}")),
    st.booleans(), st.integers(0, 3), st.booleans())
options_strategy = st.builds(
    Options, st.sampled_from(["standard", "reverse", "group"]), st.booleans(),
    st.one_of(st.none(), st.integers(-5, 10).map(float)),
    st.one_of(st.none(), st.integers(-5, 15).map(float)), st.booleans(),
    st.one_of(st.none(), st.integers(0, 12).map(float)), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(people_strategy, min_size=1, max_size=6, unique_by=lambda p: p.id),
       st.lists(people_strategy, min_size=1, max_size=6, unique_by=lambda p: p.id),
       options_strategy)
def test_matrices_match_the_pair_rules(mentees, mentors, options):
    people = {p.id: p for p in [*mentors, *mentees]}
    past = {(mentees[0].id, mentors[-1].id)}
    matrices = rule_matrices(mentees, mentors, options, people, past_pairs=past)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            expected = violations(mentee, mentor, options, people, past_pairs=past)
            found = [rule for rule, m in matrices.items() if m[i, j]]
            assert found == expected, (mentee, mentor)
    assert all(m.shape == (len(mentees), len(mentors)) and m.dtype == np.bool_
               for m in matrices.values())
