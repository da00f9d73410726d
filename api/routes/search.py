"""GET /api/search and /api/experts: what the search box calls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Caller, Reader, State
from api.learning import after_search
from api.schemas import SearchResponse
from indexer.errors import InvalidRecord
from indexer.records import Filters
from search.filters import check_filters


class InvalidParameter(InvalidRecord):
    """A parameter that has the right shape but no meaning (422, like any invalid input)."""

router = APIRouter(prefix="/api", tags=["search"])

Text = Annotated[str, Query(min_length=1, max_length=10_000, pattern=r"\S",
                           description="The query (not blank).")]
Many = Annotated[list[str], Query()]
Exact = Annotated[bool, Query(description=(
    "Search the query as typed: no word is corrected (see corrected_query)."))]
# A string with the date format rather than a date: pydantic would also take a number
# as a timestamp, which the schema (format: date) does not allow.
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$",
                                  json_schema_extra={"format": "date"})]


def _filters(kind: list[str], tag: list[str], department: list[str], language: list[str],
             updated_after: str | None, updated_before: str | None,
             location: list[str]) -> Filters:
    return Filters(kinds=tuple(kind), tags=tuple(tag), departments=tuple(department),
                   languages=tuple(language), locations=tuple(location),
                   updated_after=_day("updated_after", updated_after),
                   updated_before=_day("updated_before", updated_before))


def _day(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InvalidParameter(f"{name} is not a real date: {value!r}",
                               "use YYYY-MM-DD, e.g. 2025-01-31") from exc


def _answer(state: State, caller: Caller, query: str, filters: Filters,
            **options: Any) -> JSONResponse:
    answerer = state.current()
    with state.lock:
        check_filters(state.runtime.store, filters)
        result = answerer.answer(query, filters=filters, **options)
    after_search(state, caller, result)  # spreading (optional) and the search log
    # Returned as is: the answer is built to the SearchResponse shape (the schema tests
    # check every response against it), and re-validating it costs milliseconds a query.
    return JSONResponse(result)


@router.get("/search", response_model=SearchResponse)
def search(state: State, caller: Reader, q: Text,
           limit: Annotated[int, Query(ge=1, le=100)] = 10,
           offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
           experts: Annotated[int, Query(ge=0, le=100)] = 5,
           kind: Many = [], tag: Many = [], department: Many = [],  # noqa: B006
           language: Many = [], updated_after: Day = None,  # noqa: B006
           updated_before: Day = None, location: Many = [],  # noqa: B006
           exact: Exact = False) -> JSONResponse:
    """Articles and lessons for a query, with the people who know about it
    (``location`` narrows the people only: a document has no place). A filter value
    nothing the caller may read has is a 400 that lists the valid ones."""
    filters = caller.filters(_filters(kind, tag, department, language, updated_after,
                                      updated_before, location))
    return _answer(state, caller, q, limit=limit, offset=offset, experts=experts,
                   filters=filters, exact=exact)


@router.get("/experts", response_model=SearchResponse)
def experts(state: State, caller: Reader, q: Text,
            limit: Annotated[int, Query(ge=1, le=100)] = 10,
            kind: Many = [], tag: Many = [], department: Many = [],  # noqa: B006
            language: Many = [], updated_after: Day = None,  # noqa: B006
            updated_before: Day = None, location: Many = [],  # noqa: B006
            exact: Exact = False) -> JSONResponse:
    """People who know about a topic, each with the evidence the caller may read."""
    filters = caller.filters(_filters(kind, tag, department, language, updated_after,
                                      updated_before, location))
    return _answer(state, caller, q, limit=limit, filters=filters, articles=False, exact=exact)
