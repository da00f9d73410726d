"""Mentoring: mentors for one employee, and one global match for a cohort."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, Reader, State, require
from api.mentoring_schemas import MatchIn, MatchOut, MentorsIn, MentorsOut, ProfileIn
from indexer.errors import Conflict, NotFound
from indexer.records import Filters, Person, Skill
from search.matching import match_cohort
from search.mentoring import MentorCatalog, find_mentors
from search.mentoring_fit import FitWeights
from search.mentoring_rules import Options

router = APIRouter(prefix="/api/mentoring", tags=["mentoring"])
Lms = Annotated[Caller, Depends(require("lms"))]
Mode = Literal["standard", "reverse", "group"]


@router.get("/mentors/{employee_id}", response_model=MentorsOut)
def mentors_for_employee(
    employee_id: str, state: State, caller: Lms,
    mode: Mode = "standard",
    cross_functional: Annotated[bool, Query(description="Another department only")] = False,
    min_seniority_gap: Annotated[float | None, Query(
        ge=-80, le=80, description="Years the mentor has more than the mentee, at least "
        "(reverse mode: fewer)")] = None,
    max_seniority_gap: Annotated[float | None, Query(ge=-80, le=80)] = None,
    shared_language: bool = False,
    max_timezone_hours: Annotated[float | None, Query(ge=0, le=24)] = None,
    same_location: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> dict[str, Any]:
    """Mentors for an indexed employee, best fit first, each with the reason."""
    options = Options(mode, cross_functional, min_seniority_gap, max_seniority_gap,
                      shared_language, max_timezone_hours, same_location)
    state.warm_up()
    with state.lock:
        catalog = state.catalog()
        people = catalog.people()
        if employee_id not in people:
            raise NotFound(f"no employee with id {employee_id!r}",
                           "check the id with GET /api/people/{id}")
        return find_mentors(catalog, people[employee_id], options, caller.filters(),
                            limit, people)


@router.post("/mentors", response_model=MentorsOut)
def mentors_for_profile(body: MentorsIn, state: State, caller: Reader) -> dict[str, Any]:
    """The same for an inline profile (someone not yet indexed)."""
    options = Options(body.mode, **body.constraints.model_dump())
    state.warm_up()
    with state.lock:
        catalog = state.catalog()
        people = catalog.people()
        mentee = to_person(body.profile)
        people.pop(mentee.id, None)  # the inline profile stands for that person here
        return find_mentors(catalog, mentee, options, caller.filters(), body.limit, people)


@router.post("/match", response_model=MatchOut)
def match(body: MatchIn, state: State, caller: Lms) -> dict[str, Any]:
    """One global assignment of a cohort's mentees to mentors; see docs/mentoring.md."""
    state.warm_up()
    with state.lock:
        return run_match(body, state.catalog(), caller.filters())


def run_match(body: MatchIn, catalog: MentorCatalog, filters: Filters | None) -> dict[str, Any]:
    """Resolve ids and inline profiles, then solve (shared by the API and the CLI)."""
    stored = catalog.people()
    mentees = resolve(body.mentees, stored, "mentee")
    if body.mentors is None:
        mentors = sorted((p for p in stored.values() if p.in_mentor_pool()),
                         key=lambda p: p.id)
    else:
        mentors = resolve(body.mentors, stored, "mentor")
    options = Options(body.mode, **body.constraints.model_dump())
    return match_cohort(
        catalog.model, mentees, mentors, stored, options, body.capacities,
        [(p.mentee, p.mentor) for p in body.past_pairs], body.objective, body.min_fit,
        catalog.expertise(filters), FitWeights(**body.weights.model_dump()))


def resolve(items: list[str | ProfileIn], stored: dict[str, Person], role: str) -> list[Person]:
    """People from ids (indexed) or inline profiles; unknown ids are one clear error."""
    out, unknown = [], []
    for item in items:
        if isinstance(item, str):
            if item in stored:
                out.append(stored[item])
            else:
                unknown.append(item)
        elif item.id in stored:
            raise Conflict(f"inline {role} {item.id!r} has the id of an indexed person",
                               "refer to indexed people by id, or give the profile a new id")
        else:
            out.append(to_person(item, available=role == "mentor"))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise NotFound(f"unknown {role} id(s): {shown}{more}",
                       "check the ids with GET /api/people/{id}, or give inline profiles")
    return out


def to_person(profile: ProfileIn, available: bool = False) -> Person:
    capacity = profile.mentoring_capacity
    return Person(
        id=profile.id, name=profile.name, department=profile.department,
        location=profile.location, timezone=profile.timezone,
        languages=tuple(x.casefold() for x in profile.languages),
        manager_id=profile.manager_id, seniority=profile.seniority,
        skills=tuple(Skill(s.name, s.level) for s in profile.skills),
        goals=tuple(profile.goals),
        mentoring_available=available if profile.mentoring_available is None
        else profile.mentoring_available,
        mentoring_capacity=(1 if available else 0) if capacity is None else capacity)
