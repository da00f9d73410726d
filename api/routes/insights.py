"""Analytics of the learning loop for L&D and admins (the expertise map is analytics.py):
searches and knowledge gaps, load on experts, topic coverage, the expertise network."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api import learning
from api.deps import Admin, State

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
Days = Annotated[int, Query(ge=1, le=3650, description="Searches of the last N days")]


class SearchTopic(BaseModel):
    topic: str
    searches: int
    askers: int
    weak: int
    clicks: int
    helped: int
    not_about: int
    gap: bool


class SearchesOut(BaseModel):
    days: int
    searches: int
    min_askers: int
    topics: list[SearchTopic]
    gaps: list[SearchTopic]


class Load(BaseModel):
    id: str
    name: str
    suggested: int
    first: int
    share: float


class LoadOut(BaseModel):
    days: int
    searches: int
    people: list[Load]


class Named(BaseModel):
    id: str
    name: str


class Coverage(BaseModel):
    topic: str
    active_experts: int
    experts: list[Named]
    left: int
    risk: Literal["none", "one", "ok"]
    orphaned: bool


class CoverageOut(BaseModel):
    half_life_days: float
    topics: list[Coverage]


class Link(BaseModel):
    a: str
    b: str
    shared_topics: int
    mentoring: int = 0  # relationships (active or past) between their people


class Year(BaseModel):
    year: int
    groups: int
    links: int
    density: float


class NetworkOut(BaseModel):
    by: str
    groups: list[str]
    density: float
    links: list[Link]
    history: list[Year]


@router.get("/searches", response_model=SearchesOut)
def searches(state: State, caller: Admin, days: Days = 30) -> dict[str, Any]:
    """What people search most, grouped by topic, and the knowledge gaps: topics whose
    searches found nothing close (weak matches), whose results nobody opened or liked,
    or that readers said were not about it. A topic shows only once several people asked
    it (``WHOKNOWS_MIN_ASKERS``); who asked is never stored."""
    return learning.searches_report(state.runtime.store, state.runtime.settings, days)


@router.get("/load", response_model=LoadOut)
def load(state: State, caller: Admin, days: Days = 30) -> dict[str, Any]:
    """Who is suggested how often (and first): the load on experts."""
    return learning.load_report(state.runtime.store, days)


@router.get("/coverage", response_model=CoverageOut)
def coverage(state: State, caller: Admin) -> dict[str, Any]:
    """Topics (document tags) with no active expert or one, with evidence ageing applied
    (``WHOKNOWS_EVIDENCE_HALF_LIFE_DAYS``), people's hidden and opted-out topics, and
    the authors who have left (no longer in the people records)."""
    with state.lock:
        return learning.coverage_report(state.runtime.store, state.runtime.settings,
                                        caller.groups)


@router.get("/network", response_model=NetworkOut)
def network(state: State, caller: Admin,
            by: Annotated[Literal["department", "location"], Query()] = "department"
            ) -> dict[str, Any]:
    """Departments or locations connected through topics their people wrote on and
    mentoring relationships between them, the network's density, and its density at the
    end of each year."""
    with state.lock:
        return learning.network_report(state.runtime.store, by, caller.groups)
