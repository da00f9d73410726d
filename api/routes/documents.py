"""GET /api/documents/{id}: one document, if the caller may read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Reader, State
from api.schemas import DocumentOut

router = APIRouter(prefix="/api/documents", tags=["documents"])


@router.get("/{doc_id:path}", response_model=DocumentOut)
def get_document(doc_id: str, state: State, caller: Reader) -> dict[str, Any]:
    doc = state.runtime.store.get_document(doc_id, caller.groups)
    return {"id": doc.id, "title": doc.title, "kind": doc.kind, "body": doc.body,
            "authors": list(doc.authors), "tags": list(doc.tags), "language": doc.language,
            "updated_at": doc.updated_at, "source": doc.source, "extra": doc.extra}
