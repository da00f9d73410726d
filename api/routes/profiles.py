"""A person's control over their profile: inferred skills with evidence, confirm or hide
each, "ask me about" and "want to learn" topics, opting out of a topic or entirely.

The person (with a key bound to them: `whoknows keys add --person ID`), the LMS on their
behalf, or an admin. Changes count in the next search; no restart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import Caller, Reader, State
from api.learning import may_edit_profile
from api.state import ServerState
from indexer.errors import NotFound
from indexer.profiles import ProfileBook
from search.profile import profile_view

router = APIRouter(prefix="/api/profile", tags=["profile"])

Kind = Literal["confirm", "hide", "ask_me", "learn", "opt_out"]


class EvidenceRef(BaseModel):
    id: str
    title: str


class ProfileSkill(BaseModel):
    name: str
    level: int | None = None
    source: str = Field(description="declared (HR profile), tag or skill name (inferred "
                                    "from their documents), or confirmed")
    state: str = Field(description="declared, inferred, confirmed or hidden")
    evidence: list[EvidenceRef] = []
    evidence_count: int = 0


class ProfileOut(BaseModel):
    id: str
    name: str
    skills: list[ProfileSkill]
    ask_me: list[str]
    learn: list[str]
    opted_out_topics: list[str]
    opted_out: bool


class ChoiceIn(BaseModel):
    kind: Kind = Field(description=(
        "confirm (an inferred skill is right: it counts as declared), hide (never shown, "
        "never counts), ask_me, learn, opt_out (never suggested for this topic)"))
    topic: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    level: Annotated[int, Field(ge=1, le=5, description="for confirm")] = 3


def view(state: ServerState, caller: Caller, person_id: str) -> dict[str, Any]:
    may_edit_profile(state, caller, person_id)
    store = state.runtime.store
    person = store.get_person(person_id)  # one who opted out still sees their own
    return profile_view(store, ProfileBook(store), person, caller.filters())


@router.get("/me", response_model=ProfileOut)
def my_profile(state: State, caller: Reader) -> dict[str, Any]:
    """The profile of the person the caller's key is bound to."""
    person_id = caller.person
    if person_id is None:
        raise NotFound("this key is not bound to a person",
                       "an admin binds one with `whoknows keys add --role reader --person ID`")
    return view(state, caller, person_id)


@router.get("/{person_id}", response_model=ProfileOut)
def get_profile(person_id: str, state: State, caller: Reader) -> dict[str, Any]:
    """Skills inferred from the person's documents (tags, skill names the company uses),
    each with its evidence, beside their declared skills and their choices."""
    return view(state, caller, person_id)


@router.post("/{person_id}/choices", response_model=ProfileOut)
def choose(person_id: str, body: ChoiceIn, state: State, caller: Reader) -> dict[str, Any]:
    """Confirm or hide a skill, add an "ask me about" or "want to learn" topic, or opt out
    of a topic."""
    may_edit_profile(state, caller, person_id)
    ProfileBook(state.runtime.store).choose(person_id, body.kind, body.topic, body.level)
    return view(state, caller, person_id)


@router.delete("/{person_id}/choices/{kind}", response_model=ProfileOut)
def undo(person_id: str, kind: Kind, state: State, caller: Reader,
         topic: Annotated[str, Query(min_length=1, max_length=100, pattern=r"\S")]
         ) -> dict[str, Any]:
    """Take a choice back."""
    may_edit_profile(state, caller, person_id)
    ProfileBook(state.runtime.store).undo(person_id, kind, topic)
    return view(state, caller, person_id)


class OptOutIn(BaseModel):
    opted_out: bool = Field(description="true: never suggested, nor shown as an author or a "
                                        "profile, anywhere; false: shown again")


@router.put("/{person_id}/opt-out", response_model=ProfileOut)
def opt_out(person_id: str, body: OptOutIn, state: State, caller: Reader) -> dict[str, Any]:
    """Opt out of whoknows entirely, or back in."""
    may_edit_profile(state, caller, person_id)
    book = ProfileBook(state.runtime.store)
    if body.opted_out != book.of(person_id).opted_out:
        (book.choose if body.opted_out else book.undo)(person_id, "opt_out")
    return view(state, caller, person_id)
