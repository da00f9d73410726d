"""Recommendations for one employee: mentors, articles and lessons for their goals.

Each goal (and each skill they hold only at level 1-2, a gap) is a query. Mentors
are people ranked as experts for it who pass the hard rules of mentoring
(``search.mentoring_rules``): available, with capacity, not opted out, neither
the employee nor on their manager chain.
Articles and lessons they wrote themselves are not recommended back to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexer.records import Filters, Person
from search.answers import Answerer
from search.mentoring_fit import GAP_LEVEL
from search.mentoring_fit import topics_of as mentoring_topics
from search.mentoring_rules import Options, manager_chain, violations

__all__ = ["GAP_LEVEL", "Recommendation", "manager_chain", "recommend", "topics_of"]


@dataclass
class Recommendation:
    employee: str | None
    topics: list[str]
    mentors: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    lessons: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"employee": self.employee, "topics": self.topics, "mentors": self.mentors,
                "articles": self.articles, "lessons": self.lessons}


def topics_of(person: Person) -> list[str]:
    """What the person wants to learn: their goals, then their weakest skills."""
    return [t.text for t in mentoring_topics(person)]


def recommend(answerer: Answerer, person: Person, people: dict[str, Person],
              filters: Filters | None = None, limit: int = 5) -> Recommendation:
    topics = topics_of(person)  # none: nothing to recommend, an empty answer
    own = {person.id, (person.email or "").lower()}
    mentors: dict[str, dict[str, Any]] = {}
    articles: dict[str, dict[str, Any]] = {}
    for topic in topics:
        result = answerer.answer(topic, limit=10, experts=20, filters=filters)
        for expert in result["experts"]:
            candidate = people.get(expert["id"])
            # The same hard rules as the mentoring endpoints (search/mentoring_rules.py).
            if candidate is None or violations(person, candidate, Options(), people):
                continue
            entry = mentors.setdefault(expert["id"], {
                "id": expert["id"], "name": expert["name"], "title": expert["title"],
                "department": expert["department"], "location": expert["location"],
                "capacity": candidate.mentoring_capacity, "score": 0.0, "reasons": []})
            entry["score"] = round(entry["score"] + expert["score"], 6)
            entry["reasons"].append({"topic": topic, "why": expert["why"]})
        for article in result["articles"]:
            if {a.lower() for a in article["authors"]} & own or article["id"] in articles:
                continue
            articles[article["id"]] = {**article, "topic": topic,
                                       "reason": f"matches your goal '{topic}'"}
    ranked = sorted(mentors.values(), key=lambda m: (-m["score"], m["id"]))
    # Documents in the order of the goals (the first goal first), best first within one.
    order = {topic: i for i, topic in enumerate(topics)}
    docs = sorted(articles.values(), key=lambda a: (order[a["topic"]], -a["score"], a["id"]))
    return Recommendation(
        employee=person.id if person.id in people else None, topics=topics,
        mentors=ranked[:limit],
        articles=[a for a in docs if a["kind"] != "lesson"][:limit],
        lessons=[a for a in docs if a["kind"] == "lesson"][:limit])
