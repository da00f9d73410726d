"""Recommendations for one employee: mentors, articles and lessons for their goals.

"Who can mentor me in X" has one answer everywhere: the mentors are those of
``search.mentoring.mentors.find_mentors`` (the hard rules of mentoring, the fit to each
goal and the reasons), whether the LMS asks the recommendations endpoint, the
mentoring endpoint or the page. Reading is ``reading_list``: for each goal (and
each skill held only at level 1-2, a gap) the best articles and lessons that are
close in meaning to it (the floor that ``weak_match`` uses, and a margin above the
goal's cosine to the corpus as a whole: search/closeness.py), not written by the
employee themself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.records import Filters, Person
from search.answers import Answerer
from search.mentoring.fit import GAP_LEVEL, explain
from search.mentoring.fit import topics_of as mentoring_topics
from search.mentoring.mentors import MentorCatalog, find_mentors
from search.mentoring.rules import Options, manager_chain

__all__ = ["GAP_LEVEL", "Recommendation", "manager_chain", "reading_list", "recommend",
           "topics_of"]


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


def recommend(answerer: Answerer, catalog: MentorCatalog, person: Person,
              people: Mapping[str, Person], filters: Filters | None = None,
              limit: int = 5) -> Recommendation:
    """Mentors, articles and lessons for ``person``'s goals (none: an empty answer)."""
    topics = topics_of(person)
    found = find_mentors(catalog, person, Options(), filters, limit, people) if topics else {}
    mentors = [_mentor(m) for m in found.get("mentors", [])]
    reading = reading_list(answerer, person, topics, filters, per_topic=10, limit=None)
    return Recommendation(
        employee=person.id if person.id in people else None, topics=topics, mentors=mentors,
        articles=[a for a in reading if a["kind"] != "lesson"][:limit],
        lessons=[a for a in reading if a["kind"] == "lesson"][:limit])


def reading_list(answerer: Answerer, person: Person, topics: list[str],
                 filters: Filters | None = None, per_topic: int = 3,
                 limit: int | None = 6) -> list[dict[str, Any]]:
    """The best articles and lessons per topic, in the order of the topics (the first
    goal first), each close in meaning to its topic and not written by ``person``."""
    own = {person.id.lower(), (person.email or "").lower()}
    found: dict[str, dict[str, Any]] = {}
    for topic in topics:
        result = answerer.answer(topic, limit=per_topic, experts=0, filters=filters)
        line = answerer.close_line(topic)
        for article in result["articles"]:
            if (article["id"] in found or {a.lower() for a in article["authors"]} & own
                    or article["dense_score"] < line):
                continue
            found[article["id"]] = {**article, "topic": topic,
                                    "reason": f"matches your goal '{topic}'"}
    reading = list(found.values())
    return reading if limit is None else reading[:limit]


def _mentor(match: dict[str, Any]) -> dict[str, Any]:
    """A mentor of ``find_mentors`` as a recommendation: the fit as score, and one reason
    per goal covered, in the words of the mentoring endpoints."""
    return {"id": match["id"], "name": match["name"], "title": match["title"],
            "department": match["department"], "location": match["location"],
            "capacity": match["capacity"], "score": match["fit"],
            "reasons": [{"topic": c["topic"], "why": explain([c], [])}
                        for c in match["covers"]]}
