"""Analytics of the learning loop for L&D and admins (the expertise map is analytics.py):
searches and knowledge gaps, load on experts, topic coverage, the expertise network."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Admin, Caller, State
from api.state import ServerState
from indexer.dates import document_dates
from indexer.feedback import FeedbackLog
from indexer.profiles import ProfileBook
from indexer.query_log import QueryLog
from indexer.records import may_read
from search.analytics import expert_load, expertise_network, search_topics, topic_coverage
from search.profile import apply_choices, excluded_topics

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


def _since(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")


@router.get("/searches", response_model=SearchesOut)
def searches(state: State, caller: Admin, days: Days = 30) -> dict[str, Any]:
    """What people search most, grouped by topic, and the knowledge gaps: topics whose
    searches found nothing close (weak matches), whose results nobody opened or liked,
    or that readers said were not about it. A topic shows only once several people asked
    it (``WHOKNOWS_MIN_ASKERS``); who asked is never stored."""
    store = state.runtime.store
    entries = QueryLog(store).entries(_since(days))
    topics = search_topics(entries, FeedbackLog(store).votes(_since(days)),
                           state.runtime.settings.min_askers)
    return {"days": days, "searches": len(entries),
            "min_askers": state.runtime.settings.min_askers, "topics": topics,
            "gaps": [t for t in topics if t["gap"]]}


@router.get("/load", response_model=LoadOut)
def load(state: State, caller: Admin, days: Days = 30) -> dict[str, Any]:
    """Who is suggested how often (and first): the load on experts."""
    store = state.runtime.store
    entries = QueryLog(store).entries(_since(days))
    return {"days": days, "searches": len(entries),
            "people": expert_load(entries, store.get_people())}


@router.get("/coverage", response_model=CoverageOut)
def coverage(state: State, caller: Admin) -> dict[str, Any]:
    """Topics (document tags) with no active expert or one, with evidence ageing applied
    (``WHOKNOWS_EVIDENCE_HALF_LIFE_DAYS``), people's hidden and opted-out topics, and
    the authors who have left (no longer in the people records)."""
    half_life = state.runtime.settings.evidence_half_life_days
    return {"half_life_days": half_life,
            "topics": topic_coverage(*_evidence(state, caller), half_life,
                                     dt.datetime.now(dt.UTC).date())}


@router.get("/network", response_model=NetworkOut)
def network(state: State, caller: Admin,
            by: Annotated[Literal["department", "location"], Query()] = "department"
            ) -> dict[str, Any]:
    """Departments or locations connected through topics their people wrote on, the
    network's density, and its density at the end of each year."""
    tags, authors, dates, people, _ = _evidence(state, caller)
    return expertise_network(tags, authors, dates, people, by)


def _evidence(state: ServerState, caller: Caller) -> tuple[Any, ...]:
    """Tags of the documents the caller may read, their authors, dates, the people as
    their choices leave them, and the topics each hid or opted out of."""
    store = state.runtime.store
    with state.lock:
        labels = store.document_labels()
        tags = {d: t for d, (_, t, groups) in labels.items() if may_read(groups, caller.groups)}
        authors = store.authors_by_document()
        choices = ProfileBook(store).choices()
        people = {pid: apply_choices(p, choices.get(pid))
                  for pid, p in store.get_people().items()}
        dates = document_dates(store)
    excluded = {pid: excluded_topics(c) for pid, c in choices.items()}
    return tags, authors, dates, people, excluded
