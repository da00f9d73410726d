"""Cohort matching: the solver against brute force, properties, and every unmatched reason."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.embedders import HashingEmbedder
from indexer.errors import Conflict, InvalidQuery
from indexer.records import Person, Skill
from search.mentoring.cohort import greedy, match_cohort, solve, total
from search.mentoring.fit import FitModel
from search.mentoring.rules import Options, feasible, rule_matrices, violations


def brute_force(scores, allowed, caps, objective):
    """The best (matched, total) or (total,) over every assignment, by enumeration."""
    n, m = scores.shape
    best = None
    for choice in itertools.product(range(-1, m), repeat=n):
        picked = [(i, j) for i, j in enumerate(choice) if j >= 0]
        if any(not allowed[i, j] for i, j in picked):
            continue
        if any(sum(j == k for _, j in picked) > caps[k] for k in range(m)):
            continue
        value = sum(scores[i, j] for i, j in picked)
        key = (len(picked), value) if objective == "most_matched" else (value,)
        best = key if best is None or key > best else best
    return best


def outcome(assignment, scores, objective):
    value = total(assignment, scores)
    return (int((assignment >= 0).sum()), value) if objective == "most_matched" else (value,)


def valid(assignment, allowed, caps):
    rows = np.flatnonzero(assignment >= 0)
    used = np.bincount(assignment[rows], minlength=len(caps))
    return bool(allowed[rows, assignment[rows]].all() and (used <= caps).all())


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("objective", ["best_fit", "most_matched"])
def test_solver_equals_brute_force(seed, objective):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    scores = rng.random((n, m)).round(3)
    allowed = rng.random((n, m)) < 0.6
    caps = rng.integers(0, 3, m)
    assignment = solve(scores, allowed, caps, objective)
    assert valid(assignment, allowed, caps)
    assert outcome(assignment, scores, objective) == pytest.approx(
        brute_force(scores, allowed, caps, objective))


def test_best_fit_and_most_matched_differ_where_they_should():
    # a fits X best (1.0); b can only take X (0.1); a could also take Y (0.1).
    scores = np.array([[1.0, 0.1], [0.1, 0.0]])
    allowed = np.array([[True, True], [True, False]])
    assert solve(scores, allowed, [1, 1], "best_fit").tolist() == [0, -1]      # total 1.0
    assert solve(scores, allowed, [1, 1], "most_matched").tolist() == [1, 0]   # both, 0.2


def test_greedy_is_beaten_where_it_is_short_sighted():
    # Greedy takes a-X (0.9) and leaves b with nothing; the optimum is a-Y + b-X = 1.6.
    scores = np.array([[0.9, 0.7], [0.9, 0.0]])
    allowed = np.array([[True, True], [True, False]])
    assert greedy(scores, allowed, [1, 1]).tolist() == [0, -1]
    assert solve(scores, allowed, [1, 1]).tolist() == [1, 0]


def test_an_infeasible_pair_is_never_chosen_even_when_it_is_the_only_one():
    scores = np.array([[5.0, 0.1]])
    assert solve(scores, np.array([[False, False]]), [3, 3]).tolist() == [-1]
    assert solve(scores, np.array([[False, False]]), [3, 3], "most_matched").tolist() == [-1]


# -- properties over random cohorts of people ----------------------------------

SKILLS = ["Kafka", "Rust", "SQL", "Pricing", "Go"]
ZONES = ["Europe/Berlin", "Asia/Singapore", "America/Toronto"]


def cohort_person(prefix):
    return st.builds(
        lambda i, skills, goals, dept, sen, tz, lang, mgr, cap: Person(
            id=f"{prefix}{i}", name=f"{prefix}{i}", department=dept, seniority=float(sen),
            timezone=tz, languages=(lang,), manager_id=mgr,
            skills=tuple(Skill(s, lvl) for s, lvl in skills.items()), goals=tuple(goals),
            mentoring_available=True, mentoring_capacity=cap),
        st.integers(0, 9), st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5),
                                           max_size=3),
        st.lists(st.sampled_from(SKILLS), max_size=2, unique=True),
        st.sampled_from(["Eng", "Data"]), st.integers(0, 20), st.sampled_from(ZONES),
        st.sampled_from(["en", "de"]),
        st.one_of(st.none(), st.integers(0, 9).map(lambda i: f"b{i}")), st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(cohort_person("a"), min_size=1, max_size=8, unique_by=lambda p: p.id),
       st.lists(cohort_person("b"), min_size=1, max_size=5, unique_by=lambda p: p.id),
       st.sampled_from([Options(), Options(cross_functional=True),
                        Options(shared_language=True, max_timezone_hours=6),
                        Options(mode="reverse"), Options(min_seniority_gap=2)]),
       st.sampled_from(["best_fit", "most_matched"]))
def test_no_violations_capacity_respected_and_never_worse_than_greedy(
        mentees, mentors, options, objective):
    people = {p.id: p for p in [*mentees, *mentors]}
    past = [(mentees[0].id, mentors[0].id)]
    model = FitModel(HashingEmbedder(2048))
    result = match_cohort(model, mentees, mentors, people, options, past_pairs=past,
                          objective=objective)
    by_id = {p.id: p for p in mentors}
    load: dict[str, int] = {}
    for pair in result["pairs"]:
        mentee = people[pair["mentee"]]
        assert violations(mentee, by_id[pair["mentor"]], options, people,
                          past_pairs=set(past)) == []
        assert pair["fit"] > 0
        load[pair["mentor"]] = load.get(pair["mentor"], 0) + 1
    assert all(load[m] <= by_id[m].mentoring_capacity for m in load)
    assert len(result["pairs"]) + len(result["unmatched"]) == len(mentees)
    # The same scores and feasibility the solver saw, for the greedy baseline.
    fit = model.score(mentees, mentors)
    caps = [p.mentoring_capacity for p in mentors]
    allowed = feasible(rule_matrices(mentees, mentors, options, people, caps, past)) & \
        (fit.coverage > 0)
    baseline = greedy(fit.values, allowed, caps)
    if objective == "best_fit":
        assert result["summary"]["total_fit"] >= total(baseline, fit.values) - 1e-3
    else:
        assert result["summary"]["matched"] >= int((baseline >= 0).sum())


# -- one cohort, every reason ----------------------------------------------------

def mentor(pid, *skills, **kw):
    kw.setdefault("mentoring_capacity", 1)
    return Person(id=pid, name=pid.title(), skills=tuple(Skill(n, lvl) for n, lvl in skills),
                  mentoring_available=True, **kw)


def mentee(pid, *goals, **kw):
    return Person(id=pid, name=pid.title(), goals=goals, **kw)


@pytest.fixture
def model(embedder):
    return FitModel(embedder)


def test_pairs_and_unmatched_reasons(model):
    mentees = [mentee("amy", "kafka"), mentee("ben", "kafka"), mentee("cat"),
               mentee("dan", "golf"), mentee("eve", "rust"), mentee("fay", "sql")]
    mentors = [mentor("kai", ("Kafka", 5)), mentor("rua", ("Rust", 5)),
               mentor("sol", ("SQL", 4), department="Data")]
    people = {p.id: p for p in [*mentees, *mentors]}
    eve_boss = {**people, "eve": mentee("eve", "rust", manager_id="rua")}
    result = match_cohort(model, [*mentees[:4], eve_boss["eve"], mentees[5]], mentors,
                          eve_boss, past_pairs=[("fay", "sol")])
    assert [(p["mentee"], p["mentor"]) for p in result["pairs"]] == [("amy", "kai")]
    reasons = {u["mentee"]: u["reason"] for u in result["unmatched"]}
    assert reasons == {"ben": "capacity",            # kai's one place went to amy (a tie)
                       "cat": "no_topics",           # no goals, no gaps
                       "dan": "no_fit",              # nobody knows golf
                       "eve": "no_fit",              # rua is her manager; no one else fits
                       "fay": "only_past_pairs"}     # sol mentored her before
    assert result["summary"] == {"mentees": 6, "mentors": 3, "places": 3, "matched": 1,
                                 "total_fit": 0.6, "mean_fit": 0.6}
    assert result["pairs"][0]["why"] == "kafka (goal): lists Kafka (level 5)"
    capacity = next(u for u in result["unmatched"] if u["mentee"] == "ben")["detail"]
    assert "kai" in capacity


def test_no_mentor_passes_the_constraints(model):
    mentees = [mentee("amy", "kafka", department="Eng")]
    mentors = [mentor("kai", ("Kafka", 5), department="Eng"),
               mentor("kim", ("Kafka", 5), department="eng")]
    result = match_cohort(model, mentees, mentors, {}, Options(cross_functional=True))
    assert result["pairs"] == []
    (only,) = result["unmatched"]
    assert only["reason"] == "no_eligible_mentor"
    assert only["detail"] == ("no mentor passes the rules and options: "
                              "2 works in the same department (or it is unknown)")


def test_groups_by_mentor_with_shared_topics(model):
    mentees = [mentee("amy", "kafka", "rust"), mentee("ben", "kafka")]
    result = match_cohort(model, mentees, [mentor("kai", ("Kafka", 5), mentoring_capacity=2)],
                          {})
    assert result["mentors"] == [{"id": "kai", "name": "Kai", "capacity": 2,
                                  "mentees": ["amy", "ben"], "shared_topics": ["kafka"]}]


def test_capacities_lower_places_but_never_raise_them(model):
    mentees = [mentee("amy", "kafka"), mentee("ben", "kafka")]
    kai = mentor("kai", ("Kafka", 5), mentoring_capacity=2)
    assert len(match_cohort(model, mentees, [kai], {})["pairs"]) == 2
    assert len(match_cohort(model, mentees, [kai], {}, capacities={"kai": 1})["pairs"]) == 1
    with pytest.raises(Conflict, match="kai offers 2 mentoring places"):
        match_cohort(model, mentees, [kai], {}, capacities={"kai": 3})
    with pytest.raises(Conflict, match="not among the mentors: zed"):
        match_cohort(model, mentees, [kai], {}, capacities={"zed": 1})


@pytest.mark.parametrize("kwargs, message", [
    ({"objective": "fastest"}, "unknown objective"),
    ({"options": Options(mode="group")}, "group mode is for one employee"),
])
def test_bad_requests(model, kwargs, message):
    with pytest.raises(InvalidQuery, match=message):
        match_cohort(model, [mentee("amy", "kafka")], [mentor("kai", ("Kafka", 5))], {},
                     **kwargs)


def test_the_same_person_twice_is_refused(model):
    with pytest.raises(Conflict, match="mentees lists the same person twice: amy"):
        match_cohort(model, [mentee("amy", "x"), mentee("amy", "y")], [], {})
