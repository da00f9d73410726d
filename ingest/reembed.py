"""Moving a store to another embedding model in place: every document cut and embedded
again from its stored text, every profile embedded again, with no source file read, and
every question the store keeps a vector of (the verdicts' and the search log's, which
the learning loop and the analytics compare by cosine) embedded again from its text. A
logged search is embedded as it was typed (the log keeps no spelling correction).

The store keeps serving its old vectors meanwhile. New passages and profiles wait in
side tables, one transaction per batch, so an interrupted re-embed resumes where it
stopped. Content that changes while it runs (an ingest beside it) is embedded again
before the switch. The switch is one transaction: every passage and profile takes its
new vector, and the store records the new model. Vectors of two models never meet:
until the switch the store says the old model, after it only new vectors remain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.embedders import Embedder, embed_queries
from indexer.feedback import FeedbackLog
from indexer.records import Chunk
from indexer.store import Store
from ingest.pipeline import EMBED_BATCH, Ingester, passage_text

Progress = Callable[[int, int, str], None]

TARGET_KEY = "reembed_target"  # meta: the model the side tables hold vectors of
SIDE_TABLES = ("reembed_documents", "reembed_chunks", "reembed_people", "reembed_questions")
# Those a run of every version made (an earlier one made no table of questions): the
# ones an unfinished re-embed is known by.
FIRST_SIDE_TABLES = SIDE_TABLES[:3]
# The tables whose rows keep a question's text and its vector.
QUESTION_TABLES = ("feedback", "query_log")
CATCH_UP_ROUNDS = 5


@dataclass
class ReembedReport:
    embedder: str
    previous: str | None
    documents: int = 0  # embedded by this run (a resumed run counts only its own)
    passages: int = 0
    people: int = 0
    questions: int = 0  # distinct questions of verdicts and logged searches
    resumed: int = 0  # documents and people already embedded by an interrupted run
    seconds: float = 0.0
    switched: bool = False

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class _Pending:
    """Ids with no new vector for their content, each with its stored content hash."""
    documents: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.documents or self.people)


class Reembedder:
    """Re-embeds ``store`` with ``embedder``, passages cut to that model's window."""

    def __init__(self, store: Store, embedder: Embedder, batch_passages: int = EMBED_BATCH
                 ) -> None:
        self.store = store
        self.embedder = embedder
        self.batch_passages = batch_passages
        self.ingester = Ingester(store, embedder)

    def run(self, progress: Progress | None = None) -> ReembedReport:
        started = time.perf_counter()
        previous = self.store.get_meta("embedder")
        report = ReembedReport(self.embedder.name, previous)
        if previous == self.embedder.name:
            self._drop_side_tables()
            return report
        self._prepare()
        pending = self._pending()
        total = len(pending.documents) + len(pending.people)
        report.resumed = self._count_done()
        # Content written beside the re-embed is caught up; each round is shorter, and
        # what still changes after a few rounds is embedded inside the switch.
        for _ in range(CATCH_UP_ROUNDS):
            if not pending:
                break
            self._embed(pending, report, progress, total)
            pending = self._pending()
            total = report.documents + report.people + len(pending.documents) + \
                len(pending.people)
        self._embed_questions(self._pending_questions(), report, progress)  # unlocked
        with self.store.writing():
            self._embed(self._pending(), report, None, total)  # written since: none, or few
            self._embed_questions(self._pending_questions(), report)
            self._switch()
        report.switched = True
        report.seconds = time.perf_counter() - started
        return report

    # -- side tables ------------------------------------------------------

    def _prepare(self) -> None:
        db = self.store.db
        with self.store.writing():
            if self.store.get_meta(TARGET_KEY) != self.embedder.name:
                self._drop_side_tables()  # another model's vectors, or none: start over
                self.store.set_meta(TARGET_KEY, self.embedder.name)
            db["reembed_documents"].create({"doc_id": str, "content_hash": str,
                                            "chunking": str}, pk="doc_id", if_not_exists=True)
            db["reembed_chunks"].create({"doc_id": str, "ordinal": int, "text": str,
                                         "start": int, "vector": bytes},
                                        pk=("doc_id", "ordinal"), if_not_exists=True)
            db["reembed_people"].create({"person_id": str, "content_hash": str,
                                         "vector": bytes}, pk="person_id", if_not_exists=True)
            db["reembed_questions"].create({"query": str, "vector": bytes}, pk="query",
                                           if_not_exists=True)

    def _drop_side_tables(self) -> None:
        with self.store.writing():
            for table in SIDE_TABLES:
                self.store.db.execute(f"DROP TABLE IF EXISTS {table}")
            self.store.db.execute("DELETE FROM meta WHERE key = ?", [TARGET_KEY])

    def _count_done(self) -> int:
        db = self.store.db
        return (db.execute("SELECT count(*) FROM reembed_documents").fetchone()[0]
                + db.execute("SELECT count(*) FROM reembed_people").fetchone()[0])

    def _pending(self) -> _Pending:
        """What has no new vector for its current content; side rows of content that is
        gone or changed are dropped."""
        db = self.store.db
        stored = {doc_id: h for doc_id, (h, _, _) in self.store.document_hashes().items()}
        done = dict(db.execute("SELECT doc_id, content_hash FROM reembed_documents").fetchall())
        people = dict(db.execute("SELECT id, content_hash FROM people").fetchall())
        done_people = dict(db.execute(
            "SELECT person_id, content_hash FROM reembed_people").fetchall())
        stale = [d for d, h in done.items() if stored.get(d) != h]
        stale_people = [p for p, h in done_people.items() if people.get(p) != h]
        if stale or stale_people:
            with self.store.writing():
                for doc_id in stale:
                    db.execute("DELETE FROM reembed_chunks WHERE doc_id = ?", [doc_id])
                    db.execute("DELETE FROM reembed_documents WHERE doc_id = ?", [doc_id])
                db.conn.executemany("DELETE FROM reembed_people WHERE person_id = ?",
                                    [(p,) for p in stale_people])
        return _Pending({d: h for d, h in sorted(stored.items()) if done.get(d) != h},
                        {p: h for p, h in sorted(people.items()) if done_people.get(p) != h})

    # -- embedding ----------------------------------------------------------

    def _embed(self, pending: _Pending, report: ReembedReport, progress: Progress | None,
               total: int) -> None:
        for doc_ids in self._document_batches(list(pending.documents)):
            docs = self.store.get_documents(doc_ids)
            cut = [(doc, self.ingester.chunk(doc)) for doc in docs.values()]
            texts = [passage_text(doc.title, c.text) for doc, chunks in cut for c in chunks]
            vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dim))
            at = 0
            with self.store.writing():
                for doc, chunks in cut:
                    self._write_document(doc.id, pending.documents[doc.id], chunks,
                                         vectors[at:at + len(chunks)])
                    at += len(chunks)
            report.documents += len(cut)
            report.passages += len(texts)
            if progress:
                progress(report.documents + report.people, max(total, 1), "re-embedding")
        person_ids = list(pending.people)
        for start in range(0, len(person_ids), EMBED_BATCH):
            people = self.store.get_people(person_ids[start:start + EMBED_BATCH])
            texts = {pid: p.profile_text() for pid, p in people.items()}
            with_text = [pid for pid, text in texts.items() if text]
            vectors = self.embedder.embed([texts[pid] for pid in with_text]) if with_text \
                else np.zeros((0, self.embedder.dim))
            new = dict(zip(with_text, vectors, strict=True))
            with self.store.writing():
                self.store.db.conn.executemany(
                    "INSERT INTO reembed_people (person_id, content_hash, vector) VALUES (?, ?, ?) "
                    "ON CONFLICT (person_id) DO UPDATE SET content_hash = excluded.content_hash, "
                    "vector = excluded.vector",
                    [(pid, pending.people[pid], _blob(new.get(pid))) for pid in people])
            report.people += len(people)
            if progress:
                progress(report.documents + report.people, max(total, 1), "re-embedding")

    def _pending_questions(self) -> list[str]:
        """The questions kept with a vector that have none of the new model yet."""
        tables = [t for t in QUESTION_TABLES if self.store.has_table(t)]
        if not tables:
            return []
        asked = " UNION ".join(f"SELECT query FROM {t}" for t in tables)
        return [q for (q,) in self.store.db.execute(
            f"SELECT query FROM ({asked}) AS asked WHERE query NOT IN "
            "(SELECT query FROM reembed_questions) ORDER BY query").fetchall()]

    def _embed_questions(self, questions: Sequence[str], report: ReembedReport,
                         progress: Progress | None = None) -> None:
        """Each question read as a query (as search embeds it: its text stripped)."""
        for start in range(0, len(questions), EMBED_BATCH):
            if progress:
                progress(start, len(questions), "re-embedding the questions asked")
            batch = questions[start:start + EMBED_BATCH]
            vectors = embed_queries(self.embedder, [q.strip() for q in batch])
            with self.store.writing():
                self.store.db.conn.executemany(
                    "INSERT INTO reembed_questions (query, vector) VALUES (?, ?) "
                    "ON CONFLICT (query) DO NOTHING",
                    [(q, _blob(v)) for q, v in zip(batch, vectors, strict=True)])
            report.questions += len(batch)
        if progress and questions:
            progress(len(questions), len(questions), "re-embedding the questions asked")

    def _document_batches(self, doc_ids: Sequence[str]) -> Iterator[list[str]]:
        """About ``batch_passages`` passages per batch, judged by the stored passages."""
        counts = dict(self.store.db.execute(
            "SELECT doc_id, count(*) FROM chunks GROUP BY doc_id").fetchall())
        batch: list[str] = []
        passages = 0
        for doc_id in doc_ids:
            batch.append(doc_id)
            passages += max(counts.get(doc_id, 1), 1)
            if passages >= self.batch_passages:
                yield batch
                batch, passages = [], 0
        if batch:
            yield batch

    def _write_document(self, doc_id: str, content_hash: str, chunks: Sequence[Chunk],
                        vectors: np.ndarray) -> None:
        db = self.store.db
        db.execute("DELETE FROM reembed_chunks WHERE doc_id = ?", [doc_id])
        db.conn.executemany(
            "INSERT INTO reembed_chunks (doc_id, ordinal, text, start, vector) "
            "VALUES (?, ?, ?, ?, ?)",
            [(doc_id, c.ordinal, c.text, c.start, _blob(v))
             for c, v in zip(chunks, vectors, strict=True)])
        db.execute("INSERT INTO reembed_documents (doc_id, content_hash, chunking) "
                   "VALUES (?, ?, ?) ON CONFLICT (doc_id) DO UPDATE SET "
                   "content_hash = excluded.content_hash, chunking = excluded.chunking",
                   [doc_id, content_hash, self.ingester.chunking])

    # -- the switch ---------------------------------------------------------

    def _switch(self) -> None:
        """Inside the caller's write transaction: every passage and profile takes its new
        vector, and the store records the new model."""
        db, dim = self.store.db, self.embedder.dim
        chunking = self.ingester.chunking
        for (doc_id,) in db.execute("SELECT doc_id FROM reembed_documents").fetchall():
            rows = db.execute("SELECT ordinal, text, start, vector FROM reembed_chunks "
                              "WHERE doc_id = ? ORDER BY ordinal", [doc_id]).fetchall()
            chunks = [Chunk(doc_id, ordinal, text, start) for ordinal, text, start, _ in rows]
            vectors = np.array([np.frombuffer(v, np.float32) for *_, v in rows],
                               dtype=np.float32).reshape(len(rows), dim)
            self.store.replace_passages(doc_id, chunks, vectors, chunking)
        for person_id, vector in db.execute(
                "SELECT person_id, vector FROM reembed_people").fetchall():
            self.store.set_profile_vector(
                person_id, None if vector is None else np.frombuffer(vector, np.float32))
        for table in QUESTION_TABLES:
            if self.store.has_table(table):
                db.execute(f"UPDATE {table} SET vector = (SELECT r.vector FROM "
                           f"reembed_questions r WHERE r.query = {table}.query)")
        if self.store.has_table("feedback"):
            FeedbackLog(self.store).changed()  # whoever keeps the verdicts reads them again
        self.store.rebind_embedder(self.embedder.name, dim)
        for table in SIDE_TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("DELETE FROM meta WHERE key = ?", [TARGET_KEY])


def unfinished(store: Store) -> dict[str, object] | None:
    """An interrupted re-embed waiting to be run again: the model it moves to and how
    many documents and people it has embedded of those in the store; None when there
    is none."""
    target = store.get_meta(TARGET_KEY)
    if target is None or not all(store.db[t].exists() for t in FIRST_SIDE_TABLES):
        return None
    db = store.db
    done = (db.execute("SELECT count(*) FROM reembed_documents").fetchone()[0]
            + db.execute("SELECT count(*) FROM reembed_people").fetchone()[0])
    return {"to": target, "done": done,
            "of": store.count("documents") + store.count("people")}


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, np.float32).tobytes()
