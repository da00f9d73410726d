"""Recommendations for the learning platform: mentors, articles and lessons by goal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import Caller, Reader, State, require
from api.mentoring_schemas import Name
from api.schemas import RecommendationOut
from indexer.errors import NotFound
from ingest.people import parse_person
from search.recommendations import recommend

router = APIRouter(prefix="/api/recommendations", tags=["recommendations"])
Lms = Annotated[Caller, Depends(require("lms"))]


class SkillIn(BaseModel):
    name: Name
    level: int = Field(3, ge=1, le=5)


class ProfileIn(BaseModel):
    """Someone not yet indexed: what they know and what they want to learn."""

    name: Name = "new employee"
    department: str | None = Field(None, max_length=200)
    manager_id: str | None = Field(None, max_length=200)
    skills: list[SkillIn] = Field(default_factory=list, max_length=100)
    goals: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20)


@router.get("/{employee_id}", response_model=RecommendationOut)
def for_employee(employee_id: str, state: State, caller: Lms) -> dict[str, Any]:
    """Mentors, articles and lessons for an indexed employee's goals and skill gaps."""
    answerer = state.current()
    with state.lock:
        people = state.runtime.store.get_people()
        person = people.get(employee_id)
        if person is None:
            raise NotFound(f"no employee with id {employee_id!r}")
        return recommend(answerer, state.catalog(), person, people, caller.filters()).to_dict()


@router.post("", response_model=RecommendationOut)
def for_profile(profile: ProfileIn, state: State, caller: Reader) -> dict[str, Any]:
    """The same for an inline profile (someone not yet indexed)."""
    person = parse_person({"id": "inline", **profile.model_dump()})
    answerer = state.current()
    with state.lock:
        people = state.runtime.store.get_people()
        return recommend(answerer, state.catalog(), person, people, caller.filters()).to_dict()
