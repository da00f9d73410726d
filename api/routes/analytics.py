"""Analytics for programme admins: the expertise map."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Admin, State
from api.mentoring_schemas import ExpertiseMapOut
from search.mentoring.expertise_map import EXPERT_LEVEL, MIN_GROUP, expertise_map

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


@router.get("/expertise", response_model=ExpertiseMapOut)
def expertise(
    state: State, caller: Admin,
    min_group_size: Annotated[int, Query(
        ge=MIN_GROUP, le=1000, description="Counts only for groups at least this large")
    ] = MIN_GROUP,
    expert_level: Annotated[int, Query(ge=1, le=5, description="Skill level of an expert")
                            ] = EXPERT_LEVEL,
) -> dict[str, Any]:
    """Topics with no expert or one (bus factor 1), experts per department and location,
    mentoring supply against demand; counts only for groups of at least 5 people."""
    with state.lock:
        catalog = state.catalog()
        evidence = catalog.expertise(caller.filters())
        return expertise_map(catalog.people(), evidence.documents, evidence.by_author,
                             min_group_size, expert_level)
