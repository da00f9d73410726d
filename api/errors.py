"""One place that turns errors into responses: JSON ``{"error", "detail"}`` with the right
status, or, for the web pages, the same message as an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.mentoring_schemas import VISIBLE
from indexer.errors import WhoknowsError

log = logging.getLogger("whoknows.api")
# Renders an error page: (request, status, error, detail) -> response.
HtmlErrors = Callable[[Request, int, str, str | None], Response]
PAGE_TAG = "pages"  # routes with this tag answer errors in HTML


def install(app: FastAPI, html: HtmlErrors | None = None) -> None:
    def respond(request: Request, status: int, error: str, detail: str | None,
                headers: dict[str, str] | None = None) -> Response:
        if html is not None and _is_page(request):
            return html(request, status, error, detail)
        return _json(status, error, detail, headers)

    @app.exception_handler(WhoknowsError)
    async def whoknows_error(request: Request, exc: WhoknowsError) -> Response:
        return respond(request, exc.status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [_problem(e) for e in exc.errors()]
        return respond(request, 422, "the request is not valid", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail), None, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return respond(request, 500, "internal error", "the server logged the details")


# What the patterns of our parameters mean, said the way a person would (pydantic's own
# message quotes the regular expression).
PATTERN_MEANINGS = {
    r"\S": "must not be blank: say what you are looking for",
    r"^\d{4}-\d{2}-\d{2}$": "must be a date written YYYY-MM-DD",
    r"^[^ \t\n\r\f\v]+$": "must be an id without spaces",
    VISIBLE: "must hold a visible character",
}


def _problem(error: dict) -> str:
    """One validation error as 'where: what is wrong' (query.q: must not be blank ...)."""
    where = ".".join(str(part) for part in error["loc"])
    context = error.get("ctx") or {}
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch":
        message = PATTERN_MEANINGS.get(str(context.get("pattern")), message)
    elif error["type"] == "string_too_short" and context.get("min_length") == 1:
        message = "must not be empty"
    elif error["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"


def _is_page(request: Request) -> bool:
    """A page route, or a browser asking for a path no route has (outside the API)."""
    route = request.scope.get("route")
    if route is not None:
        return PAGE_TAG in (getattr(route, "tags", None) or ())
    return (not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


def _json(status: int, error: str, detail: str | None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail},
                        headers=headers)
