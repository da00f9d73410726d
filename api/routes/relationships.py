"""Mentoring relationships over time: create, change, check in, rate, follow, report.

The rules (states, who may do what, places, privacy) are in
``search.mentoring.relationships``; this router shapes requests and answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from api.deps import Admin, Caller, Reader, State, require
from api.relationship_schemas import (
    ChangesOut,
    CheckinIn,
    Created,
    GoalIn,
    MilestoneIn,
    OutcomeIn,
    RelationshipDetail,
    RelationshipIn,
    RelationshipOut,
    StateIn,
    SwapIn,
)
from api.state import ServerState
from indexer.errors import NotFound
from indexer.relationships import Relationships
from search.mentoring import relationships as rel
from search.mentoring.report import MIN_GROUP, programme_report, report_csv

router = APIRouter(prefix="/api/mentoring", tags=["mentoring relationships"])
Lms = Annotated[Caller, Depends(require("lms"))]
Path_ = Annotated[str, "relationship id"]


def actor(caller: Caller) -> rel.Actor:
    return rel.Actor(caller.role, caller.person)


def _people(state: ServerState) -> dict:
    return state.runtime.store.get_people()


# POST on a path of its own: two routes on one path answer OPTIONS with half the methods.
@router.post("/proposals", response_model=RelationshipOut, status_code=201)
def create_relationship(body: RelationshipIn, state: State, caller: Reader) -> dict[str, Any]:
    """Propose a relationship (the LMS or an admin for anyone; a person for themself).
    The mentor's places are checked and taken in one transaction: 409 when full."""
    requested = None if body.requested_at is None else _utc(body.requested_at)
    found = rel.create(state.runtime.store, _people(state), actor(caller), body.mentor,
                       body.mentees, body.mode, body.goals, body.source, requested)
    return {**found.to_dict(), "last_checkin": None, "quiet_since": None}


@router.get("/relationships", response_model=list[RelationshipOut])
def list_relationships(
    state: State, caller: Reader,
    status: Annotated[str | None, Query(alias="state", description="proposed, active, "
                                        "completed, declined or ended")] = None,
    person: Annotated[str | None, Query(description="As mentor or mentee")] = None,
    stalled_after_days: Annotated[int | None, Query(
        ge=1, le=3650, description="Only active ones with no check-in for this long")] = None,
) -> list[dict[str, Any]]:
    """The relationships the caller may see, newest first."""
    return rel.listing(state.runtime.store, _people(state), actor(caller), status, person,
                       stalled_after_days)


@router.get("/relationships/{rel_id}", response_model=RelationshipDetail)
def get_relationship(rel_id: Path_, state: State, caller: Reader) -> dict[str, Any]:
    """Goals, milestones, check-ins (notes only for the pair and admins), ratings and
    every change with who and when."""
    store = state.runtime.store
    found = rel.detail(store, _people(state), actor(caller), rel_id)
    last = Relationships(store).last_checkins().get(rel_id)
    return {**found, "last_checkin": last,
            "quiet_since": rel.stalled_since(Relationships(store).get(rel_id), last)}


@router.post("/relationships/{rel_id}/state", response_model=RelationshipOut)
def change_state(rel_id: Path_, body: StateIn, state: State, caller: Reader) -> dict[str, Any]:
    """proposed -> active or declined; active -> completed or ended (declined and ended
    need a reason)."""
    found = rel.transition(state.runtime.store, _people(state), actor(caller), rel_id,
                           body.state, body.reason)
    return found.to_dict()


@router.post("/relationships/{rel_id}/mentor", response_model=RelationshipOut)
def swap_mentor(rel_id: Path_, body: SwapIn, state: State, caller: Admin) -> dict[str, Any]:
    """An admin gives a proposed match another mentor: the rules and places are checked,
    the reason is kept in the history."""
    found = rel.swap_mentor(state.runtime.store, _people(state), actor(caller), rel_id,
                            body.mentor, body.reason)
    return found.to_dict()


@router.post("/relationships/{rel_id}/goals", response_model=Created, status_code=201)
def add_goal(rel_id: Path_, body: GoalIn, state: State, caller: Reader) -> dict[str, int]:
    """Another goal of a mentee of the relationship (the pair, the LMS, an admin)."""
    return {"id": rel.add_goal(state.runtime.store, _people(state), actor(caller), rel_id,
                               body.text, body.mentee)}


@router.post("/relationships/{rel_id}/goals/{goal_id}/milestones", response_model=Created,
             status_code=201)
def add_milestone(rel_id: Path_, goal_id: int, body: MilestoneIn, state: State,
                  caller: Reader) -> dict[str, int]:
    """A milestone of one of the relationship's goals, with an optional due date."""
    due = None if body.due is None else body.due.isoformat()
    return {"id": rel.add_milestone(state.runtime.store, _people(state), actor(caller),
                                    rel_id, goal_id, body.title, due)}


@router.post("/relationships/{rel_id}/milestones/{milestone_id}/done", status_code=204)
def complete_milestone(rel_id: Path_, milestone_id: int, state: State,
                       caller: Reader) -> None:
    """The milestone is reached (once)."""
    rel.complete_milestone(state.runtime.store, _people(state), actor(caller), rel_id,
                           milestone_id)


@router.post("/relationships/{rel_id}/checkins", response_model=Created, status_code=201)
def check_in(rel_id: Path_, body: CheckinIn, state: State, caller: Reader) -> dict[str, int]:
    """A check-in of an active relationship: its date, notes (seen by the pair and
    admins only) and the goals it touched."""
    return {"id": rel.check_in(state.runtime.store, _people(state), actor(caller), rel_id,
                               body.date.isoformat(), body.notes, body.goals)}


@router.post("/relationships/{rel_id}/outcome", status_code=204)
def rate(rel_id: Path_, body: OutcomeIn, state: State, caller: Reader) -> None:
    """One side's rating (1-5) and, per goal, whether it was reached; once per person."""
    reached = {g.goal: g.reached for g in body.reached}
    rel.rate(state.runtime.store, _people(state), actor(caller), rel_id, body.person,
             body.rating, reached, body.confirm_skills)


@router.get("/people/{person_id}/confirmed-skills")
def confirmed_skills(person_id: str, state: State, caller: Reader) -> list[dict[str, Any]]:
    """Goals the person reached in mentoring and agreed to list as skills."""
    person = _people(state).get(person_id)
    if person is None or not person.visible:
        raise NotFound(f"no person with id {person_id!r}")
    return Relationships(state.runtime.store).confirmed_skills(person_id)


@router.get("/changes", response_model=ChangesOut)
def changes(state: State, caller: Lms,
            after: Annotated[int, Query(ge=0, description="The cursor of the last change "
                                        "read (0: from the start)")] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Every change after the cursor, oldest first, for an LMS that polls; never notes,
    never a relationship of someone who opted out."""
    return rel.changes(state.runtime.store, _people(state), after, limit)


Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$",
                                  description="A date, YYYY-MM-DD (inclusive)")]


@router.get("/report", responses={200: {
    "description": "The report (JSON), or with format=csv one figure per row",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}})
def report(state: State, caller: Lms, department: Annotated[str | None, Query(
               max_length=200)] = None,
           location: Annotated[str | None, Query(max_length=200)] = None,
           since: Day = None, until: Day = None,
           stalled_after_days: Annotated[int, Query(ge=1, le=3650)] = rel.STALLED_DAYS,
           min_group_size: Annotated[int, Query(ge=MIN_GROUP, le=1000)] = MIN_GROUP,
           format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
    """The programme report for L&D, aggregates only; format=csv for a spreadsheet."""
    found = programme_report(state.runtime.store, _people(state), department, location,
                             since, until, stalled_after_days, min_group_size)
    if format == "csv":
        return PlainTextResponse(report_csv(found), media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="mentoring-report.csv"'})
    return found


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
