"""Uploads: a request body read within the size limit, checked, and kept in the store
with the job that ingests it, so that a worker on any machine can ingest it.

    uploads/.incoming/<random>/          a body being received and checked; always removed
    the store's ``uploads`` table        the checked files, until their job ends
    uploads/documents/<name>             written by the worker that ingests them, from
    uploads/people/<name>                the store, in its own data folder
    uploads/<kind>/records-<hash>.jsonl  JSON records (the same records: the same file)

Every file keeps a stable name, and an ingest of a file names its document after the
file (ingest.pipeline), so a file uploaded again under the same name is the same
document, whichever machine ingests it: unchanged content embeds nothing. Parsing and
disk work run in worker threads, never on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from api.settings import Settings
from indexer.errors import IngestError, InvalidRecord, WhoknowsError
from indexer.jobs import Job, JobStore
from indexer.store import Store
from indexer.uploads import UploadStore, new_id
from ingest.readers import read_file, supported

MAX_JSON_DEPTH = 32  # a record is an object of fields, some of them lists of objects
MAX_NAME = 200  # characters of a cleaned file name (file systems allow 255 bytes)
T = TypeVar("T")


class TooLarge(WhoknowsError):
    status = 413


async def receive(request: Request, settings: Settings, people: bool,
                  keep: Callable[[list[Path]], T]) -> T:
    """The upload's files, checked, under their stable names, given to ``keep`` (called
    in a worker thread while they exist: ``record`` below, and the job sent); a refused
    upload leaves nothing (and an earlier upload of the same name stays as it was)."""
    limit = settings.max_upload_mb * 2**20
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    incoming = settings.uploads_dir / ".incoming" / secrets.token_hex(8)
    incoming.mkdir(parents=True)
    try:
        staged = await _stage(request, incoming, limit)
        for path in staged:
            await run_in_threadpool(check_readable, path, people)
        return await run_in_threadpool(keep, staged)
    finally:
        await run_in_threadpool(shutil.rmtree, incoming, True)


def record(store: Store, people: bool, paths: list[Path]) -> Job:
    """Keep the checked files in the store and record the job that ingests them, in one
    transaction: the job names its uploads, and is sent (by the caller) once both are
    there. Whichever worker runs it writes them to its own folder first (ingest.jobs)."""
    kind = "people" if people else "documents"
    ids = [new_id() for _ in paths]
    with store.writing():
        kept = UploadStore(store)
        job = JobStore(store).create("ingest", {"uploads": ids})
        for upload_id, path in zip(ids, paths, strict=True):
            kept.add(kind, path.name, path.read_bytes(), job.id, upload_id)
    return job


async def _stage(request: Request, folder: Path, limit: int) -> list[Path]:
    """Write the body's files (or its JSON records, as one JSON-lines file) to ``folder``."""
    content_type = request.headers.get("content-type", "")
    counted = Request(request.scope, limited(request.receive, limit))
    if content_type.startswith("application/json"):
        body = b"".join([chunk async for chunk in counted.stream()])
        return [await run_in_threadpool(_write_records, body, folder)]
    if content_type.startswith("multipart/form-data"):
        async with counted.form(max_part_size=limit) as form:
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            if not files:
                raise InvalidRecord("no files in the upload",
                                    "send them as multipart field 'files'")
            names = unique_names(f.filename or "upload" for f in files)
            for upload, name in zip(files, names, strict=True):
                await run_in_threadpool(_copy, upload.file, folder / name)
        return [folder / name for name in names]
    raise InvalidRecord("send files as multipart/form-data or records as application/json")


def limited(receive: Receive, limit: int) -> Receive:
    """The request's receive channel, refusing (TooLarge) once the body passes ``limit``
    bytes, whatever Content-Length said or if it said nothing (a chunked body)."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise _too_large(limit)
        return message

    return counted


def _write_records(body: bytes, folder: Path) -> Path:
    """The body's records as one JSON-lines file named after its content."""
    text = records_text(body)
    path = folder / f"records-{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the upload is larger than {limit // 2**20} MB",
                    "split it, or raise WHOKNOWS_MAX_UPLOAD_MB")


def _copy(source: IO[bytes], target: Path) -> None:
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


# -- names -----------------------------------------------------------------------

def safe_name(filename: str) -> str:
    """A file name that is safe on disk: no folders, no leading dot, no odd characters."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename.replace("\\", "/")).name)
    name = name.lstrip(".") or "upload"
    if len(name) > MAX_NAME:
        stem, suffix = os.path.splitext(name)
        name = stem[:MAX_NAME - len(suffix[:20])] + suffix[:20]
    return name


def unique_names(filenames: Iterable[str]) -> list[str]:
    """Safe names, kept apart when two clean to one: ``a b.md``, ``a_b.md`` become
    ``a_b.md``, ``a_b-2.md`` (compared without case, for case-blind file systems)."""
    taken: set[str] = set()
    names = []
    for filename in filenames:
        name = safe_name(filename)
        stem, suffix = os.path.splitext(name)
        number = 1
        while name.casefold() in taken:
            number += 1
            name = f"{stem}-{number}{suffix}"
        taken.add(name.casefold())
        names.append(name)
    return names


# -- checks ------------------------------------------------------------------------

def records_text(body: bytes) -> str:
    """JSON records (an object or a list of them) as JSON lines; InvalidRecord if the
    body is not JSON, not records, or nested deeper than any record is."""
    try:
        data = json.loads(body)
    except RecursionError as exc:
        raise _too_deep() from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRecord(f"the body is not valid JSON: {exc}") from exc
    if depth(data) > MAX_JSON_DEPTH:
        raise _too_deep()
    records = data if isinstance(data, list) else [data]
    if not records or not all(isinstance(r, dict) for r in records):
        raise InvalidRecord("expected a JSON object or a list of objects")
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _too_deep() -> InvalidRecord:
    return InvalidRecord(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep",
                         "send records as objects of fields (lists and objects inside "
                         "them are fine, a few levels deep)")


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (item.values() if isinstance(item, dict)
                    else item if isinstance(item, list) else None)
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:  # deep enough to refuse: no need to walk the rest
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_readable(path: Path, people: bool) -> None:
    """Read the file as the ingest will; IngestError with the reason if it cannot."""
    if not supported(path):
        raise IngestError(f"{path.name}: unknown extension {path.suffix or '(none)'!r}")
    try:
        result = read_file(path, path.name, people)
    except WhoknowsError as exc:
        raise IngestError(f"{path.name}: {exc}") from exc
    if result.problems:
        raise IngestError(f"{path.name}: " + "; ".join(str(p) for p in result.problems[:5]))


def forget(store: Store, settings: Settings, doc_id: str) -> None:
    """Delete a document, and the uploaded file it was read from when that file held it
    alone: a file kept under uploads/ would otherwise come back, and stay on disk after
    its document is gone."""
    doc = store.get_document(doc_id)
    alone = doc.source is not None and doc.source in store.single_document_sources([doc.source])
    store.delete_document(doc_id)
    if alone and doc.source is not None:
        path = Path(doc.source)
        if path.resolve().is_relative_to(settings.uploads_dir):
            path.unlink(missing_ok=True)
