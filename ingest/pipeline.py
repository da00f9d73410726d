"""Ingestion: files in, documents and people (with their vectors) in the store.

Reading happens first and is complete before anything is written, so a strict
run with a bad file writes nothing. Writing goes in batches, each batch one
transaction: a crash leaves every committed batch whole and nothing half-written.
Unchanged content (same hash) is not embedded again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.embedder import Embedder
from indexer.errors import IngestError, WhoknowsError
from indexer.records import Chunk, Document, Person
from indexer.store import Store
from ingest.chunker import split_chunks
from ingest.readers import read_file, supported
from ingest.readers.base import Problem

Progress = Callable[[int, int, str], None]
EMBED_BATCH = 64  # passages per model call and per write transaction


@dataclass
class Counts:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.removed)} removed")


@dataclass
class IngestReport:
    documents: Counts = field(default_factory=Counts)
    people: Counts = field(default_factory=Counts)
    failed: list[Problem] = field(default_factory=list)
    chunks_embedded: int = 0

    def to_dict(self) -> dict:
        def counts(c: Counts) -> dict:
            return {k: len(getattr(c, k)) for k in ("added", "updated", "unchanged", "removed")}
        return {"documents": counts(self.documents), "people": counts(self.people),
                "failed": [{"file": p.file, "line": p.line, "reason": p.reason}
                           for p in self.failed],
                "chunks_embedded": self.chunks_embedded}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    file_id: str
    people: bool


def find_files(paths: Iterable[str | Path], people_paths: Iterable[str | Path] = ()
               ) -> tuple[list[SourceFile], list[Problem]]:
    """Expand files and folders into source files (hidden ones skipped), with stable ids.

    A file reached twice is read once; reached through ``people_paths`` it is read as people.
    """
    found: dict[Path, SourceFile] = {}
    problems: dict[Path, Problem] = {}
    for is_people, group in ((False, paths), (True, people_paths)):
        for raw in group:
            root = Path(raw).resolve()
            if not root.exists():
                problems[root] = Problem(str(raw), "no such file or folder")
                continue
            for path in _walk(root):
                if not supported(path):
                    problems[path] = Problem(str(path), f"unknown extension "
                                             f"{path.suffix or '(none)'!r}: skipped")
                elif path in found:
                    found[path] = SourceFile(path, found[path].file_id, is_people)
                else:
                    found[path] = SourceFile(path, path.relative_to(root.parent).as_posix(),
                                             is_people)
    return list(found.values()), list(problems.values())


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if path.is_file() and not any(part.startswith(".") for part in rel):
            yield path


class Ingester:
    """Reads files, embeds what changed, writes the store. The caller syncs the vector index."""

    def __init__(self, store: Store, embedder: Embedder, max_words: int = 180,
                 overlap: int = 30) -> None:
        self.store = store
        self.embedder = embedder
        self.max_words = max_words
        self.overlap = overlap

    def ingest(self, paths: Sequence[str | Path], people_paths: Sequence[str | Path] = (),
               sync: bool = False, strict: bool = False,
               progress: Progress | None = None) -> IngestReport:
        report = IngestReport()
        files, report.failed = find_files(paths, people_paths)
        documents, people, failed_sources = self._read_all(files, report, progress)
        if strict and report.failed:
            raise IngestError(f"{len(report.failed)} problem(s); nothing was written "
                              f"(--strict): " + "; ".join(map(str, report.failed[:5])))
        self.store.bind_embedder(self.embedder.name, self.embedder.dim)
        self._write_people(people, report.people)
        self._write_documents(documents, report, progress)
        if sync:
            roots = [Path(p).resolve() for p in [*paths, *people_paths] if Path(p).is_dir()]
            self._remove_missing(roots, {d.id for d in documents}, {p.id for p in people},
                                 failed_sources, report)
        return report

    # -- reading -------------------------------------------------------------

    def _read_all(self, files: list[SourceFile], report: IngestReport,
                  progress: Progress | None) -> tuple[list[Document], list[Person], set[str]]:
        documents: dict[str, Document] = {}
        people: dict[str, Person] = {}
        failed_sources: set[str] = set()
        for done, source in enumerate(files, start=1):
            try:
                result = read_file(source.path, source.file_id, source.people)
            except WhoknowsError as exc:
                report.failed.append(Problem(str(source.path), str(exc)))
                failed_sources.add(str(source.path))
                continue
            except Exception as exc:  # a reader bug must not lose the rest of the run
                report.failed.append(Problem(str(source.path), f"could not read: {exc!r}"))
                failed_sources.add(str(source.path))
                continue
            finally:
                if progress:
                    progress(done, len(files), f"reading {source.path.name}")
            if result.problems:
                failed_sources.add(str(source.path))
                report.failed.extend(result.problems)
            for record, seen in [*((d, documents) for d in result.documents),
                                 *((p, people) for p in result.people)]:
                if record.id in seen:
                    report.failed.append(Problem(str(source.path), f"duplicate id {record.id!r} "
                                                 f"(first seen in {seen[record.id].source})"))
                else:
                    seen[record.id] = record  # type: ignore[assignment]
        return list(documents.values()), list(people.values()), failed_sources

    # -- writing -------------------------------------------------------------

    def _write_people(self, people: list[Person], counts: Counts) -> None:
        stored = self.store.person_hashes()
        changed = []
        for person in people:
            old = stored.get(person.id)
            if old and old[0] == person.content_hash():
                counts.unchanged.append(person.id)
            else:
                changed.append(person)
                (counts.updated if old else counts.added).append(person.id)
        for start in range(0, len(changed), EMBED_BATCH):
            batch = changed[start:start + EMBED_BATCH]
            texts = [p.profile_text() for p in batch]
            vectors = self.embedder.embed([t for t in texts if t])
            at = 0
            for person, text in zip(batch, texts, strict=True):
                # A person with no profile text has no profile vector: a name says nothing.
                self.store.write_person(person, vectors[at] if text else None)
                at += bool(text)

    def _write_documents(self, documents: list[Document], report: IngestReport,
                         progress: Progress | None) -> None:
        stored = self.store.document_hashes()
        pending: list[tuple[Document, list[Chunk]]] = []
        counts = report.documents
        for done, doc in enumerate(documents, start=1):
            old = stored.get(doc.id)
            if old and old[0] == doc.content_hash():
                counts.unchanged.append(doc.id)
                if old[1] != doc.source:
                    self.store.update_document_source(doc.id, doc.source)
            else:
                (counts.updated if old else counts.added).append(doc.id)
                pending.append((doc, self.chunk(doc)))
            if sum(len(c) for _, c in pending) >= EMBED_BATCH or done == len(documents):
                report.chunks_embedded += self._embed_and_write(pending)
                pending = []
            if progress:
                progress(done, len(documents), "embedding")

    def chunk(self, doc: Document) -> list[Chunk]:
        spans = split_chunks(doc.body, self.max_words, self.overlap) or []
        return [Chunk(doc.id, i, doc.body[s.start:s.end], s.start) for i, s in enumerate(spans)]

    def _embed_and_write(self, pending: list[tuple[Document, list[Chunk]]]) -> int:
        if not pending:
            return 0
        texts = [passage_text(doc.title, c.text) for doc, chunks in pending for c in chunks]
        vectors = self.embedder.embed(texts)
        items, at = [], 0
        for doc, chunks in pending:
            items.append((doc, chunks, vectors[at:at + len(chunks)]))
            at += len(chunks)
        self.store.write_documents(items)
        return len(texts)

    def _remove_missing(self, roots: list[Path], doc_ids: set[str], person_ids: set[str],
                        failed_sources: set[str], report: IngestReport) -> None:
        """Delete what came from a synced folder and is gone now (a failed file keeps its own)."""
        def gone(source: str | None) -> bool:
            return (source is not None and source not in failed_sources
                    and any(Path(source).is_relative_to(root) for root in roots))

        for doc_id, (_, source) in self.store.document_hashes().items():
            if doc_id not in doc_ids and gone(source):
                self.store.delete_document(doc_id)
                report.documents.removed.append(doc_id)
        for person_id, (_, source) in self.store.person_hashes().items():
            if person_id not in person_ids and gone(source):
                self.store.delete_person(person_id)
                report.people.removed.append(person_id)


def passage_text(title: str, text: str) -> str:
    """What is embedded for a passage: the document title gives it context."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text
