"""The web pages: search, people, documents (and their files), mentors, the key form.

Server-rendered HTML over the same search-layer calls as the JSON API, with the same
access rules (see api/views.py). Pages read the caller's key from an HttpOnly cookie
that the key form sets; errors on these routes render as pages (api/errors.py).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api import views
from api.deps import KEY_COOKIE, Forbidden, PageReader, State, Unauthorized, caller_for_key
from api.errors import PAGE_TAG
from api.web import HEADERS, body_blocks, render

router = APIRouter(tags=[PAGE_TAG], include_in_schema=False,
                   default_response_class=HTMLResponse)
Many = Annotated[list[str], Query()]
KEY_DAYS = 90


@router.get("/")
def search_page(request: Request, state: State, caller: PageReader, q: str = "",
                kind: Many = [], department: Many = [], location: Many = [],  # noqa: B006
                language: Many = [], page: str | None = None) -> Response:  # noqa: B006
    """The search box; with ``q`` the results, as a URL one can bookmark."""
    form = views.SearchForm(q=q.strip()[:10_000], kinds=views.clean(kind),
                            departments=views.clean(department),
                            locations=views.clean(location), languages=views.clean(language),
                            page=views.page_number(page))
    store = state.runtime.store
    with state.lock:
        facets = views.facets(store, caller)
        counts = {"documents": store.count_documents(caller.filters()),
                  "people": store.count_visible_people()}
        topics = [] if form.q else views.topics(store)
    result = views.search(state, caller, form) if form.q else None
    mine = views.my_language(request.headers.get("accept-language"), facets["language"])
    return render(request, "search.html", {
        "caller": caller, "form": form, "facets": facets, "result": result,
        "counts": counts, "topics": topics, "page_size": views.PAGE_SIZE, "mine": mine})


@router.get("/people/{person_id}")
def person_page(request: Request, state: State, caller: PageReader,
                person_id: str) -> Response:
    return render(request, "person.html",
                  {"caller": caller, **views.person(state, caller, person_id)})


@router.get("/documents/{doc_id:path}")
def document_page(request: Request, state: State, caller: PageReader, doc_id: str,
                  q: str = "") -> Response:
    """A document's text and metadata; ``q`` highlights the query's terms in it."""
    q = q.strip()[:1000]
    found = views.document(state, caller, doc_id)
    blocks = body_blocks(found["doc"].body, found["doc"].title, q)
    return render(request, "document.html", {"caller": caller, "q": q, "blocks": blocks,
                                             **found})


@router.get("/source/{doc_id:path}")
def source_file(state: State, caller: PageReader, doc_id: str) -> Response:
    """The file a document was read from (the PDF itself, say), shown in the browser."""
    path = views.source_file(state, caller, doc_id)
    pdf = path.suffix.lower() == ".pdf"
    # Anything but a PDF is shown as plain text, so an HTML file cannot run as our page.
    headers = {"X-Content-Type-Options": "nosniff"} | (
        {} if pdf else {"Content-Security-Policy": "sandbox"})
    return FileResponse(path, media_type="application/pdf" if pdf else "text/plain",
                        filename=path.name, content_disposition_type="inline",
                        headers=headers)


@router.get("/mentors")
def mentors_page(request: Request, state: State, caller: PageReader, employee: str = "",
                 goals: str = "") -> Response:
    """Find me a mentor: for an employee (lms role, as the API) or for stated goals."""
    can_pick = views.can_pick_mentee(caller)
    people = views.mentees(state) if can_pick else []
    context = {"caller": caller, "can_pick": can_pick, "people": people,
               "employee": employee.strip(), "goals": goals.strip(), "mentee": None,
               "matches": [], "result": None, "refused": False}
    if employee.strip() and not can_pick:
        context["refused"] = True  # the form for goals stays usable
        return render(request, "mentors.html", context, status=403)
    if employee.strip():
        matches = views.resolve(people, employee)
        context["matches"] = matches
        if len(matches) == 1:
            context["mentee"] = matches[0]
            context["result"] = views.find_mentors(state, caller, matches[0],
                                                   state.catalog())
    elif goals.strip():
        mentee = views.goals_profile(goals, state, caller)
        context["result"] = views.find_mentors(state, caller, mentee, state.catalog())
    return render(request, "mentors.html", context)


@router.get("/key")
def key_page(request: Request, next: str = "/") -> Response:
    return render(request, "key.html", {"caller": None, "next": _local(next), "error": None,
                                        "has_key": KEY_COOKIE in request.cookies})


@router.post("/key")
def set_key(request: Request, state: State, key: Annotated[str, Form(max_length=500)],
            next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Keep the key in an HttpOnly cookie for the pages, after checking it."""
    _same_origin(request)
    try:
        caller_for_key(state, key)
    except Unauthorized as exc:
        return render(request, "key.html", {"caller": None, "next": _local(next),
                                            "error": exc.message, "has_key": False},
                      status=401)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(KEY_COOKIE, key.strip(), max_age=KEY_DAYS * 86400, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return response


@router.post("/key/forget")
def forget_key(request: Request) -> Response:
    _same_origin(request)
    response = RedirectResponse("/key", status_code=303)
    response.delete_cookie(KEY_COOKIE, httponly=True, samesite="lax")
    response.headers.update(HEADERS)
    return response


def _local(target: str) -> str:
    """Only a path on this server: a shared link cannot send the reader elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _same_origin(request: Request) -> None:
    """Refuse a form posted from another site (it could swap in someone else's key)."""
    origin = request.headers.get("origin")
    # "null" (a sandboxed frame, a privacy redirect) counts as another site.
    if origin and urlparse(origin).netloc != request.headers.get("host"):
        raise Forbidden("this form must be sent from this site")
