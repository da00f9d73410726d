"""POST /api/feedback: a reader's verdict on a result or a suggested expert."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Caller, Reader, State
from api.learning import voter
from api.state import ServerState
from indexer.errors import NotFound
from indexer.feedback import VERDICTS, FeedbackLog
from indexer.records import may_read

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


class FeedbackIn(BaseModel):
    query: Annotated[str, Field(min_length=1, max_length=1000, pattern=r"\S",
                                description="The query the result was given for.")]
    verdict: Literal["helped", "not_about", "opened", "helped_me", "not_expert"] = Field(
        description="On a document: helped, not_about, or opened (a click, which moves no "
                    "ranking); on a person: helped_me or not_expert.")
    id: Annotated[str, Field(min_length=1, max_length=500,
                             description="The document's or the person's id.")]


class FeedbackOut(BaseModel):
    query: str
    verdict: str
    target: str
    id: str
    at: str


@router.post("", status_code=201, response_model=FeedbackOut)
def give_feedback(body: FeedbackIn, state: State, caller: Reader) -> dict[str, Any]:
    """Say of a result "this helped" or "not about this", or of a suggested expert "helped
    me" or "not an expert on this". It moves the ranking of the same and similar questions
    for everyone, within a bound, and fades with time; one verdict per reader, result and
    question (a new one replaces the old). A document the caller cannot read is a 404."""
    return record(state, caller, body.query, body.verdict, body.id)


def record(state: ServerState, caller: Caller, query: str, verdict: str,
           target_id: str) -> dict[str, Any]:
    """Check the target is one the caller may see, then store the verdict (the API and the
    page's thumbs both come here)."""
    store = state.runtime.store
    target, _ = VERDICTS[verdict]
    if target == "document":
        doc = store.get_documents([target_id]).get(target_id)
        if doc is None or not may_read(doc.groups, caller.groups):
            raise NotFound(f"no document with id {target_id!r}")
    else:
        store.get_person(target_id, shown=True)
    answerer = state.current()
    vector = answerer.embed(query)
    vote = FeedbackLog(store).add(query.strip(), vector, verdict, target_id,
                                  voter(state, caller))
    return {"query": vote.query, "verdict": verdict, "target": vote.target,
            "id": vote.target_id, "at": vote.at}
