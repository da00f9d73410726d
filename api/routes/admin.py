"""Admin: add documents and people, delete them, re-index, move to another model, and
follow the jobs."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api import uploads
from api.deps import Admin, State
from api.folders import reindex_folder
from api.schemas import JobOut
from api.state import ServerState
from indexer.embedders import EMBEDDER_PATTERN
from indexer.jobs import Job, JobStore

router = APIRouter(prefix="/api/admin", tags=["admin"])


class ReindexRequest(BaseModel):
    # A folder to re-read (removing what is gone), inside WHOKNOWS_REINDEX_ROOTS; none: rebuild.
    source: str | None = None


class ReembedRequest(BaseModel):
    # The model to move to, as WHOKNOWS_EMBEDDER names it (e5-int8: multilingual); any
    # other value is a 422 that lists them.
    embedder: str = Field(pattern=EMBEDDER_PATTERN, examples=["e5-int8"])


UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
        "files": {"type": "array", "minItems": 1,
                  "items": {"type": "string", "format": "binary"}}}}},
    "application/json": {"schema": {"type": "array", "minItems": 1,
                                    "items": {"type": "object"}}}}}}


@router.post("/documents", response_model=JobOut, status_code=202, openapi_extra=UPLOAD_BODY)
async def add_documents(request: Request, state: State, caller: Admin) -> dict[str, Any]:
    """Upload files (multipart ``files``) or post JSON records; returns the ingest job.
    A file uploaded again under the same name updates the same document."""
    return _job_out(await uploads.receive(request, state.runtime.settings, people=False,
                                          keep=partial(_keep, state, False)))


@router.post("/people", response_model=JobOut, status_code=202, openapi_extra=UPLOAD_BODY)
async def add_people(request: Request, state: State, caller: Admin) -> dict[str, Any]:
    """Upload people files or post JSON person records; returns the ingest job."""
    return _job_out(await uploads.receive(request, state.runtime.settings, people=True,
                                          keep=partial(_keep, state, True)))


@router.delete("/documents/{doc_id:path}")
def delete_document(doc_id: str, state: State, caller: Admin) -> dict[str, str]:
    uploads.forget(state.runtime.store, state.runtime.settings, doc_id)
    return {"deleted": doc_id}


@router.delete("/people/{person_id}")
def delete_person(person_id: str, state: State, caller: Admin) -> dict[str, str]:
    with state.lock:
        state.runtime.store.delete_person(person_id)
    return {"deleted": person_id}


@router.post("/reindex", response_model=JobOut, status_code=202)
def reindex(state: State, caller: Admin, body: ReindexRequest | None = None) -> dict[str, Any]:
    """Re-read a source folder (``source``, inside a reindex root: api.folders), or rebuild
    the vector index from stored vectors."""
    if body and body.source:
        folder = reindex_folder(body.source, state.runtime.settings.reindex_roots)
        return _job_out(_submit(state, "ingest", {"paths": [str(folder)], "sync": True}))
    return _job_out(_submit(state, "reindex", {}))


@router.post("/reembed", response_model=JobOut, status_code=202)
def reembed(body: ReembedRequest, state: State, caller: Admin) -> dict[str, Any]:
    """Move the data folder to another embedding model, in place, as `whoknows reembed`
    does: a job that embeds every passage, profile and kept question again, with
    progress, while searches keep the old vectors until the switch. Set the servers'
    and workers' ``WHOKNOWS_EMBEDDER`` to the new model too, or leave it unset (they
    follow the folder's)."""
    return _job_out(_submit(state, "reembed", {"embedder": body.embedder}))


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, state: State, caller: Admin) -> dict[str, Any]:
    with state.lock:
        return _job_out(JobStore(state.runtime.store).get(job_id))


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(state: State, caller: Admin) -> list[dict[str, Any]]:
    with state.lock:
        return [_job_out(j) for j in JobStore(state.runtime.store).recent()]


def _submit(state: State, kind: str, params: dict[str, Any]) -> Job:
    assert state.queue is not None
    with state.lock:
        return state.queue.submit(state.runtime, kind, params)


def _keep(state: ServerState, people: bool, paths: list[Path]) -> Job:
    """Checked uploads into the store with their ingest job, then the job sent: a
    worker on any machine ingests them from the store (api.uploads, indexer.uploads)."""
    assert state.queue is not None
    with state.lock:
        job = uploads.record(state.runtime.store, people, paths)
    state.queue.send(job)
    return job


def _job_out(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done,
            "total": job.total, "errors": job.errors, "summary": job.summary,
            "attempts": job.attempts, "created_at": job.created_at,
            "started_at": job.started_at, "heartbeat_at": job.heartbeat_at,
            "finished_at": job.finished_at, "worker": job.worker}
