"""The mentoring pages: a person asks a mentor from the mentors page, follows their
relationships, and L&D reads the programme report (with a CSV download).

The rules are those of the API (``search.mentoring.relationships``, ``.report``); the
form is posted from this site only (as the key form) and redirects back (303).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from api.deps import Caller, Forbidden, PageReader, State
from api.errors import PAGE_TAG
from api.routes.pages import _same_origin
from api.web import render
from indexer.errors import InvalidQuery
from search.mentoring import relationships as rel
from search.mentoring.report import programme_report, report_csv

router = APIRouter(tags=[PAGE_TAG], include_in_schema=False,
                   default_response_class=HTMLResponse)
Day = Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]


def _actor(caller: Caller) -> rel.Actor:
    return rel.Actor(caller.role, caller.person)


@router.post("/mentoring/request")
def request_mentor(request: Request, state: State, caller: PageReader,
                   mentor: Annotated[str, Form(max_length=200)],
                   goals: Annotated[list[str] | None, Form(max_length=20)] = None) -> Response:
    """The caller (a key bound to a person) asks ``mentor``: a proposed relationship."""
    _same_origin(request)
    if caller.person is None:
        raise InvalidQuery("this key stands for nobody, so it cannot ask for a mentor",
                           "an admin binds a key with `whoknows keys add --person ID`")
    wanted = [g.strip()[:200] for g in goals or [] if g.strip()] or None
    store = state.runtime.store
    made = rel.create(store, store.get_people(), _actor(caller), mentor, [caller.person],
                      goals=wanted, source="request")
    return RedirectResponse(f"/mentoring?made={made.id}", status_code=303)


@router.get("/mentoring")
def mentoring_page(request: Request, state: State, caller: PageReader,
                   made: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The relationships the caller may see: their own, or all of them for the LMS and
    admins; stalled ones marked."""
    store = state.runtime.store
    people = store.get_people()
    listed = rel.listing(store, people, _actor(caller))
    stalled = {r["id"] for r in rel.listing(store, people, _actor(caller),
                                            stalled_days=rel.STALLED_DAYS)}
    names = {p.id: p.name for p in people.values() if p.visible}
    return render(request, "mentoring.html", {
        "caller": caller, "relationships": listed, "stalled": stalled, "names": names,
        "made": made, "stalled_days": rel.STALLED_DAYS})


def _report(state: State, caller: Caller, department: str, location: str, since: str,
            until: str) -> dict:
    if not caller.can("lms"):
        raise Forbidden("the programme report needs the lms or admin role",
                        "ask an admin for such a key")
    store = state.runtime.store
    return programme_report(store, store.get_people(), department.strip() or None,
                            location.strip() or None, since or None, until or None)


@router.get("/mentoring/report")
def report_page(request: Request, state: State, caller: PageReader,
                department: Annotated[str, Query(max_length=200)] = "",
                location: Annotated[str, Query(max_length=200)] = "",
                since: Day = "", until: Day = "") -> Response:
    found = _report(state, caller, department, location, since, until)
    store = state.runtime.store
    return render(request, "mentoring_report.html", {
        "caller": caller, "report": found, "departments": store.departments(),
        "locations": store.locations(), "query": request.url.query})


@router.get("/mentoring/report.csv")
def report_csv_page(state: State, caller: PageReader,
                    department: Annotated[str, Query(max_length=200)] = "",
                    location: Annotated[str, Query(max_length=200)] = "",
                    since: Day = "", until: Day = "") -> Response:
    found = _report(state, caller, department, location, since, until)
    return PlainTextResponse(report_csv(found), media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="mentoring-report.csv"'})
