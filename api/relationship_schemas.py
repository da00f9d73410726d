"""Request and response shapes of the mentoring relationship endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.mentoring_schemas import Id, Int, Strict, Text

# JSON has no dates: these read ISO strings (strict mode would refuse every string).
Date = Annotated[dt.date, Field(strict=False)]
Moment = Annotated[dt.datetime, Field(strict=False)]


class RelationshipIn(Strict):
    mentor: Id
    mentees: list[Id] = Field(min_length=1, max_length=50,
                              description="One mentee; several in mode group")
    mode: Literal["standard", "reverse", "group"] = "standard"
    goals: list[Text] | None = Field(
        None, max_length=20, description="Default: the mentees' goals from their profiles")
    source: Literal["suggestion", "cohort", "request"] = "suggestion"
    requested_at: Moment | None = Field(
        None, description="When the mentee asked for a mentor (default: now); the report "
        "measures the time from request to match from it")


class StateIn(Strict):
    state: Literal["active", "completed", "declined", "ended"]
    reason: str | None = Field(None, max_length=2000,
                               description="Required for declined and ended")


class SwapIn(Strict):
    mentor: Id
    reason: str = Field(min_length=1, max_length=2000)


class GoalIn(Strict):
    text: Text
    mentee: Id | None = Field(None, description="Default: the first mentee")


class MilestoneIn(Strict):
    title: Text
    due: Date | None = None


class CheckinIn(Strict):
    date: Date
    notes: str = Field("", max_length=20_000,
                       description="Shown only to the pair and admins")
    goals: list[Int] = Field(default_factory=list, max_length=50,
                             description="Ids of the goals this check-in touched")


class GoalReached(Strict):
    goal: Int
    reached: bool


class OutcomeIn(Strict):
    person: Id = Field(description="Who rates: a member of the relationship (a key bound to "
                       "a person rates for that person only)")
    rating: Int = Field(ge=1, le=5)
    reached: list[GoalReached] = Field(default_factory=list, max_length=100,
                                       description="Per goal, whether it was reached")
    confirm_skills: bool = Field(False, description="The mentee agrees that their reached "
                                 "goals are listed as confirmed skills")


class GoalOut(BaseModel):
    id: int
    mentee: str
    text: str


class RelationshipOut(BaseModel):
    id: str
    mode: str
    mentor: str
    mentees: list[str]
    state: str
    source: str
    created_at: str
    created_by: str
    requested_at: str
    activated_at: str | None = None
    ended_at: str | None = None
    end_reason: str | None = None
    goals: list[GoalOut]
    last_checkin: str | None = None
    quiet_since: str | None = None


class RelationshipDetail(RelationshipOut):
    milestones: list[dict[str, Any]]
    checkins: list[dict[str, Any]]
    notes_shown: bool
    ratings: list[dict[str, Any]]
    history: list[dict[str, Any]]


class Created(BaseModel):
    id: int


class ChangesOut(BaseModel):
    changes: list[dict[str, Any]]
    next: int = Field(description="The cursor to send as after= next time")
    more: bool = Field(description="More changes are waiting: ask again at once")
