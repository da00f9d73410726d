"""GET /api/search and /api/experts: what the search box calls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, Reader, State
from api.schemas import SearchResponse
from indexer.records import Filters

router = APIRouter(prefix="/api", tags=["search"])

Text = Annotated[str, Query(min_length=1, max_length=10_000, pattern=r"\S",
                           description="The query (not blank).")]
Many = Annotated[list[str], Query()]
Day = Annotated[dt.date | None, Query()]


def _filters(kind: list[str], tag: list[str], department: list[str], language: list[str],
             updated_after: dt.date | None, updated_before: dt.date | None) -> Filters:
    return Filters(kinds=tuple(kind), tags=tuple(tag), departments=tuple(department),
                   languages=tuple(language),
                   updated_after=updated_after.isoformat() if updated_after else None,
                   updated_before=updated_before.isoformat() if updated_before else None)


def _answer(state: State, caller: Caller, query: str, **options: Any) -> dict[str, Any]:
    state.warm_up()
    with state.lock:
        return state.current().answer(query, **options)


@router.get("/search", response_model=SearchResponse)
def search(state: State, caller: Reader, q: Text,
           limit: Annotated[int, Query(ge=1, le=100)] = 10,
           offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
           experts: Annotated[int, Query(ge=0, le=100)] = 5,
           kind: Many = [], tag: Many = [], department: Many = [],  # noqa: B006
           language: Many = [], updated_after: Day = None,  # noqa: B006
           updated_before: Day = None) -> dict[str, Any]:
    """Articles and lessons for a query, with the people who know about it."""
    filters = caller.filters(_filters(kind, tag, department, language, updated_after,
                                      updated_before))
    return _answer(state, caller, q, limit=limit, offset=offset, experts=experts,
                   filters=filters)


@router.get("/experts", response_model=SearchResponse)
def experts(state: State, caller: Reader, q: Text,
            limit: Annotated[int, Query(ge=1, le=100)] = 10,
            kind: Many = [], tag: Many = [], department: Many = [],  # noqa: B006
            language: Many = [], updated_after: Day = None,  # noqa: B006
            updated_before: Day = None) -> dict[str, Any]:
    """People who know about a topic, each with the evidence the caller may read."""
    filters = caller.filters(_filters(kind, tag, department, language, updated_after,
                                      updated_before))
    return _answer(state, caller, q, limit=limit, filters=filters, articles=False)
