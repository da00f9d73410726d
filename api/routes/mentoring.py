"""Mentoring: mentors for one employee, and one global match for a cohort."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, Reader, State, require
from api.mentoring_schemas import MatchIn, MatchOut, MentorsIn, MentorsOut
from indexer.errors import NotFound
from indexer.records import Filters
from search.mentoring.cohort import match_people
from search.mentoring.mentors import MentorCatalog, find_mentors
from search.mentoring.relationships import Actor, propose_pairs
from search.mentoring.rules import Options

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
        mentee = body.profile.to_person()
        people.pop(mentee.id, None)  # the inline profile stands for that person here
        return find_mentors(catalog, mentee, options, caller.filters(), body.limit, people)


@router.post("/match", response_model=MatchOut)
def match(body: MatchIn, state: State, caller: Lms) -> dict[str, Any]:
    """One global assignment of a cohort's mentees to mentors; see docs/mentoring.md."""
    state.warm_up()
    with state.lock:
        result = run_match(body, state.catalog(), caller.filters())
    if body.propose:
        result["relationships"] = propose_pairs(
            state.runtime.store, state.catalog().people(),
            Actor(caller.role, caller.person), result["pairs"], body.mode)
    return result


def run_match(body: MatchIn, catalog: MentorCatalog, filters: Filters | None) -> dict[str, Any]:
    """The match a request body asks for (shared by the API and the CLI)."""
    return match_people(catalog, **body.arguments(), filters=filters)
