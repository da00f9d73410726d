"""The learning loop's pages: thumbs on results, a person's own profile, analytics.

Forms posted from this site only (as the key form); each redirects back (303).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import learning
from api.deps import Caller, Forbidden, PageReader, State
from api.errors import PAGE_TAG
from api.routes.feedback import record
from api.routes.pages import _local, _same_origin
from api.routes.profiles import view
from api.web import render
from indexer.errors import NotFound
from indexer.feedback import VERDICTS
from indexer.profiles import ProfileBook

router = APIRouter(tags=[PAGE_TAG], include_in_schema=False,
                   default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=1000)]
ACTIONS = {"confirm": ("choose", "confirm"), "hide": ("choose", "hide"),
           "ask_me": ("choose", "ask_me"), "learn": ("choose", "learn"),
           "opt_out": ("choose", "opt_out"), "opt_out_all": ("choose", "opt_out"),
           "opt_in": ("undo", "opt_out")} | {
    f"undo-{kind}": ("undo", kind) for kind in ("confirm", "hide", "ask_me", "learn", "opt_out")}


@router.post("/feedback")
def feedback(request: Request, state: State, caller: PageReader, q: Text, id: Text,
             verdict: Annotated[str, Form(max_length=20)], next: Text = "/") -> Response:
    """A thumb on a result or an expert; back to the results, which now show it."""
    _same_origin(request)
    if verdict not in VERDICTS or not q.strip():
        raise NotFound("no such feedback")
    record(state, caller, q, verdict, id)
    return RedirectResponse(_local(next), status_code=303)


@router.get("/profile")
def profile_page(request: Request, state: State, caller: PageReader, person: str = "",
                 saved: str = "") -> Response:
    """The caller's own profile (their key is bound to them); the LMS or an admin may
    open anyone's with ``person``."""
    person_id = person.strip() or _own(caller)
    return render(request, "profile.html", {"caller": caller, "saved": saved[:200],
                                            "view": view(state, caller, person_id)})


@router.post("/profile/choices")
def profile_choice(request: Request, state: State, caller: PageReader,
                   person: Text, action: Annotated[str, Form(max_length=20)],
                   topic: Annotated[str, Form(max_length=100)] = "") -> Response:
    _same_origin(request)
    if action not in ACTIONS:
        raise NotFound(f"no profile action {action!r}")
    learning.may_edit_profile(state, caller, person)
    method, kind = ACTIONS[action]
    whole = action in ("opt_out_all", "opt_in")
    getattr(ProfileBook(state.runtime.store), method)(person, kind, "" if whole else topic)
    said = f"{action.replace('_', ' ').replace('-', ' ')} {topic}".strip()
    return RedirectResponse("/profile?" + urlencode({"person": person, "saved": said}),
                            status_code=303)


@router.get("/analytics")
def analytics_page(request: Request, state: State, caller: PageReader) -> Response:
    if not caller.can("admin"):
        raise Forbidden("analytics are for admins", "ask an admin for a key with that role")
    store, settings = state.runtime.store, state.runtime.settings
    with state.lock:
        context = {
            "searches": learning.searches_report(store, settings, 30),
            "load": learning.load_report(store, 30),
            "coverage": learning.coverage_report(store, settings, caller.groups),
            "networks": [learning.network_report(store, by, caller.groups)
                         for by in ("department", "location")]}
    return render(request, "analytics.html", {"caller": caller, **context})


def _own(caller: Caller) -> str:
    person_id = caller.person
    if person_id is None:
        raise NotFound("your key is not bound to a person",
                       "an admin binds one with `whoknows keys add --role reader --person ID`"
                       " (an admin or the LMS opens anyone's with /profile?person=ID)")
    return person_id
