"""The FastAPI application: ``create_app(settings)`` builds it; nothing happens at import."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, web
from api.queue import Queue
from api.routes import (
    admin,
    analytics,
    apidocs,
    documents,
    feedback,
    health,
    insights,
    learning_pages,
    mentoring,
    mentoring_pages,
    pages,
    people,
    profiles,
    recommendations,
    relationships,
    search,
)
from api.runtime import SERVING_THREADS, Runtime
from api.schemas import Error
from api.settings import Settings
from api.state import ServerState

log = logging.getLogger("whoknows.api")
# Every error answers {"error", "detail"}; the schema says so for each operation.
ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": Error, "description": text} for code, text in (
        (400, "Bad query"), (401, "No or unknown API key"), (403, "Role too low"),
        (404, "Not found"), (409, "Conflict"), (413, "Upload too large"),
        (422, "Invalid input"))}


BIND_HOST_ENV = "WHOKNOWS_BIND_HOST"  # set by `whoknows serve --workers N` for its processes


def app_from_env() -> FastAPI:
    """The app of one of several server processes (``whoknows serve --workers N``): the
    settings and the address it listens on come from the environment the command set."""
    return create_app(runtime=Runtime.open(Settings.from_env(), threads=SERVING_THREADS),
                      bind_host=os.environ.get(BIND_HOST_ENV, "127.0.0.1"))


def create_app(settings: Settings | None = None, runtime: Runtime | None = None,
               warm: bool = True, queue: Queue | None = None,
               worker: bool | None = None, bind_host: str = "127.0.0.1") -> FastAPI:
    """The app. ``worker``: run a job consumer in this process (default: the embedded
    SQLite queue does, a Redis queue leaves the jobs to ``whoknows worker`` processes).
    ``bind_host``: the address the server listens on; beyond loopback it is never open."""
    runtime = runtime or Runtime.open(settings or Settings.from_env())
    queue = queue or Queue.create(runtime.settings)
    state = ServerState(runtime, queue, bind_host=bind_host)
    if worker is None:
        worker = runtime.settings.redis_url is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:  # load the model in the background; /readyz says when it is done
            threading.Thread(target=state.warm_up, daemon=True).start()
        stops = []
        if worker and not queue.huey.immediate:
            with state.lock:  # before the worker thread runs anything of this life
                queue.recover(runtime.store, starting=True)
            stops = [queue.work_in_thread(), queue.recover_periodically()]
        yield
        for stop in stops:
            stop.set()

    # /docs is served from this server (api/routes/apidocs.py), not from a CDN; no ReDoc.
    app = FastAPI(title="whoknows", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="What do we know about X, and who knows about X?")
    app.state.whoknows = state
    errors.install(app, html=web.render_error)
    for module in (health, search, people, documents, recommendations, mentoring,
                   relationships, analytics, admin, feedback, profiles, insights):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(pages.router)  # the web pages (HTML, not in the OpenAPI schema)
    app.include_router(learning_pages.router)  # thumbs, own profile, analytics
    app.include_router(mentoring_pages.router)  # ask a mentor, relationships, the report
    app.include_router(apidocs.router)
    # Before /static, which would otherwise answer (404) for everything below it.
    app.mount(apidocs.ASSETS_URL, StaticFiles(directory=apidocs.ASSETS_DIR), name="swagger")
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app
