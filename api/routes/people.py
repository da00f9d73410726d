"""GET /api/people/{id}: a profile with the documents and lessons the caller may read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Reader, State
from api.schemas import PersonOut

router = APIRouter(prefix="/api/people", tags=["people"])


@router.get("/{person_id}", response_model=PersonOut)
def get_person(person_id: str, state: State, caller: Reader) -> dict[str, Any]:
    store = state.runtime.store
    person = store.get_person(person_id, shown=True)  # opted out: not even a profile
    documents = store.documents_of(person, caller.filters())
    return {**{k: getattr(person, k) for k in PersonOut.model_fields if hasattr(person, k)},
            "skills": [{"name": s.name, "level": s.level, "years": s.years}
                       for s in person.skills],
            "languages": list(person.languages), "goals": list(person.goals),
            "documents": documents}
