"""The expertise map: bus-factor topics, groups of five or more, supply and demand."""

import pytest

from indexer.records import Person, Skill
from search.mentoring.expertise_map import expertise_map, goal_topic, topic_key
from search.mentoring.fit import DocInfo


def person(pid, dept, loc, skills=(), goals=(), mentor=0, **kw):
    return Person(id=pid, name=pid, department=dept, location=loc,
                  skills=tuple(Skill(n, lvl) for n, lvl in skills), goals=tuple(goals),
                  mentoring_available=mentor > 0, mentoring_capacity=mentor, **kw)


@pytest.fixture
def company():
    # Eng: 5 people in Berlin. Sales: 3 people in Lisbon (too few to count).
    people = [
        person("e1", "Eng", "Berlin", [("Kafka", 5), ("SQL", 4)], mentor=2),
        person("e2", "Eng", "Berlin", [("Kafka", 4)], mentor=1, visible=False),
        person("e3", "Eng", "Berlin", [("Rust", 5)], ["SQL"]),
        person("e4", "Eng", "Berlin", [("Go", 3)], ["get better at SQL"]),
        person("e5", "Eng", "Berlin", [], ["sql", "rust"]),
        person("s1", "Sales", "Lisbon", [("Negotiation", 5)], ["SQL"], mentor=1),
        person("s2", "Sales", "Lisbon", [("Pricing", 2)], ["SQL", "Pricing strategy"]),
        person("s3", "Sales", "Lisbon", [], ["rust"]),
    ]
    docs = {"d1": DocInfo("d1", "Deals", ("negotiation", "pricing")),
            "d2": DocInfo("d2", "Orphan", ("edi",))}
    return {p.id: p for p in people}, docs, {"s2": ["d1"], "ghost": ["d2"]}


def test_bus_factor_topics(company):
    people, docs, by_author = company
    topics = expertise_map(people, docs, by_author)["topics"]
    # Kafka has two experts (e1, e2: opted out, but still someone who knows); Go is
    # listed only at level 3 and edi only by an author with no person record: nobody.
    # Pricing: s2 wrote a document tagged with it, though she lists it at level 2;
    # the same document makes her the second Negotiation expert after s1.
    assert topics["no_expert"] == ["Go", "edi"]
    assert topics["one_expert"] == ["Pricing", "Rust", "SQL"]
    assert topics["total"] == 7


def test_groups_under_five_people_are_not_counted(company):
    result = expertise_map(*company)
    assert result["departments"] == [{
        "name": "Eng", "people": 5, "experts": 3, "topics": 3, "topics_only_here": 3,
        "top_topics": ["Kafka", "Rust", "SQL"], "mentors": 1, "places": 2}]
    assert result["suppressed"]["departments"] == ["Sales"]
    assert [g["name"] for g in result["locations"]] == ["Berlin"]
    assert result["suppressed"]["locations"] == ["Lisbon"]
    assert result["people"] == 8


def test_supply_against_demand(company):
    result = expertise_map(*company)
    # SQL is wanted by e3, e4 ("get better at SQL"), e5, s1, s2: five people. Mentors who
    # list it at level 3 or more and are available and visible: e1 with two places.
    assert result["supply_demand"] == [
        {"topic": "SQL", "wanted_by": 5, "mentors": 1, "places": 2, "status": "short"}]
    # Rust (3 people) and Pricing (1) are too few to count; nobody mentors either.
    assert result["suppressed"]["topics"] == ["Pricing", "Rust"]
    assert result["unmet_demand"] == ["Pricing", "Rust"]


def test_a_tiny_company_shows_no_counts():
    people = {p.id: p for p in [person("a", "Eng", "Berlin", [("Kafka", 5)], ["SQL"])]}
    result = expertise_map(people, {}, {})
    assert result["people"] is None and result["departments"] == []
    assert result["supply_demand"] == [] and result["suppressed"]["topics"] == ["SQL"]


@pytest.mark.parametrize("goal, topic", [
    ("get better at public speaking", "public speaking"),
    ("Pricing strategy", "pricing"),              # the skill, not the tag "strategy"
    ("financial planning for cloud spend", "financial planning"),
    ("Machine-Learning", "machine learning"),
    ("underwater basket weaving", "underwater basket weaving"),  # names nothing known
])
def test_goal_topic(goal, topic):
    names = {topic_key(n): n for n in ["Public Speaking", "Pricing", "strategy",
                                       "Financial Planning", "planning", "machine-learning"]}
    skills = {topic_key(n) for n in ["Public Speaking", "Pricing", "Financial Planning"]}
    assert goal_topic(goal, names, skills) == topic
