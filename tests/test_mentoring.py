"""Mentors for one employee: every hard rule, every option, every mode, and the fit."""

import numpy as np
import pytest
from conftest import write

from indexer.errors import InvalidQuery
from indexer.records import Filters, Person, Skill
from ingest.pipeline import Ingester
from search.mentoring.fit import DocInfo, Expertise, FitModel, FitWeights, topics_of
from search.mentoring.mentors import MentorCatalog, find_mentors
from search.mentoring.rules import Options

# me (Eng, Berlin, 3 years) wants kafka and has Rust at level 1 (a gap).
PEOPLE = """
- {id: boss, type: person, name: Boss, department: Eng, seniority: 15,
   mentoring: {available: true, capacity: 2}, skills: [{name: Kafka, level: 5}]}
- {id: lead, type: person, name: Lead, department: Eng, manager_id: boss, seniority: 8,
   mentoring: {available: true, capacity: 1}, skills: [{name: Kafka, level: 4}]}
- {id: me, type: person, name: Me, email: me@x.example, department: Eng, manager_id: lead,
   location: Berlin, timezone: Europe/Berlin, languages: [en, de], seniority: 3,
   goals: [kafka], skills: [{name: Rust, level: 1}, {name: Python, level: 4}]}
- {id: report, type: person, name: Report, department: Eng, manager_id: me, seniority: 1,
   mentoring: {available: true, capacity: 1}, skills: [{name: Kafka, level: 5}]}
- {id: ana, type: person, name: Ana, department: Data, location: Berlin,
   timezone: Europe/Berlin, languages: [en], seniority: 10,
   mentoring: {available: true, capacity: 2},
   skills: [{name: Kafka, level: 5}, {name: Rust, level: 4}]}
- {id: bo, type: person, name: Bo, department: Eng, location: Lisbon, timezone: Europe/Lisbon,
   languages: [pt, en], seniority: 6, mentoring: {available: true, capacity: 1},
   skills: [{name: Kafka, level: 3}]}
- {id: cy, type: person, name: Cy, department: Sales, location: Toronto,
   timezone: America/Toronto, languages: [fr], seniority: 1,
   mentoring: {available: true, capacity: 2}, skills: [{name: Kafka, level: 4}]}
- {id: dee, type: person, name: Dee, department: Data, location: Singapore,
   timezone: Asia/Singapore, languages: [en], seniority: 25,
   mentoring: {available: true, capacity: 1}, skills: [{name: Rust, level: 5}]}
- {id: full, type: person, name: Full, mentoring: {available: true, capacity: 0},
   skills: [{name: Kafka, level: 5}]}
- {id: busy, type: person, name: Busy, skills: [{name: Kafka, level: 5}]}
- {id: shy, type: person, name: Shy, visible: false, mentoring: {available: true, capacity: 3},
   skills: [{name: Kafka, level: 5}]}
- {id: kim, type: person, name: Kim, department: Ops, goals: [Kafka]}
- {id: hidden, type: person, name: Hidden, visible: false, goals: [kafka]}
"""
DOCS = [
    '{"id": "k1", "title": "Kafka basics", "body": "kafka topics and partitions",'
    ' "authors": ["ana"]}',
    '{"id": "r1", "title": "Rust ownership", "body": "rust borrow checker", "authors": ["ana"]}',
    '{"id": "s1", "title": "Kafka pentest", "body": "kafka kafka findings", "authors": ["cy"],'
    ' "groups": ["security"]}',
]
PUBLIC = Filters(groups=())  # a caller who may read only documents without groups


@pytest.fixture
def catalog(tmp_path, store, embedder):
    write(tmp_path / "c", "people.yaml", PEOPLE)
    write(tmp_path / "c", "docs.jsonl", "\n".join(DOCS))
    Ingester(store, embedder).ingest([tmp_path / "c"])
    return MentorCatalog(store, embedder)


def ids(result):
    return [m["id"] for m in result["mentors"]]


def mentors_of(catalog, options=None, **kw):
    people = catalog.people()
    return find_mentors(catalog, people["me"], options, limit=10, people=people, **kw)


def test_hard_rules_leave_only_the_allowed_mentors_best_fit_first(catalog):
    result = mentors_of(catalog, filters=PUBLIC)
    # Never herself, her manager chain (lead, boss), her direct report, someone at
    # capacity 0 (full), unavailable (busy, kim) or opted out (shy, not even counted).
    # Fit over kafka (goal, weight 1) and Rust (gap, weight 1/2), skills 0.6 : docs 0.4:
    # ana Kafka 5 and Rust 4 plus her documents, cy Kafka 4 (0.6 * 0.8 / 1.5 = 0.32),
    # bo Kafka 3 (0.6 * 0.6 / 1.5 = 0.24), dee Rust 5 (0.5 * 0.6 / 1.5 = 0.2); cy's
    # document is in a group this caller may not read.
    assert ids(result) == ["ana", "cy", "bo", "dee"]
    fits = {m["id"]: m["fit"] for m in result["mentors"]}
    assert fits["cy"] == pytest.approx(0.32, abs=1e-4)
    assert fits["bo"] == pytest.approx(0.24, abs=1e-4)
    assert fits["dee"] == pytest.approx(0.2, abs=1e-4)
    assert result["excluded"] == {"manager_chain": 3, "unavailable": 2, "capacity": 1}
    assert result["considered"] == 10  # everyone visible but herself
    assert result["topics"] == [{"topic": "kafka", "kind": "goal"},
                                {"topic": "Rust", "kind": "gap"}]


def test_the_reason_names_goals_skills_and_documents(catalog):
    ana = mentors_of(catalog)["mentors"][0]
    kafka, rust = ana["covers"]
    assert (kafka["topic"], kafka["skills"][0]["name"], kafka["skills"][0]["level"]) == \
        ("kafka", "Kafka", 5)
    assert [d["id"] for d in kafka["documents"]] == ["k1"]
    assert [d["id"] for d in rust["documents"]] == ["r1"]
    assert ana["why"].startswith("kafka (goal): lists Kafka (level 5), wrote 'Kafka basics'")
    assert ana["not_covered"] == []


def test_documents_count_only_where_the_caller_may_read_them(catalog):
    def cy(filters):
        found = {m["id"]: m for m in mentors_of(catalog, filters=filters)["mentors"]}["cy"]
        return found["fit"], [d["id"] for t in found["covers"] for d in t["documents"]]

    fit_all, docs_all = cy(None)
    fit_public, docs_public = cy(Filters(groups=()))
    assert docs_all == ["s1"] and docs_public == []
    assert fit_public == pytest.approx(0.32, abs=1e-4)
    assert fit_all > fit_public


@pytest.mark.parametrize("options, expected", [
    (Options(cross_functional=True), ["ana", "cy", "dee"]),          # bo is in Eng too
    (Options(min_seniority_gap=5), ["ana", "dee"]),                  # 3 + 5 = 8 years or more
    (Options(min_seniority_gap=5, max_seniority_gap=10), ["ana"]),   # 8 to 13 years
    (Options(max_seniority_gap=0), ["cy"]),                          # nobody more senior
    (Options(shared_language=True), ["ana", "bo", "dee"]),           # cy speaks only fr
    (Options(max_timezone_hours=1), ["ana", "bo"]),                  # Lisbon is 1 h behind
    (Options(max_timezone_hours=6), ["ana", "cy", "bo"]),            # Toronto 6 h, Singapore 7
    (Options(same_location=True), ["ana"]),
    (Options(mode="reverse"), ["cy"]),                               # the junior one
    (Options(mode="reverse", min_seniority_gap=1, max_seniority_gap=1), []),  # cy is 2 below
])
def test_options(catalog, options, expected):
    assert ids(mentors_of(catalog, options)) == expected


def test_an_empty_answer_says_why(catalog):
    result = mentors_of(catalog, Options(same_location=True, cross_functional=True,
                                         max_timezone_hours=0, min_seniority_gap=30))
    assert result["mentors"] == []
    assert result["note"].startswith("no mentor passes the rules and options: ")
    assert "is outside the seniority gap window" in result["note"]


def test_reverse_mentoring_counts_only_skills_where_the_junior_is_stronger(embedder):
    senior = Person(id="s", name="S", seniority=20, skills=(Skill("Python", 4),),
                    goals=("python", "kafka"))
    junior = Person(id="j", name="J", seniority=2, skills=(Skill("Python", 4),
                                                           Skill("Kafka", 5)),
                    mentoring_available=True, mentoring_capacity=1)
    fit = FitModel(embedder).score([senior], [junior])
    covers = {x["topic"]: x for x in fit.reason(0, 0)["covers"]}
    # Python at the same level teaches nothing; Kafka 5 over nothing: (0.6 * 1) / 2 goals.
    assert list(covers) == ["kafka"]
    assert fit.coverage[0, 0] == pytest.approx(0.3)


def test_group_mode_adds_others_who_share_the_goals_up_to_capacity(catalog):
    result = mentors_of(catalog, Options(mode="group"))
    # Only mentors with room for a group (capacity 2 or more): ana and cy.
    assert ids(result) == ["ana", "cy"]
    group = result["mentors"][0]["group"]
    # kim shares the kafka goal; hidden (opted out) is never suggested.
    assert group == {"size": 2, "capacity": 2, "shared_topics": ["kafka"],
                     "members": [{"id": "kim", "name": "Kim", "department": "Ops",
                                  "shared": ["kafka"]}]}


def test_no_goals_no_mentors_and_a_note(catalog):
    people = catalog.people()
    result = find_mentors(catalog, people["ana"], people=people)
    assert result["mentors"] == [] and result["topics"] == []
    assert result["note"].startswith("no goals or skill gaps")


def test_options_that_are_not_options_are_refused():
    with pytest.raises(InvalidQuery, match="unknown mode"):
        Options(mode="sideways").check()
    with pytest.raises(InvalidQuery, match="0 or more"):
        Options(max_timezone_hours=-1).check()
    # An empty window is an answer (nobody, and why), not an error.
    assert Options(min_seniority_gap=5, max_seniority_gap=2).check().impossible() == \
        "the seniority gap window is empty (min 5 > max 2)"


# -- the fit, on plain records ------------------------------------------------

def mentor(pid, *skills, **kw):
    return Person(id=pid, name=pid, skills=tuple(Skill(n, lvl) for n, lvl in skills),
                  mentoring_available=True, mentoring_capacity=2, **kw)


def test_a_skill_named_in_the_goal_is_a_full_match(embedder):
    mentee = Person(id="m", name="M", goals=("get better at public speaking",))
    fit = FitModel(embedder).score([mentee], [mentor("a", ("Public Speaking", 4))])
    assert fit.coverage[0, 0] == pytest.approx(0.6 * 4 / 5)  # skills weight x level / 5


def test_a_coding_expert_does_not_fit_a_social_media_goal(embedder):
    mentee = Person(id="m", name="M", goals=("social media strategy",))
    fit = FitModel(embedder).score([mentee], [mentor("a", ("Python", 5), ("Rust", 5))])
    assert fit.coverage[0, 0] == 0.0
    assert fit.reason(0, 0)["why"] == "not covered: social media strategy"


def test_gaps_need_a_stronger_mentor_and_weigh_half(embedder):
    mentee = Person(id="m", name="M", goals=("kafka",), skills=(Skill("Python", 2),))
    assert [t.kind for t in topics_of(mentee)] == ["goal", "gap"]
    fit = FitModel(embedder).score([mentee], [mentor("same", ("Python", 2)),
                                              mentor("more", ("Python", 3))])
    # (1 * 0 + 0.5 * 0.6 * 3 / 5) / 1.5 = 0.12 for the stronger one, nothing for the same level
    assert fit.coverage[0].tolist() == pytest.approx([0.0, 0.12])


def test_documents_combine_as_a_noisy_or(embedder):
    mentee = Person(id="m", name="M", goals=("kafka",))
    away = np.zeros(embedder.dim, dtype=np.float32)
    away[embedder.bucket("zzz")] = 1.0  # no shared word with the goal: only the tag counts
    docs = {d: DocInfo(d, d.upper(), ("kafka", "ops")) for d in ("d1", "d2")}
    one = Expertise(docs, {"d1": away, "d2": away}, {"a": ["d1"], "b": ["d1", "d2"]})
    fit = FitModel(embedder).score([mentee], [mentor("a"), mentor("b")], one)
    # a tag naming the topic is a 0.7 match: 0.4 * 0.7, and 0.4 * (1 - 0.3 * 0.3)
    assert fit.coverage[0].tolist() == pytest.approx([0.28, 0.364])


def test_a_match_must_stand_above_what_everything_matches(embedder):
    """The ramps start at the topic's line (search/closeness.py): with 20 skill names
    (documents) that all share "data" with the goal "data", each at 0.71, none matches,
    though 0.71 is over the floors (0.5 for skills, 0.4 for documents). With fewer than
    20 there is no centre, and the floors alone decide."""
    mentee = Person(id="m", name="M", goals=("data",))
    many = [mentor(f"s{i}", (f"data tool{i}", 5)) for i in range(20)]
    assert FitModel(embedder).score([mentee], many).coverage.max() == 0.0
    assert FitModel(embedder).score([mentee], many[:19]).coverage.min() > 0.0
    docs = {f"d{i}": DocInfo(f"d{i}", f"D{i}") for i in range(20)}
    vectors = {d: embedder.embed([f"data note{i}"])[0] for i, d in enumerate(docs)}
    written = Expertise(docs, vectors, {"a": ["d0"]}, centre=np.mean(
        np.vstack(list(vectors.values())), axis=0))
    assert FitModel(embedder).score([mentee], [mentor("a")], written).coverage[0, 0] == 0.0
    alone = Expertise(docs, vectors, {"a": ["d0"]})  # no centre: 0.4 x ramp(0.71)
    assert FitModel(embedder).score([mentee], [mentor("a")], alone).coverage[0, 0] > 0.3


def test_a_skills_line_is_the_same_whoever_is_in_the_pool(embedder):
    """The catalog gives the centre of every skill people declare (Expertise.skill_centre),
    so one mentor alone is held to the line the whole company's skills draw."""
    mentee = Person(id="m", name="M", goals=("data",))
    alone = [mentor("s0", ("data tool0", 5))]
    assert FitModel(embedder).score([mentee], alone).coverage[0, 0] > 0.0  # no centre
    company = np.vstack([embedder.embed([f"data tool{i}"])[0] for i in range(20)])
    everyone = Expertise(skill_centre=company.mean(axis=0))
    assert FitModel(embedder).score([mentee], alone, everyone).coverage[0, 0] == 0.0


def test_bonuses_apply_only_where_the_mentor_covers_something(embedder):
    mentee = Person(id="m", name="M", goals=("kafka",), languages=("en",),
                    timezone="Europe/Berlin", location="Berlin", department="Eng")
    near = mentor("near", ("Kafka", 5), languages=("en",), timezone="Europe/Berlin",
                  location="Berlin", department="Data")
    useless = mentor("useless", ("Golf", 5), languages=("en",), timezone="Europe/Berlin",
                     location="Berlin", department="Data")
    weights = FitWeights(shared_language=0.1, timezone=0.1, same_location=0.1,
                         cross_department=0.1)
    fit = FitModel(embedder).score([mentee], [near, useless], weights=weights)
    assert fit.values[0].tolist() == pytest.approx([0.6 + 0.4, 0.0])
