"""One place that turns errors into JSON ``{"error", "detail"}`` with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.errors import WhoknowsError

log = logging.getLogger("whoknows.api")


def install(app: FastAPI) -> None:
    @app.exception_handler(WhoknowsError)
    async def whoknows_error(request: Request, exc: WhoknowsError) -> JSONResponse:
        return _json(exc.status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _json(422, "the request is not valid", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, str(exc.detail), None, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return _json(500, "internal error", "the server logged the details")


def _json(status: int, error: str, detail: str | None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail},
                        headers=headers)
