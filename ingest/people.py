"""Person records (pure): a field mapping from JSON, YAML or CSV in, a Person out."""

from __future__ import annotations

from typing import Any

from indexer.errors import InvalidRecord
from indexer.records import Person, Skill
from ingest.fields import as_bool, as_list, as_number, as_text, require_id


def parse_person(record: dict[str, Any], source: str | None = None) -> Person:
    name = as_text(record.get("name"))
    if not name:
        raise InvalidRecord("a person needs a name")
    mentoring = record.get("mentoring") or {}
    if not isinstance(mentoring, dict):
        raise InvalidRecord("mentoring must be a mapping like {available: true, capacity: 2}")
    available = as_bool(mentoring.get("available", record.get("mentoring_available")), False)
    capacity = as_number(mentoring.get("capacity", record.get("mentoring_capacity")),
                         "mentoring capacity")
    return Person(
        id=require_id(record.get("id"), None), name=name, email=as_text(record.get("email")),
        title=as_text(record.get("title")), department=as_text(record.get("department")),
        location=as_text(record.get("location")), timezone=as_text(record.get("timezone")),
        languages=tuple(x.lower() for x in as_list(record.get("languages"))),
        manager_id=as_text(record.get("manager_id")),
        seniority=as_number(record.get("seniority"), "seniority"),
        skills=parse_skills(record.get("skills")), goals=as_list(record.get("goals"), sep=";"),
        bio=as_text(record.get("bio")), mentoring_available=available,
        mentoring_capacity=int(capacity if capacity is not None else (1 if available else 0)),
        visible=as_bool(record.get("visible"), True), source=source,
        aliases=as_list(record.get("aliases")))


def parse_skills(value: Any) -> tuple[Skill, ...]:
    """Skills from a list of mappings or strings, or a CSV cell ``Kafka:5:6;Python:4``."""
    if value is None or value == "":
        return ()
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidRecord("skills must be a list")
    return tuple(_skill(item) for item in items if item not in (None, ""))


def _skill(item: Any) -> Skill:
    if isinstance(item, dict):
        name, level, years = item.get("name"), item.get("level", 3), item.get("years")
    else:
        name, _, rest = str(item).partition(":")
        level_text, _, years_text = rest.partition(":")
        level, years = level_text or 3, years_text or None
    name = as_text(name)
    if not name:
        raise InvalidRecord(f"a skill needs a name: {item!r}")
    level_num = as_number(level, f"level of skill {name}")
    if level_num is None or not 1 <= level_num <= 5:
        raise InvalidRecord(f"skill {name} has level {level!r}; levels run from 1 to 5")
    return Skill(name=name, level=int(level_num), years=as_number(years, f"years of {name}"))
