"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import State
from indexer.errors import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: State) -> JSONResponse:
    """The vector index and the model are loaded: searches will be fast. Also which
    store this process reads and how many store generations (write transactions) its
    indexes are behind it, and whether the job queue answers. It answers without a
    key, so it says nothing about what the store holds (`whoknows status` and the
    admin API do)."""
    store = state.runtime.store
    try:
        lag = state.indexes_lag()
    except StoreUnavailable as exc:  # the database is away: not ready until it is back
        return JSONResponse(status_code=503, content={
            "ready": False, "store": store.backend, "error": exc.message})
    if lag is None:
        return JSONResponse(status_code=503, content={"ready": False})
    # Searches need no queue: a replica whose Redis is down stays ready, and says so
    # (jobs submitted meanwhile are recorded and sent when it is back).
    queue = None if state.queue is None else (
        "ok" if state.queue.reachable() else "unreachable")
    return JSONResponse(content={"ready": True, "store": store.backend,
                                 "generations_behind": lag["generations_behind"],
                                 "queue": queue})
