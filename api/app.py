"""The FastAPI application: ``create_app(settings)`` builds it; nothing happens at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import documents, health, people, search
from api.runtime import Runtime
from api.settings import Settings
from api.state import ServerState

log = logging.getLogger("whoknows.api")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None,
               warm: bool = True) -> FastAPI:
    state = ServerState(runtime or Runtime.open(settings or Settings.from_env()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:  # load the model in the background; /readyz says when it is done
            threading.Thread(target=state.warm_up, daemon=True).start()
        yield

    app = FastAPI(title="whoknows", version="0.1.0", lifespan=lifespan,
                  description="What do we know about X, and who knows about X?")
    app.state.whoknows = state
    errors.install(app)
    for module in (health, search, people, documents):
        app.include_router(module.router)
    return app
