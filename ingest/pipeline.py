"""Ingestion: files in, documents and people (with their vectors) in the store.

Files are read as a stream: a background thread reads and chunks the next batch
while the model embeds this one, and each batch is written in one transaction,
so a crash leaves every committed batch whole and nothing half-written. A strict
run first reads everything once, writing nothing, and fails on any problem.
Unchanged content (same hash) is not embedded again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from indexer.embedders import Embedder, token_counter
from indexer.errors import IngestError, ModelMoved, WhoknowsError
from indexer.profiles import ProfileBook
from indexer.records import Chunk, Document, Person
from indexer.store import Store
from indexer.tokens import WordPieceCounter
from ingest import exports
from ingest.chunker import split_chunks
from ingest.prefetch import prefetch
from ingest.readers import Problem, iter_file, size_hint, supported

Progress = Callable[[int, int, str], None]
EMBED_BATCH = 256  # passages per model call and per write transaction


@dataclass
class Counts:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Unchanged, but cut into passages again: the chunker changed since they were stored.
    rechunked: list[str] = field(default_factory=list)

    def summary(self) -> str:
        again = (f", {len(self.rechunked)} re-chunked (same content, but passages are cut "
                 f"differently since they were stored: embedded again)" if self.rechunked
                 else "")
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.removed)} removed{again}")


@dataclass
class IngestReport:
    documents: Counts = field(default_factory=Counts)
    people: Counts = field(default_factory=Counts)
    failed: list[Problem] = field(default_factory=list)
    chunks_embedded: int = 0
    # Authors in the store who are nobody known: how many, and the most frequent
    # (as written, documents, ambiguous).
    unmatched_authors: tuple[int, list[tuple[str, int, bool]]] = (0, [])
    merged_accounts: int = 0  # tool accounts in the store that are people of people files
    # Seconds spent reading and chunking (in the background), embedding, writing, in all.
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("read", "embed", "write", "total"), 0.0))

    def to_dict(self) -> dict:
        def counts(c: Counts) -> dict:
            return {k: len(getattr(c, k))
                    for k in ("added", "updated", "unchanged", "removed", "rechunked")}
        return {"documents": counts(self.documents), "people": counts(self.people),
                "failed": [{"file": p.file, "line": p.line, "reason": p.reason}
                           for p in self.failed],
                "chunks_embedded": self.chunks_embedded,
                "merged_accounts": self.merged_accounts,
                "unmatched_authors": {
                    "count": self.unmatched_authors[0],
                    "top": [{"author": a, "documents": n, "ambiguous": amb}
                            for a, n, amb in self.unmatched_authors[1]]},
                "seconds": {k: round(v, 3) for k, v in self.timings.items()}}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    file_id: str
    people: bool
    export: str | None = None  # a team tool's export folder, read as a whole


def find_files(paths: Iterable[str | Path], people_paths: Iterable[str | Path] = (),
               source: str | None = None) -> tuple[list[SourceFile], list[Problem]]:
    """Expand files and folders into source files (hidden ones skipped), with stable ids.

    A file reached twice (or through a link) is read once; reached through
    ``people_paths`` it is read as people. A folder laid out as a team tool's export
    (``ingest.exports``) is one source, at any depth; ``source`` names the tool of the
    folders given, when their layout alone does not tell. What is skipped is reported
    with the reason.
    """
    found: dict[Path, SourceFile] = {}
    problems: dict[Path, Problem] = {}
    for is_people, group in ((False, paths), (True, people_paths)):
        for raw in group:
            root = Path(raw).resolve()
            if not root.exists():
                problems[root] = Problem(str(raw), "no such file or folder")
                continue
            if source is not None and root.is_dir():
                found[root] = SourceFile(root, root.name, False, exports.module(source).NAME)
                continue
            for path in _walk(root):
                if isinstance(path, Problem):
                    problems[Path(path.file)] = path
                elif isinstance(path, tuple):  # (an export folder, its tool)
                    folder, tool = path
                    found[folder] = SourceFile(folder, folder.relative_to(root.parent)
                                               .as_posix(), False, tool)
                elif not supported(path):
                    problems[path] = Problem(str(path), f"unknown extension "
                                             f"{path.suffix or '(none)'!r}: skipped")
                elif (real := path.resolve()) in found:
                    first = found[real]
                    found[real] = SourceFile(first.path, first.file_id, is_people)
                else:
                    found[real] = SourceFile(path, path.relative_to(root.parent).as_posix(),
                                             is_people)
    return list(found.values()), list(problems.values())


def _walk(root: Path) -> Iterator[Path | tuple[Path, str] | Problem]:
    """The regular files under ``root`` in path order, hidden ones skipped, and a problem
    for each entry that is skipped otherwise; a folder that is a team tool's export
    comes whole, as (folder, tool), its files not walked. Links to files inside ``root`` are
    followed; links to files outside it are not (a link planted in a folder the server
    may read must not widen what it reads), nor are links to folders (a link back up
    would loop, one elsewhere would widen what is read beyond the folder given), nor
    anything that is not a regular file (a pipe would block the read for ever)."""
    if not root.is_dir():
        yield root if root.is_file() else Problem(str(root), "not a regular file: skipped")
        return
    if tool := exports.detect(root):
        yield root, tool
        return
    folders = [iter(_entries(root))]
    while folders:
        entry = next(folders[-1], None)
        if entry is None:
            folders.pop()
        elif isinstance(entry, Problem) or entry.is_symlink():
            yield entry if isinstance(entry, Problem) else _link(entry, root)
        elif entry.is_dir():
            if tool := exports.detect(entry):
                yield entry, tool
            else:
                folders.append(iter(_entries(entry)))
        elif entry.is_file():
            yield entry
        else:
            yield Problem(str(entry), "not a regular file: skipped")


def _entries(folder: Path) -> list[Path] | list[Problem]:
    """The folder's entries in name order, hidden ones left out."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        return [Problem(str(folder), f"cannot read the folder: {exc.strerror or exc}")]


def _link(link: Path, root: Path) -> Path | Problem:
    """A symbolic link: its path if it leads to a regular file, else why it is skipped."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return Problem(str(link), f"broken link: {os.readlink(link)} does not exist")
    except (RuntimeError, OSError):  # RuntimeError: Python < 3.13 on a loop
        return Problem(str(link), "symlink loop: the link leads back to itself")
    if target.is_file():
        if not target.is_relative_to(root):
            return Problem(str(link), f"link to {target}, outside the folder being read: "
                                      "not followed (give that file to ingest it)")
        return link
    if link.parent.resolve().is_relative_to(target):
        return Problem(str(link), f"symlink loop: {target} is a folder above the link; "
                                  "skipped")
    if target.is_dir():
        return Problem(str(link), f"link to the folder {target}: not followed (give that "
                                  "folder to ingest it)")
    return Problem(str(link), "not a regular file: skipped")


@dataclass
class Batch:
    """One unit of work from the reading thread, embedded and written in one transaction."""

    documents: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    moved: list[tuple[str, str | None]] = field(default_factory=list)  # unchanged, new path
    passages: int = 0
    progress: tuple[int, int] = (0, 0)  # records read so far, of about how many

    def __bool__(self) -> bool:
        return bool(self.documents or self.people or self.moved)


@dataclass
class Seen:
    """What one run has read: ids (for duplicates and --sync) and files that failed."""

    documents: dict[str, str | None] = field(default_factory=dict)
    people: dict[str, str | None] = field(default_factory=dict)
    failed_sources: set[str] = field(default_factory=set)


class Ingester:
    """Reads files, embeds what changed, writes the store. The caller syncs the vector index.

    A background thread reads and chunks while the model embeds; the store is only
    touched from the calling thread. Nothing holds more than a few batches of text
    or vectors at once, so a corpus larger than memory streams through."""

    def __init__(self, store: Store, embedder: Embedder, max_words: int = 180,
                 overlap: int = 30, batch_passages: int = EMBED_BATCH,
                 tokens: WordPieceCounter | None = None,
                 people_map: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.people_map = people_map  # people CSVs' column names (ingest.hr)
        self._opted_out: set[str] = set()  # people who opted out entirely (profiles)
        self.embedder = embedder
        self.max_words = max_words
        self.overlap = overlap
        self.batch_passages = batch_passages
        # Passages are sized to the model's window, so no word is cut off before embedding.
        self.tokens = tokens if tokens is not None else token_counter(embedder)
        # How passages are cut, stored with each document: a stored document cut another
        # way (or before this was recorded) is cut again and re-embedded on its next ingest.
        self.chunking = (f"words-{max_words}/overlap-{overlap}"
                         + (f"/pieces-{self.tokens.max_tokens}" if self.tokens else ""))

    def ingest(self, paths: Sequence[str | Path], people_paths: Sequence[str | Path] = (),
               sync: bool = False, strict: bool = False,
               progress: Progress | None = None, source: str | None = None) -> IngestReport:
        """``source``: the team tool whose export the folders in ``paths`` are, when
        their layout alone does not tell (see ``ingest.exports``)."""
        started = time.perf_counter()
        report = IngestReport()
        files, report.failed = find_files(paths, people_paths, source)
        total = sum(_size_hint(f) for f in files)  # records, about: for progress
        if strict:  # a first pass that writes nothing: any problem fails the whole run
            problems = [*report.failed, *self._check(files, total, progress)]
            if problems:
                raise IngestError(f"{len(problems)} problem(s); nothing was written "
                                  f"(--strict): " + "; ".join(map(str, problems[:5])))
        self.store.bind_embedder(self.embedder.name, self.embedder.dim)
        seen = Seen()
        stored = (self.store.document_hashes(), self.store.person_hashes())
        self._opted_out = ProfileBook(self.store).opted_out()
        batches = self._batches(files, total, stored, seen, report)
        for batch in prefetch(batches, depth=2):
            self._write(batch, report)
            if progress:
                progress(*batch.progress, f"embedded {report.chunks_embedded} passages")
        if sync:
            roots = [Path(p).resolve() for p in [*paths, *people_paths] if Path(p).is_dir()]
            self._remove_missing(roots, seen, report)
        report.unmatched_authors = self.store.unmatched_authors()
        report.merged_accounts = self.store.merged_accounts()
        report.timings["total"] = time.perf_counter() - started
        return report

    # -- reading (the background thread) --------------------------------------

    def _records(self, files: list[SourceFile], seen: Seen, failed: list[Problem]
                 ) -> Iterator[tuple[Document | Person | None, int]]:
        """Every good record once, with the running count of records read; problems and
        duplicate ids go to ``failed``. A ``None`` record marks the end of a file."""
        read = 0
        for source in files:
            path = str(source.path)
            try:
                items = (exports.read_export(source.path, source.file_id, source.export)
                         if source.export else
                         iter_file(source.path, source.file_id, source.people,
                                   self.people_map))
                for item in items:
                    read += 1
                    if isinstance(item, Problem):
                        failed.append(item)
                        seen.failed_sources.update((path, item.file))
                        continue
                    ids = seen.people if isinstance(item, Person) else seen.documents
                    if item.id in ids:
                        failed.append(Problem(path, f"duplicate id {item.id!r} "
                                                    f"(first seen in {ids[item.id]})"))
                        continue
                    ids[item.id] = item.source
                    yield item, read
            except WhoknowsError as exc:
                failed.append(Problem(path, str(exc)))
                seen.failed_sources.add(path)
            except Exception as exc:  # a reader bug must not lose the rest of the run
                failed.append(Problem(path, f"could not read: {exc!r}"))
                seen.failed_sources.add(path)
            yield None, read

    def _check(self, files: list[SourceFile], total: int,
               progress: Progress | None) -> list[Problem]:
        failed: list[Problem] = []
        for _, read in self._records(files, Seen(), failed):
            if progress:
                progress(read, max(total, read), "checking")
        return failed

    def _batches(self, files: list[SourceFile], total: int, stored: tuple[dict, dict],
                 seen: Seen, report: IngestReport) -> Iterator[Batch]:
        """Runs in the background thread: it must not touch the store."""
        reading = time.perf_counter()
        stored_docs, stored_people = stored
        batch, flushed = Batch(), time.perf_counter()
        for record, read in self._records(files, seen, report.failed):
            if isinstance(record, Person):
                self._classify_person(record, stored_people, report.people, batch)
            elif isinstance(record, Document):
                self._classify_document(record, stored_docs, report.documents, batch)
            batch.progress = (read, max(total, read))
            # Full batches keep the model busy; a batch of only unchanged records still goes
            # out now and then so that progress moves and moved files get their new path.
            if (batch.passages >= self.batch_passages or len(batch.people) >= EMBED_BATCH
                    or (record is None and time.perf_counter() - flushed > 0.5 and batch)):
                report.timings["read"] += time.perf_counter() - reading
                yield batch
                reading = time.perf_counter()
                batch, flushed = Batch(progress=batch.progress), time.perf_counter()
        report.timings["read"] += time.perf_counter() - reading
        yield batch

    def _classify_person(self, person: Person, stored: dict, counts: Counts,
                         batch: Batch) -> None:
        if person.visible and person.id in self._opted_out:
            person = replace(person, visible=False)  # their own choice outlives an import
        old = stored.get(person.id)
        if old and old[0] == person.content_hash():
            counts.unchanged.append(person.id)
        else:
            (counts.updated if old else counts.added).append(person.id)
            batch.people.append(person)

    def _classify_document(self, doc: Document, stored: dict, counts: Counts,
                           batch: Batch) -> None:
        old = stored.get(doc.id)
        if old and old[0] == doc.content_hash() and old[2] == self.chunking:
            counts.unchanged.append(doc.id)
            if old[1] != doc.source:
                batch.moved.append((doc.id, doc.source))
            return
        if old and old[0] == doc.content_hash():
            counts.rechunked.append(doc.id)
        else:
            (counts.updated if old else counts.added).append(doc.id)
        chunks = self.chunk(doc)
        batch.documents.append((doc, chunks))
        batch.passages += len(chunks)

    def chunk(self, doc: Document) -> list[Chunk]:
        costs, budget = None, None
        if self.tokens is not None:
            costs = self.tokens.word_costs
            budget = self.tokens.passage_budget(passage_text(doc.title, ""))
        spans = split_chunks(doc.body, self.max_words, self.overlap,
                             word_costs=costs, budget=budget) or []
        return [Chunk(doc.id, i, doc.body[s.start:s.end], s.start) for i, s in enumerate(spans)]

    # -- writing (the calling thread) ------------------------------------------

    def _write(self, batch: Batch, report: IngestReport) -> None:
        embedding = time.perf_counter()
        texts = [passage_text(doc.title, c.text) for doc, chunks in batch.documents
                 for c in chunks]
        vectors = self.embedder.embed(texts) if texts else None
        profiles = [p.profile_text() for p in batch.people]
        profile_vectors = self.embedder.embed([t for t in profiles if t]) if any(
            profiles) else None
        writing = time.perf_counter()
        report.timings["embed"] += writing - embedding
        items, at = [], 0
        for doc, chunks in batch.documents:
            assert vectors is not None
            items.append((doc, chunks, vectors[at:at + len(chunks)]))
            at += len(chunks)
        with self.store.writing():
            self._still_the_model()
            at = 0
            for person, text in zip(batch.people, profiles, strict=True):
                # A person with no profile text has no profile vector: a name says nothing.
                self.store.write_person(person, profile_vectors[at] if text else None)
                at += bool(text)
            for doc_id, source in batch.moved:
                self.store.update_document_source(doc_id, source)
            if items:
                self.store.write_documents(items, self.chunking)
        report.chunks_embedded += len(texts)
        report.timings["write"] += time.perf_counter() - writing

    def _still_the_model(self) -> None:
        """Inside the write: the store still records this ingest's model (a re-embed in
        another process may have switched it since the ingest began)."""
        stored = self.store.get_meta("embedder")
        if stored != self.embedder.name:
            raise ModelMoved(f"the data folder moved to the model {stored} while this "
                             f"ingest embedded with {self.embedder.name}",
                             "run the ingest again: what it wrote is found unchanged, and "
                             "the rest is embedded with the folder's model")

    def _remove_missing(self, roots: list[Path], seen: Seen, report: IngestReport) -> None:
        """Delete what came from a synced folder and is gone now (a failed file keeps its own)."""
        def gone(source: str | None) -> bool:
            file = source_file(source) if source is not None else None
            return (file is not None and file not in seen.failed_sources
                    and any(Path(file).is_relative_to(root) for root in roots))

        for doc_id, (_, source, _) in self.store.document_hashes().items():
            if doc_id not in seen.documents and gone(source):
                self.store.delete_document(doc_id)
                report.documents.removed.append(doc_id)
        for person_id, (_, source) in self.store.person_hashes().items():
            if person_id not in seen.people and gone(source):
                self.store.delete_person(person_id)
                report.people.removed.append(person_id)


def _size_hint(source: SourceFile) -> int:
    """Roughly how many records a source holds: its files, for an export."""
    if source.export:
        return max(sum(1 for p in source.path.rglob("*") if p.is_file()), 1)
    return size_hint(source.path)


def source_file(source: str) -> str:
    """The file a record's source lies in. A zip member's source is "<zip>#<member>" (in a
    zip inside it, "<zip>#<inner zip>#<member>") and lies in the longest part before a
    "#" that is a file; any other source, or one whose zip is gone, is its own file."""
    head = source
    while "#" in head:
        head = head.rpartition("#")[0]
        if os.path.isfile(head):
            return head
    return source


def passage_text(title: str, text: str) -> str:
    """What is embedded for a passage: the document title gives it context."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


Result = TypeVar("Result")


def following_the_model(work: Callable[[Embedder], Result], embedder: Embedder,
                        follow_model: Callable[[], Embedder] | None) -> Result:
    """``work(embedder)``; when a re-embed in another process overtook it (``ModelMoved``),
    once more with the model the store records now, ``follow_model()`` (none: the
    error stands). What the first run wrote is found unchanged the second time."""
    try:
        return work(embedder)
    except ModelMoved:
        if follow_model is None:
            raise
        return work(follow_model())
