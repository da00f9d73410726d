"""Admin: add documents and people, delete them, re-index, and follow the jobs."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.deps import Admin, State
from api.schemas import JobOut
from indexer.errors import IngestError, InvalidRecord, NotFound, WhoknowsError
from indexer.jobs import Job, JobStore
from ingest.readers import read_file, supported

router = APIRouter(prefix="/api/admin", tags=["admin"])


class TooLarge(WhoknowsError):
    status = 413


class ReindexRequest(BaseModel):
    source: str | None = None  # a folder to re-read (removing what is gone); none: rebuild


UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
        "files": {"type": "array", "minItems": 1,
                  "items": {"type": "string", "format": "binary"}}}}},
    "application/json": {"schema": {"type": "array", "minItems": 1,
                                    "items": {"type": "object"}}}}}}


@router.post("/documents", response_model=JobOut, status_code=202, openapi_extra=UPLOAD_BODY)
async def add_documents(request: Request, state: State, caller: Admin) -> dict[str, Any]:
    """Upload files (multipart ``files``) or post JSON records; returns the ingest job."""
    folder = await _save_upload(request, state, people=False)
    return _job_out(_submit(state, "ingest", {"paths": [str(folder)]}))


@router.post("/people", response_model=JobOut, status_code=202, openapi_extra=UPLOAD_BODY)
async def add_people(request: Request, state: State, caller: Admin) -> dict[str, Any]:
    """Upload people files or post JSON person records; returns the ingest job."""
    folder = await _save_upload(request, state, people=True)
    return _job_out(_submit(state, "ingest", {"people_paths": [str(folder)]}))


@router.delete("/documents/{doc_id:path}")
def delete_document(doc_id: str, state: State, caller: Admin) -> dict[str, str]:
    with state.lock:
        state.runtime.store.delete_document(doc_id)
    return {"deleted": doc_id}


@router.delete("/people/{person_id}")
def delete_person(person_id: str, state: State, caller: Admin) -> dict[str, str]:
    with state.lock:
        state.runtime.store.delete_person(person_id)
    return {"deleted": person_id}


@router.post("/reindex", response_model=JobOut, status_code=202)
def reindex(state: State, caller: Admin, body: ReindexRequest | None = None) -> dict[str, Any]:
    """Re-read a source folder (``source``), or rebuild the vector index from stored vectors."""
    if body and body.source:
        if not Path(body.source).is_dir():
            raise NotFound(f"no folder {body.source!r} on the server",
                           "give a folder path as the server sees it")
        return _job_out(_submit(state, "ingest", {"paths": [body.source], "sync": True}))
    return _job_out(_submit(state, "reindex", {}))


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


def _job_out(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done,
            "total": job.total, "errors": job.errors, "summary": job.summary,
            "attempts": job.attempts, "created_at": job.created_at,
            "finished_at": job.finished_at, "worker": job.worker}


async def _save_upload(request: Request, state: State, people: bool) -> Path:
    """Write the upload to a fresh folder, refusing what is too large or unreadable."""
    limit = state.runtime.settings.max_upload_mb * 1024 * 1024
    if int(request.headers.get("content-length") or 0) > limit:
        raise TooLarge(f"the upload is larger than {limit // 2**20} MB",
                       "split it, or raise WHOKNOWS_MAX_UPLOAD_MB")
    folder = state.runtime.settings.data_dir / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        records = await _json_records(request)
        (folder / "records.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    elif content_type.startswith("multipart/form-data"):
        form = await request.form(max_part_size=limit)
        files = [f for f in form.getlist("files") if hasattr(f, "filename")]
        if not files:
            raise InvalidRecord("no files in the upload", "send them as multipart field 'files'")
        for upload in files:
            name = _safe_name(upload.filename or "upload")
            data = await upload.read()
            (folder / name).write_bytes(data)
    else:
        raise InvalidRecord("send files as multipart/form-data or records as application/json")
    for path in folder.iterdir():
        _check_readable(path, people)
    return folder


async def _json_records(request: Request) -> list[dict[str, Any]]:
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRecord(f"the body is not valid JSON: {exc}") from exc
    records = data if isinstance(data, list) else [data]
    if not records or not all(isinstance(r, dict) for r in records):
        raise InvalidRecord("expected a JSON object or a list of objects")
    return records


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name).lstrip(".")
    return name or "upload"


def _check_readable(path: Path, people: bool) -> None:
    if not supported(path):
        raise IngestError(f"{path.name}: unknown extension {path.suffix or '(none)'!r}")
    try:
        result = read_file(path, path.name, people)
    except WhoknowsError as exc:
        raise IngestError(f"{path.name}: {exc}") from exc
    if result.problems:
        raise IngestError(f"{path.name}: " + "; ".join(str(p) for p in result.problems[:5]))
