"""The expertise map for programme admins: where knowledge is thin, where it sits,
and whether mentoring supply meets demand.

- Topics are skill names and document tags, one topic per spelling
  ("machine-learning" is "Machine Learning"). Someone knows a topic when they list
  it at ``expert_level`` or above, or wrote a document tagged with it. Everyone
  counts here, opted out or not: the map is about what the company knows, and it
  names nobody.
- Demand is the goals people state, each read as the skill or tag it names
  ("get better at public speaking" is "Public Speaking"); supply is the mentors
  who are available, visible, have places, and list that skill at level 3 or above.
- Per department and location: its experts, how many topics it holds an expert
  in, how many only it does (where the knowledge would leave with the group), and
  its mentors and their places.
- Counts are given only for groups of at least ``min_group`` people (a department,
  a location, the people who want a topic); smaller groups are named in
  ``suppressed`` without numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from indexer.records import Person
from search.mentoring.fit import TEACH_LEVEL as MENTOR_LEVEL
from search.mentoring.fit import DocInfo

MIN_GROUP = 5
EXPERT_LEVEL = 4
_WORDS = re.compile(r"[^\W_]+")


def topic_key(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


def expertise_map(people: Mapping[str, Person], documents: Mapping[str, DocInfo],
                  by_author: Mapping[str, Sequence[str]], min_group: int = MIN_GROUP,
                  expert_level: int = EXPERT_LEVEL) -> dict[str, Any]:
    """Bus-factor topics, experts per department and location, mentoring supply and demand."""
    names, knowers = _topics(people, documents, by_author, expert_level)
    departments, small_departments = _groups(people, "department", names, knowers, min_group)
    locations, small_locations = _groups(people, "location", names, knowers, min_group)
    demand, small_topics, unmet = _supply_demand(people, names, min_group)
    return {
        "min_group_size": min_group, "expert_level": expert_level,
        "people": len(people) if len(people) >= min_group else None,
        "topics": {"total": len(names),
                   "no_expert": sorted(names[k] for k in names if not knowers.get(k)),
                   "one_expert": sorted(names[k] for k in names if len(knowers.get(k, ())) == 1)},
        "departments": departments, "locations": locations,
        "supply_demand": demand, "unmet_demand": unmet,
        "suppressed": {"departments": small_departments, "locations": small_locations,
                       "topics": small_topics},
        "note": f"counts are given only for groups of at least {min_group} people; smaller "
                "groups are listed under suppressed without numbers"}


def _topics(people: Mapping[str, Person], documents: Mapping[str, DocInfo],
            by_author: Mapping[str, Sequence[str]], expert_level: int
            ) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Topic key -> display name, and topic key -> ids of the people who know it."""
    names: dict[str, str] = {}
    knowers: dict[str, set[str]] = {}
    for person in people.values():
        for skill in person.skills:
            key = topic_key(skill.name)
            if key:
                names.setdefault(key, skill.name)
                if skill.level >= expert_level:
                    knowers.setdefault(key, set()).add(person.id)
    for doc in documents.values():
        for tag in doc.tags:
            if topic_key(tag):
                names.setdefault(topic_key(tag), tag)
    for pid, docs in by_author.items():
        if pid not in people:
            continue  # an author with no person record is nobody to ask
        for doc_id in docs:
            for tag in documents[doc_id].tags if doc_id in documents else ():
                knowers.setdefault(topic_key(tag), set()).add(pid)
    return names, knowers


def _groups(people: Mapping[str, Person], attr: str, names: Mapping[str, str],
            knowers: Mapping[str, set[str]], min_group: int
            ) -> tuple[list[dict[str, Any]], list[str]]:
    """Per department (or location): people, experts, the topics they hold, mentors."""
    members: dict[str, list[Person]] = {}
    for person in people.values():
        value = getattr(person, attr)
        if value:
            members.setdefault(value.strip(), []).append(person)
    shown, small = [], []
    for name, group in sorted(members.items()):
        if len(group) < min_group:
            small.append(name)
            continue
        ids = {p.id for p in group}
        held = {k: len(who & ids) for k, who in knowers.items() if who & ids}
        only_here = [k for k in held if knowers[k] <= ids]
        mentors = [p for p in group if p.in_mentor_pool()]
        shown.append({"name": name, "people": len(group),
                      "experts": len(ids & {pid for who in knowers.values() for pid in who}),
                      "topics": len(held), "topics_only_here": len(only_here),
                      "top_topics": [names[k] for k in sorted(held, key=lambda k: (-held[k], k))
                                     [:5]],
                      "mentors": len(mentors),
                      "places": sum(p.mentoring_capacity for p in mentors)})
    return shown, small


def _supply_demand(people: Mapping[str, Person], names: Mapping[str, str], min_group: int
                   ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    skills = {topic_key(s.name) for p in people.values() for s in p.skills}
    wanted: dict[str, set[str]] = {}
    shown = dict(names)
    for person in people.values():
        for goal in person.goals:
            key = goal_topic(goal, names, skills)
            if key:
                wanted.setdefault(key, set()).add(person.id)
                shown.setdefault(key, goal.strip())  # a goal that names no known topic
    offered: dict[str, list[Person]] = {}
    for person in people.values():
        if person.in_mentor_pool():
            for skill in person.skills:
                if skill.level >= MENTOR_LEVEL:
                    offered.setdefault(topic_key(skill.name), []).append(person)
    rows, small, unmet = [], [], []
    for key, who in sorted(wanted.items(), key=lambda x: (-len(x[1]), x[0])):
        mentors = offered.get(key, [])
        places = sum(p.mentoring_capacity for p in mentors)
        name = shown[key]
        if not mentors:
            unmet.append(name)
        if len(who) < min_group:
            small.append(name)
            continue
        rows.append({"topic": name, "wanted_by": len(who), "mentors": len(mentors),
                     "places": places, "status": "no mentor" if not mentors else
                     "short" if places < len(who) else "covered"})
    return rows, sorted(small), sorted(unmet)


def goal_topic(goal: str, names: Mapping[str, str], skills: Set[str] = frozenset()) -> str:
    """The topic a goal names: the longest phrase inside it (a skill before a tag, then
    the earliest), else the goal itself."""
    key = topic_key(goal)
    if key in names:
        return key
    words = f" {key} "
    inside: Iterable[str] = (k for k in names if f" {k} " in words)
    return max(inside, key=lambda k: (len(k.split()), k in skills, -words.index(f" {k} ")),
               default=key)
