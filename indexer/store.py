"""The SQLite store: the source of truth for people, documents, chunks and vectors.

Every write is one transaction (``Database.atomic``), so a killed process leaves
the last committed state. ``generation`` in the meta table increases with every
change to chunks; the FAISS file records the generation it was built from, so a
stale vector index is detected and rebuilt from the stored vectors.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from indexer.changes import Changes, create_log, read_changes
from indexer.errors import IndexMismatch, NotFound, WhoknowsError
from indexer.identity import identity_key, resolve
from indexer.migrations import Migration, migrate
from indexer.records import Chunk, Document, Filters, Person, Skill, may_read

SCHEMA_VERSION = 1
DB_NAME = "whoknows.db"


class Store:
    """People, documents, chunks (with vectors), authorship and an FTS5 index.

    A store opened on a folder gives each thread its own SQLite connection (WAL lets
    readers run beside each other and beside one writer), so concurrent searches
    never queue behind one connection. An in-memory store has one connection.
    """

    def __init__(self, db: Any, connect: Callable[[], Any] | None = None,
                 where: str = ":memory:") -> None:
        """``db``: this thread's connection; ``connect`` makes one for each other thread
        (none: every thread shares ``db``, as an in-memory store must)."""
        self._connect = connect
        self._shared = db
        self._local = threading.local()
        self._local.db = db
        self.where = where  # where the store lives, as a person reads it (no password)
        # what /readyz and `whoknows status` name as the store
        self.backend = getattr(db, "dialect", "sqlite")
        self._known: set[tuple[str, str | None]] = set()  # tables and columns seen
        # (generation, document_vectors()): read once per generation, shared by readers
        self._document_vectors: tuple[int, dict[str, np.ndarray]] | None = None
        self._document_vectors_lock = threading.Lock()
        self._create_schema()

    @classmethod
    def open(cls, data_dir: str | Path) -> Store:
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return cls(_connect(path / DB_NAME), lambda: _connect(path / DB_NAME),
                   str(path / DB_NAME))

    @classmethod
    def open_url(cls, url: str) -> Store:
        """A store in a PostgreSQL database (``postgresql://...``): the same contract as a
        data folder's, shared by every process and machine that opens the URL."""
        from indexer.postgres import PostgresDatabase
        db = PostgresDatabase(url)
        return cls(db, lambda: PostgresDatabase(url), db.where)

    @property
    def db(self) -> Any:
        """This thread's connection (sqlite-utils' ``Database``, or the PostgreSQL one
        with its face: indexer/postgres.py)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._shared if self._connect is None else self._connect()
            self._local.db = db
        return db

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction. It takes the write lock up front (BEGIN IMMEDIATE):
        a transaction that read first and then wants to write while another process
        committed would fail at once instead of waiting its turn."""
        if self.db.conn.in_transaction:  # nested: part of the outer transaction
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._local.people_changed = False
        try:
            yield
            if self._local.people_changed:  # once per transaction, however many people
                self._rebuild_identities()
        except BaseException:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One read snapshot: every query inside sees the same committed state (inside
        a write transaction, that transaction's)."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            if self.db.conn.in_transaction:
                self.db.execute("COMMIT")

    @classmethod
    def memory(cls) -> Store:
        return cls(sqlite_utils.Database(memory=True))

    # -- schema and meta ---------------------------------------------------

    def _create_schema(self) -> None:
        """The store's migrations (indexer/migrations.py), those it has not had yet."""
        with self.writing():
            migrate(self.db, [
                Migration(1, "people, documents, passages, authorship, identities, keys, "
                          "jobs, meta; passage ids never reused", self._base_schema),
                Migration(2, "the change log of passages (indexer/changes.py)",
                          lambda: create_log(self.db, self.generation, self.backend)),
            ])

    def _base_schema(self) -> None:
        """What every open did before the migrations table (so a store from then takes
        it as migration 1 and keeps its data)."""
        db = self.db
        db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db["documents"].create(
            {"id": str, "title": str, "kind": str, "body": str, "tags": str,
             "language": str, "updated_at": str, "groups": str, "source": str,
             "content_hash": str, "extra": str, "chunking": str},
            pk="id", if_not_exists=True)
        if "chunking" not in db["documents"].columns_dict:  # a store from before 0.4
            db["documents"].add_column("chunking", str)
        db["chunks"].create(
            {"id": int, "doc_id": str, "ordinal": int, "text": str, "start": int,
             "vector": bytes},
            pk="id", if_not_exists=True)
        db["authorship"].create({"doc_id": str, "author": str, "author_key": str,
                                 "weight": float}, pk=("doc_id", "author"),
                                if_not_exists=True)
        db["identities"].create({"key": str, "person_id": str}, pk="key",
                                if_not_exists=True)
        db["people"].create(
            {"id": str, "name": str, "email": str, "title": str, "department": str,
             "location": str, "timezone": str, "languages": str, "manager_id": str,
             "seniority": float, "skills": str, "goals": str, "bio": str,
             "mentoring_available": int, "mentoring_capacity": int, "visible": int,
             "source": str, "content_hash": str, "vector": bytes, "aliases": str,
             "system": str, "merged_into": str},
            pk="id", if_not_exists=True)
        self._add_identity_columns()
        db["api_keys"].create(
            {"id": str, "name": str, "role": str, "groups": str, "hash": str,
             "created_at": str, "revoked_at": str},
            pk="id", if_not_exists=True)
        db["jobs"].create(
            {"id": str, "kind": str, "state": str, "params": str, "done": int, "total": int,
             "errors": str, "summary": str, "attempts": int, "created_at": str,
             "started_at": str, "finished_at": str, "heartbeat_at": str, "worker": str},
            pk="id", if_not_exists=True)
        db.execute("CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id)")
        db.execute("CREATE INDEX IF NOT EXISTS authorship_author ON authorship(author)")
        db.execute("CREATE INDEX IF NOT EXISTS authorship_key ON authorship(author_key)")
        db.execute("CREATE INDEX IF NOT EXISTS identities_person ON identities(person_id)")
        db.execute("CREATE INDEX IF NOT EXISTS documents_source ON documents(source)")
        db.execute("CREATE INDEX IF NOT EXISTS people_email ON people(email)")
        if self._fts:
            db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
                       "text, tokenize='porter unicode61 remove_diacritics 2')")
        if self.get_meta("schema_version") is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            self.set_meta("generation", "0")
        if self.get_meta("next_chunk_id") is None:
            self._stop_reusing_chunk_ids()

    def _add_identity_columns(self) -> None:
        """A store from before identities: the new columns, each author's key, and the
        identities table, once."""
        people, authorship = self.db["people"], self.db["authorship"]
        added = False
        for column in ("aliases", "system", "merged_into"):
            if column not in people.columns_dict:
                people.add_column(column, str)
                added = True
        for column, kind in (("author_key", str), ("weight", float)):
            if column not in authorship.columns_dict:
                authorship.add_column(column, kind)
                added = True
        if added:
            rows = self.db.execute("SELECT DISTINCT author FROM authorship").fetchall()
            self.db.conn.executemany("UPDATE authorship SET author_key = ? WHERE author = ?",
                                     [(identity_key(a), a) for (a,) in rows])
            self._rebuild_identities()

    def _rebuild_identities(self) -> None:
        """The identities table and merged accounts, from the people as they are now
        (inside the write transaction that changed them)."""
        found = resolve(_person_from_row(r) for r in self.db.query("SELECT * FROM people"))
        self.db.execute("DELETE FROM identities")
        self.db.conn.executemany("INSERT INTO identities (key, person_id) VALUES (?, ?)",
                                 list(found.keys.items()))
        self.db.execute("UPDATE people SET merged_into = NULL WHERE merged_into IS NOT NULL")
        self.db.conn.executemany("UPDATE people SET merged_into = ? WHERE id = ?",
                                 [(owner, pid) for pid, owner in found.merged.items()])

    def _stop_reusing_chunk_ids(self) -> None:
        """A store from before passage ids were never reused: from now on they are not,
        and derived indexes saved before may hold a reused id's old passage, so they
        are rebuilt from the stored vectors once (``indexes_valid_from``)."""
        highest = self.db.execute("SELECT max(id) FROM chunks").fetchone()[0]
        self.set_meta("next_chunk_id", str((highest or 0) + 1))
        if highest is not None:
            self._bump_generation()
            self.set_meta("indexes_valid_from", str(self.generation))

    def has_table(self, table: str, column: str | None = None) -> bool:
        """Whether the table (with ``column``) is there. The tables that modules create on
        first use are never dropped while a store is open, so once seen it is
        remembered: a search does not ask the schema each time (on PostgreSQL that is a
        round trip of a millisecond or more)."""
        if (table, column) in self._known:
            return True
        found = (self.db[table].exists() if column is None
                 else column in self.db[table].columns_dict)
        if found:
            self._known.add((table, column))
        return found

    @property
    def indexes_valid_from(self) -> int:
        """Derived indexes saved at an older generation than this are rebuilt, not synced."""
        return int(self.get_meta("indexes_valid_from") or 0)

    def get_meta(self, key: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM meta WHERE key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    def _bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation + 1))

    def changes_since(self, generation: int) -> Changes | None:
        """The passages added and removed since ``generation`` (indexer/changes.py), or
        None when the change log does not reach back that far."""
        with self.reading():
            return read_changes(self.db, generation, self.generation)

    def chunk_ids_now(self) -> tuple[int, np.ndarray]:
        """(generation, every passage id), as of one moment."""
        with self.reading():
            return self.generation, self.chunk_ids()

    @property
    def people_generation(self) -> int:
        """Advances with every write to people (caches of people key on it)."""
        return int(self.get_meta("people_generation") or 0)

    def _bump_people_generation(self) -> None:
        self.set_meta("people_generation", str(self.people_generation + 1))

    def bind_embedder(self, name: str, dim: int) -> None:
        """Record the embedding model on first use; refuse a different one later."""
        stored_name, stored_dim = self.get_meta("embedder"), self.get_meta("dim")
        if stored_name is None:
            with self.writing():
                self.set_meta("embedder", name)
                self.set_meta("dim", str(dim))
            return
        if stored_name != name or int(stored_dim or 0) != dim:
            raise IndexMismatch(
                f"this data folder was built with the embedder {stored_name} ({stored_dim} "
                f"dimensions), not {name} ({dim})",
                "use the embedder it was built with, or ingest into a new --data-dir")

    def rebind_embedder(self, name: str, dim: int) -> None:
        """Record another embedding model, once every vector is in its space (a re-embed).
        Saved derived indexes are rebuilt from the stored vectors, not caught up."""
        with self.writing():
            self.set_meta("embedder", name)
            self.set_meta("dim", str(dim))
            self._bump_generation()
            self.set_meta("indexes_valid_from", str(self.generation))

    # -- documents ---------------------------------------------------------

    def document_hashes(self) -> dict[str, tuple[str, str | None, str | None]]:
        """id -> (content hash, source, how it was chunked) for every stored document."""
        rows = self.db.query("SELECT id, content_hash, source, chunking FROM documents")
        return {r["id"]: (r["content_hash"], r["source"], r["chunking"]) for r in rows}

    def write_documents(self, items: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
                        chunking: str | None = None) -> None:
        """Insert or replace documents with their chunks, vectors and authors, atomically.
        ``chunking`` names how the chunks were cut, so a later ingest can tell when the
        chunker has changed since (and cut them again)."""
        with self.writing():
            next_id = self._allocate_chunk_ids(sum(len(chunks) for _, chunks, _ in items))
            for doc, chunks, vectors in items:
                self._write_document_rows(doc, chunks, vectors, chunking, next_id)
                next_id += len(chunks)
            self._bump_generation()

    def write_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray,
                       chunking: str | None = None) -> None:
        self.write_documents([(doc, chunks, vectors)], chunking)

    def _allocate_chunk_ids(self, n: int) -> int:
        """The first of ``n`` fresh passage ids (call inside a write transaction).

        Ids are never reused, not even those of the newest passages after they were
        deleted: the derived indexes catch up by comparing id sets, so a reused id
        would keep serving the old passage's vector and words.
        """
        highest = self.db.execute("SELECT max(id) FROM chunks").fetchone()[0]
        first = max(int(self.get_meta("next_chunk_id") or 0), (highest or 0) + 1)
        self.set_meta("next_chunk_id", str(first + n))
        return first

    def _write_document_rows(self, doc: Document, chunks: Sequence[Chunk],
                             vectors: np.ndarray, chunking: str | None, first_id: int) -> None:
        self._delete_document_rows(doc.id)
        self.db["documents"].insert({**_document_row(doc), "chunking": chunking})
        self.db["authorship"].insert_all(
            [{"doc_id": doc.id, "author": a, "author_key": identity_key(a),
              "weight": None if w == 1 else w} for a, w in doc.weight_of().items()])
        self._insert_chunks(doc.id, doc.title, chunks, vectors, first_id)

    def _insert_chunks(self, doc_id: str, title: str, chunks: Sequence[Chunk],
                       vectors: np.ndarray, first_id: int) -> None:
        for chunk_id, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True), first_id):
            self.db["chunks"].insert(
                {"id": chunk_id, "doc_id": doc_id, "ordinal": chunk.ordinal, "text": chunk.text,
                 "start": chunk.start,
                 "vector": np.asarray(vector, dtype=np.float32).tobytes()})
            if self._fts:
                self.db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)",
                                [chunk_id, _indexed_text(title, chunk.text)])

    def replace_passages(self, doc_id: str, chunks: Sequence[Chunk], vectors: np.ndarray,
                         chunking: str | None) -> None:
        """A document's passages cut and embedded again (a re-embed); the document, its
        authors and its other rows stay as they are. The passages get fresh ids."""
        with self.writing():
            row = self.db.execute("SELECT title FROM documents WHERE id = ?",
                                  [doc_id]).fetchone()
            if row is None:
                raise NotFound(f"no document with id {doc_id!r}")
            self._delete_fts(doc_id)
            self.db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
            self._insert_chunks(doc_id, row[0], chunks, vectors,
                                self._allocate_chunk_ids(len(chunks)))
            self.db.execute("UPDATE documents SET chunking = ? WHERE id = ?", [chunking, doc_id])
            self._bump_generation()

    def update_document_source(self, doc_id: str, source: str | None) -> None:
        with self.writing():
            self.db.execute("UPDATE documents SET source = ? WHERE id = ?", [source, doc_id])

    def delete_document(self, doc_id: str) -> None:
        with self.writing():
            if not self._delete_document_rows(doc_id):
                raise NotFound(f"no document with id {doc_id!r}")
            self._bump_generation()

    def _delete_document_rows(self, doc_id: str) -> bool:
        found = self.db.execute("SELECT 1 FROM documents WHERE id = ?", [doc_id]).fetchone()
        self._delete_fts(doc_id)
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
        self.db.execute("DELETE FROM authorship WHERE doc_id = ?", [doc_id])
        self.db.execute("DELETE FROM documents WHERE id = ?", [doc_id])
        return found is not None

    @property
    def _fts(self) -> bool:
        """The FTS5 table, SQLite's reference keyword search (``keyword_search``); search
        itself ranks on the in-memory index on either engine."""
        return self.backend == "sqlite"

    def rebuild_fts(self, batch: int = 5000) -> None:
        """The FTS5 table made again from the stored passages (a store whose rows were
        copied in without it: indexer/copying.py); nothing to do on PostgreSQL."""
        if not self._fts:
            return
        with self.writing():
            self.db.execute("DELETE FROM chunks_fts")
            passages = ((p[0], p[2]) for p in self.iter_passages())
            while rows := list(itertools.islice(passages, batch)):
                self.db.conn.executemany("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)",
                                         rows)

    def _delete_fts(self, doc_id: str) -> None:
        if self._fts:
            self.db.execute("DELETE FROM chunks_fts WHERE rowid IN "
                            "(SELECT id FROM chunks WHERE doc_id = ?)", [doc_id])

    def get_documents(self, ids: Iterable[str]) -> dict[str, Document]:
        """The documents, as shown: authors who opted out are left out of ``authors``."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        authors: dict[str, list[str]] = {}
        # The authors a reader may see: not those who are a person who opted out (by any
        # name they answer to). Every display of a document reads it here.
        for row in self.db.query(f"SELECT doc_id, author FROM authorship a WHERE doc_id IN "
                                 f"({marks}) AND NOT EXISTS (SELECT 1 FROM identities i "
                                 f"JOIN people p ON p.id = i.person_id WHERE "
                                 f"i.key = a.author_key AND p.visible = 0) ORDER BY a.rowid", ids):
            authors.setdefault(row["doc_id"], []).append(row["author"])
        rows = self.db.query(f"SELECT * FROM documents WHERE id IN ({marks})", ids)
        return {r["id"]: _document_from_row(r, authors.get(r["id"], [])) for r in rows}

    def get_document(self, doc_id: str, groups: Sequence[str] | None = None) -> Document:
        """The document, for a caller with access ``groups`` (None: reads everything).
        A document the caller may not read answers exactly as a missing one, so a
        restricted id is never confirmed to exist."""
        doc = self.get_documents([doc_id]).get(doc_id)
        if doc is None or not may_read(doc.groups, groups):
            raise NotFound(f"no document with id {doc_id!r}", "check the id with `whoknows search`")
        return doc

    def count(self, table: str) -> int:
        return self.db[table].count

    def count_documents(self, filters: Filters | None = None) -> int:
        """How many documents ``filters`` lets through (a caller's groups included)."""
        where, params = document_filter_sql(filters or Filters())
        return self.db.execute(f"SELECT count(*) FROM documents d WHERE 1 {where}",
                               params).fetchone()[0]

    def count_visible_people(self) -> int:
        """People who may be shown (not opted out, not an account merged into someone)."""
        return self.db.execute(f"SELECT count(*) FROM people WHERE {_LISTED}").fetchone()[0]

    # -- chunks and vectors ------------------------------------------------

    def get_chunks(self, chunk_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.query(f"SELECT id, doc_id, ordinal, text, start FROM chunks "
                             f"WHERE id IN ({marks})", ids)
        return {r["id"]: r for r in rows}

    def chunk_documents(self, chunk_ids: Iterable[int], filters: Filters | None = None
                        ) -> dict[int, str]:
        """chunk id -> document id for those of ``chunk_ids`` whose document passes
        ``filters`` (all of them without filters)."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        where, params = document_filter_sql(filters) if filters else ("", [])
        join = " JOIN documents d ON d.id = c.doc_id" if where else ""
        rows = self.db.execute(f"SELECT c.id, c.doc_id FROM chunks c{join} WHERE c.id IN "
                               f"({','.join('?' * len(ids))}) {where}", [*ids, *params])
        return dict(rows.fetchall())

    def iter_vectors(self, batch: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (chunk ids, vectors) in batches, without holding every vector at once."""
        last = -1
        while True:
            rows = self.db.execute("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id "
                                   "LIMIT ?", [last, batch]).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vectors

    def vector_sums_by_language(self, batch: int = 50_000
                                ) -> dict[str | None, tuple[int, np.ndarray]]:
        """Per document language (None: not known): how many passages it has and the sum
        of their vectors, read in one ordered pass."""
        sums: dict[str | None, tuple[int, np.ndarray]] = {}
        last = -1
        while rows := self.db.execute(
                "SELECT c.id, c.vector, d.language FROM chunks c JOIN documents d "
                "ON d.id = c.doc_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
                [last, batch]).fetchall():
            last = rows[-1][0]
            for language in {r[2] for r in rows}:
                part = np.vstack([np.frombuffer(r[1], dtype=np.float32)
                                  for r in rows if r[2] == language])
                count, total = sums.get(language, (0, 0.0))
                sums[language] = (count + len(part), total + part.sum(axis=0))
        return sums

    def passages_by_language(self) -> dict[str | None, int]:
        """Per document language (None: not known): how many passages it has, the most
        first."""
        return {r[0]: int(r[1]) for r in self.db.execute(
            "SELECT d.language, count(*) AS n FROM chunks c JOIN documents d "
            "ON d.id = c.doc_id GROUP BY d.language ORDER BY n DESC").fetchall()}

    def chunk_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self.db.execute("SELECT id FROM chunks")], dtype=np.int64)

    def vectors_of(self, chunk_ids: np.ndarray, batch: int = 50_000
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (chunk ids, vectors) for ``chunk_ids`` in batches (ids gone are skipped)."""
        for start in range(0, len(chunk_ids), batch):
            part = np.asarray(chunk_ids[start:start + batch]).tolist()
            rows = self.db.execute(f"SELECT id, vector FROM chunks WHERE id IN "
                                   f"({','.join('?' * len(part))})", part).fetchall()
            if rows:
                yield (np.array([r[0] for r in rows], dtype=np.int64),
                       np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))

    def iter_passages(self, chunk_ids: np.ndarray | None = None, batch: int = 20_000
                      ) -> Iterator[tuple[int, str, str, str | None]]:
        """(chunk id, document id, title and text as the FTS5 table holds them, the
        document's language), by ascending chunk id: every passage, or those of
        ``chunk_ids`` still stored."""
        select = ("SELECT c.id, c.doc_id, d.title, c.text, d.language FROM chunks c "
                  "JOIN documents d ON d.id = c.doc_id WHERE ")
        if chunk_ids is None:
            last = -1
            while rows := self.db.execute(select + "c.id > ? ORDER BY c.id LIMIT ?",
                                          [last, batch]).fetchall():
                last = rows[-1][0]
                yield from ((r[0], r[1], _indexed_text(r[2], r[3]), r[4]) for r in rows)
            return
        wanted = np.sort(np.asarray(chunk_ids, dtype=np.int64))
        for start in range(0, len(wanted), batch):
            part = wanted[start:start + batch].tolist()
            rows = self.db.execute(select + f"c.id IN ({','.join('?' * len(part))}) "
                                   "ORDER BY c.id", part).fetchall()
            yield from ((r[0], r[1], _indexed_text(r[2], r[3]), r[4]) for r in rows)

    def sample_vectors(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` stored chunk vectors picked at random (to train an IVF index)."""
        ids = self.chunk_ids()
        if n < len(ids):
            ids = np.sort(np.random.default_rng(seed).choice(ids, size=n, replace=False))
        parts = [vectors for _, vectors in self.vectors_of(ids)]
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def document_vectors(self) -> dict[str, np.ndarray]:
        """doc id -> the unit mean of its passage vectors, read-only. Read in one ordered
        pass once per generation and shared: the expert ranker and the mentor catalog
        hold the same vectors, not a copy each (inside a transaction: read, not kept)."""
        if self.db.conn.in_transaction:  # a write's own state may yet be rolled back
            return self._read_document_vectors()
        generation = self.generation  # before the read: a newer read is never kept as older
        with self._document_vectors_lock:
            kept = self._document_vectors
            if kept is not None and kept[0] == generation:
                return kept[1]
            out = self._read_document_vectors()
            self._document_vectors = (generation, out)
            return out

    def _read_document_vectors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        current, acc = None, None
        for doc_id, blob in self.db.execute("SELECT doc_id, vector FROM chunks ORDER BY doc_id"):
            vector = np.frombuffer(blob, dtype=np.float32)
            if doc_id != current:
                if current is not None:
                    out[current] = _unit(acc)
                current, acc = doc_id, vector.copy()
            else:
                acc += vector
        if current is not None:
            out[current] = _unit(acc)
        return out

    def keyword_search(self, match: str, limit: int,
                       filters: Filters | None = None) -> list[tuple[int, str, float]]:
        """BM25 over the FTS5 table: (chunk id, doc id, score), best first, within
        ``filters``. Search ranks on the in-memory index derived from these passages
        (indexer/keywords.py), which gives the same scores faster; this is the
        reference it is tested against."""
        if not self._fts:
            raise WhoknowsError("the FTS5 reference keyword search is SQLite's",
                                "search ranks keywords on the in-memory index")
        where, params = document_filter_sql(filters) if filters else ("", [])
        sql = ("SELECT c.id, c.doc_id, -bm25(chunks_fts) AS score FROM chunks_fts "
               "JOIN chunks c ON c.id = chunks_fts.rowid "
               f"JOIN documents d ON d.id = c.doc_id WHERE chunks_fts MATCH ? {where} "
               "ORDER BY bm25(chunks_fts) LIMIT ?")
        rows = self.db.execute(sql, [match, *params, limit]).fetchall()
        return [(r[0], r[1], float(r[2])) for r in rows]

    def chunk_ids_matching(self, filters: Filters) -> np.ndarray:
        where, params = document_filter_sql(filters)
        rows = self.db.execute(f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id "
                               f"WHERE 1 {where}", params).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    # -- people ------------------------------------------------------------

    def person_hashes(self) -> dict[str, tuple[str, str | None]]:
        rows = self.db.query("SELECT id, content_hash, source FROM people")
        return {r["id"]: (r["content_hash"], r["source"]) for r in rows}

    def write_person(self, person: Person, vector: np.ndarray | None) -> None:
        row = _person_row(person)
        row["vector"] = None if vector is None else np.asarray(vector, np.float32).tobytes()
        with self.writing():
            self.db["people"].upsert(row, pk="id")
            self._people_changed()

    def set_profile_vector(self, person_id: str, vector: np.ndarray | None) -> None:
        """A person's profile embedded again (a re-embed); the record stays as it is."""
        with self.writing():
            self.db.execute("UPDATE people SET vector = ? WHERE id = ?", [
                None if vector is None else np.asarray(vector, np.float32).tobytes(), person_id])
            self._people_changed()

    def delete_person(self, person_id: str) -> None:
        with self.writing():
            if not self.db.execute("SELECT 1 FROM people WHERE id = ?", [person_id]).fetchone():
                raise NotFound(f"no person with id {person_id!r}")
            self.db.execute("DELETE FROM people WHERE id = ?", [person_id])
            self._people_changed()

    def _people_changed(self) -> None:
        """Inside a write: caches of people are stale, and identities are rebuilt at commit."""
        self._bump_people_generation()
        self._local.people_changed = True

    def get_people(self, ids: Iterable[str] | None = None) -> dict[str, Person]:
        """The people with ``ids``; all of them (accounts merged into a person left out)
        without."""
        if ids is None:
            rows = self.db.query("SELECT * FROM people WHERE merged_into IS NULL")
        else:
            ids = list(dict.fromkeys(ids))
            if not ids:
                return {}
            marks = ",".join("?" * len(ids))
            rows = self.db.query(f"SELECT * FROM people WHERE id IN ({marks})", ids)
        return {r["id"]: _person_from_row(r) for r in rows}

    def get_person(self, person_id: str, shown: bool = False) -> Person:
        """The person; with ``shown``, only one who may be shown (not opted out): one who
        opted out then answers exactly as a missing one."""
        person = self.get_people([person_id]).get(person_id)
        if person is not None and shown and self._merged_into(person_id):
            person = None  # listed as the person it was merged into
        if person is None or (shown and not person.visible):
            raise NotFound(f"no person with id {person_id!r}",
                           "check the id with `whoknows experts`")
        return person

    def _merged_into(self, person_id: str) -> str | None:
        row = self.db.execute("SELECT merged_into FROM people WHERE id = ?",
                              [person_id]).fetchone()
        return row[0] if row else None

    def profile_vectors(self) -> tuple[list[str], np.ndarray]:
        rows = self.db.execute("SELECT id, vector FROM people WHERE vector IS NOT NULL "
                               "AND merged_into IS NULL ORDER BY id").fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [r[0] for r in rows], np.vstack([np.frombuffer(r[1], np.float32) for r in rows])

    def document_labels(self) -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """doc id -> (title, tags, groups) of every document: the light listing that
        mentoring needs, without the bodies."""
        rows = self.db.query("SELECT id, title, tags, groups FROM documents")
        return {r["id"]: (r["title"], _json_list(r["tags"]), _json_list(r["groups"]))
                for r in rows}

    def languages(self, filters: Filters | None = None) -> list[str]:
        """The languages of the documents ``filters`` lets through, sorted."""
        where, params = document_filter_sql(filters or Filters(), alias="d")
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT d.language FROM documents d WHERE d.language IS NOT NULL "
            f"{where} ORDER BY d.language", params)]

    def tags(self, filters: Filters | None = None) -> list[str]:
        """The tags of the documents ``filters`` lets through, sorted."""
        where, params = document_filter_sql(filters or Filters(), alias="d")
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT t.value FROM documents d, json_each(d.tags) t "
            f"WHERE t.value IS NOT NULL {where} ORDER BY t.value", params)]

    def departments(self) -> list[str]:
        """The departments of people who may be shown (not opted out), sorted."""
        return self._visible_people_values("department")

    def locations(self) -> list[str]:
        """The locations of people who may be shown (not opted out), sorted."""
        return self._visible_people_values("location")

    def _visible_people_values(self, column: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT {column} FROM people WHERE {_LISTED} AND {column} IS NOT NULL "
            f"AND {column} != '' ORDER BY {column}")]

    def single_document_sources(self, sources: Iterable[str]) -> set[str]:
        """The ``sources`` from which exactly one document and no person was read."""
        wanted = sorted(set(sources))
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        single = {r[0] for r in self.db.execute(
            f"SELECT source FROM documents WHERE source IN ({marks}) GROUP BY source "
            f"HAVING count(*) = 1", wanted)}
        return single - {r[0] for r in self.db.execute(
            f"SELECT DISTINCT source FROM people WHERE source IN ({marks})", wanted)}

    def documents_of(self, person: Person, filters: Filters | None = None,
                     limit: int = 50) -> list[dict[str, Any]]:
        """The person's documents and lessons (by any name they answer to), newest first."""
        where, params = document_filter_sql(filters or Filters())
        sql = (f"SELECT DISTINCT d.id, d.title, d.kind, d.updated_at FROM documents d "
               f"JOIN authorship a ON a.doc_id = d.id JOIN identities i ON "
               f"i.key = a.author_key WHERE i.person_id = ? "
               f"{where} ORDER BY d.updated_at DESC, d.id LIMIT ?")
        return list(self.db.query(sql, [person.id, *params, limit]))

    def authors_by_document(self, doc_ids: Sequence[str] | None = None) -> dict[str, list[str]]:
        """doc id -> its authors as person ids (through ``identities``); an author who is
        nobody known stays as written."""
        return {d: [a for a, _ in pairs] for d, pairs in self.authorship(doc_ids).items()}

    def authorship(self, doc_ids: Sequence[str] | None = None
                   ) -> dict[str, list[tuple[str, float]]]:
        """doc id -> (person id, or the author as written when nobody known, evidence
        weight) in the document's order; one entry per person."""
        sql = ("SELECT a.doc_id, COALESCE(i.person_id, a.author), COALESCE(a.weight, 1.0) "
               "FROM authorship a LEFT JOIN identities i ON i.key = a.author_key")
        params: list[Any] = []
        if doc_ids is not None:
            if not doc_ids:
                return {}
            sql += f" WHERE a.doc_id IN ({','.join('?' * len(doc_ids))})"
            params = list(doc_ids)
        out: dict[str, dict[str, float]] = {}
        for doc_id, person, weight in self.db.execute(sql + " ORDER BY a.rowid", params):
            mine = out.setdefault(doc_id, {})
            mine[person] = max(weight, mine.get(person, weight))  # two names of one person
        return {d: list(pairs.items()) for d, pairs in out.items()}

    def merged_accounts(self) -> int:
        """Tool accounts that are a person of the people files (``indexer.identity``)."""
        return self.db.execute("SELECT count(*) FROM people WHERE merged_into IS NOT NULL"
                               ).fetchone()[0]

    def unmatched_authors(self, limit: int = 10) -> tuple[int, list[tuple[str, int, bool]]]:
        """Authors who are nobody known: how many in all, and the most frequent
        (as written, documents, ambiguous: a name or email several people share)."""
        base = ("FROM authorship a LEFT JOIN identities i ON i.key = a.author_key "
                "WHERE i.person_id IS NULL")
        total = self.db.execute(f"SELECT count(DISTINCT a.author_key) {base}").fetchone()[0]
        top = self.db.execute(
            f"SELECT min(a.author), count(DISTINCT a.doc_id), "
            f"max(CASE WHEN i.key IS NOT NULL THEN 1 ELSE 0 END) {base} "
            f"GROUP BY a.author_key ORDER BY count(DISTINCT a.doc_id) DESC, min(a.author) "
            f"LIMIT ?", [limit]).fetchall()
        return total, [(a, n, bool(ambiguous)) for a, n, ambiguous in top]


def open_store(where: str | Path) -> Store:
    """The store at ``where``: a ``postgresql://`` URL, or a data folder."""
    if is_database_url(str(where)):
        return Store.open_url(str(where))
    return Store.open(where)


def is_database_url(where: str) -> bool:
    return where.startswith(("postgresql://", "postgres://"))


def _connect(path: Path) -> sqlite_utils.Database:
    # check_same_thread off: a connection may be handed to another thread (a worker's
    # heartbeat), but each thread asks for its own through ``Store.db``.
    db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
    db.enable_wal()
    db.execute("PRAGMA busy_timeout = 10000")
    return db


# -- filters -----------------------------------------------------------------

def document_filter_sql(filters: Filters, alias: str = "d") -> tuple[str, list[Any]]:
    """An ``AND ...`` clause over the documents table (aliased ``d``) and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []

    def among(values: Sequence[str]) -> str:
        params.extend(v.lower() for v in values)
        return ",".join("?" * len(values))

    if filters.kinds:
        clauses.append(f"lower({alias}.kind) IN ({among(filters.kinds)})")
    if filters.languages:
        clauses.append(f"lower({alias}.language) IN ({among(filters.languages)})")
    if filters.tags:
        clauses.append(f"EXISTS (SELECT 1 FROM json_each({alias}.tags) "
                       f"WHERE lower(value) IN ({among(filters.tags)}))")
    if filters.departments:
        clauses.append(
            f"{alias}.id IN (SELECT a.doc_id FROM authorship a JOIN identities i ON "
            f"i.key = a.author_key JOIN people p ON p.id = i.person_id "
            f"WHERE lower(p.department) IN ({among(filters.departments)}))")
    if filters.updated_after:
        clauses.append(f"{alias}.updated_at >= ?")
        params.append(filters.updated_after)
    if filters.updated_before:
        clauses.append(f"{alias}.updated_at <= ?")
        params.append(filters.updated_before)
    if filters.groups is not None:
        readable = f"json_array_length({alias}.groups) = 0"
        if filters.groups:
            readable += (f" OR EXISTS (SELECT 1 FROM json_each({alias}.groups) "
                         f"WHERE lower(value) IN ({among(filters.groups)}))")
        clauses.append(f"({readable})")
    return "".join(f" AND {c}" for c in clauses), params


# -- rows --------------------------------------------------------------------

# People who may be listed: not opted out, and not an account merged into a person.
_LISTED = "visible != 0 AND merged_into IS NULL"

def _indexed_text(title: str, text: str) -> str:
    """What keyword search indexes for a passage (FTS5 and the in-memory index alike)."""
    return f"{title}\n{text}"


def _json_list(text: str | None) -> tuple[str, ...]:
    value = json.loads(text or "[]")
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _document_row(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "kind": doc.kind, "body": doc.body,
            "tags": json.dumps(list(doc.tags)), "language": doc.language,
            "updated_at": doc.updated_at, "groups": json.dumps(list(doc.groups)),
            "source": doc.source, "content_hash": doc.content_hash(),
            "extra": json.dumps(doc.extra, default=str)}


def _document_from_row(row: dict[str, Any], authors: Sequence[str]) -> Document:
    return Document(id=row["id"], title=row["title"], body=row["body"], kind=row["kind"],
                    authors=tuple(authors),
                    tags=_json_list(row["tags"]), language=row["language"],
                    updated_at=row["updated_at"], groups=_json_list(row["groups"]),
                    source=row["source"], extra=json.loads(row["extra"] or "{}"))


def _person_row(p: Person) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "email": p.email, "title": p.title,
            "department": p.department, "location": p.location, "timezone": p.timezone,
            "languages": json.dumps(list(p.languages)), "manager_id": p.manager_id,
            "seniority": p.seniority,
            "skills": json.dumps([{"name": s.name, "level": s.level, "years": s.years}
                                  for s in p.skills]),
            "goals": json.dumps(list(p.goals)), "bio": p.bio,
            "mentoring_available": int(p.mentoring_available),
            "mentoring_capacity": p.mentoring_capacity, "visible": int(p.visible),
            "source": p.source, "content_hash": p.content_hash(),
            "aliases": json.dumps(list(p.aliases)) if p.aliases else None,
            "system": p.system}


def _person_from_row(r: dict[str, Any]) -> Person:
    return Person(id=r["id"], name=r["name"], email=r["email"], title=r["title"],
                  department=r["department"], location=r["location"], timezone=r["timezone"],
                  languages=tuple(json.loads(r["languages"] or "[]")),
                  manager_id=r["manager_id"], seniority=r["seniority"],
                  skills=tuple(Skill(**s) for s in json.loads(r["skills"] or "[]")),
                  goals=tuple(json.loads(r["goals"] or "[]")), bio=r["bio"],
                  mentoring_available=bool(r["mentoring_available"]),
                  mentoring_capacity=int(r["mentoring_capacity"] or 0),
                  visible=bool(r["visible"]), source=r["source"],
                  aliases=_json_list(r.get("aliases")), system=r.get("system"))


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1, read-only (shared between readers)."""
    unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
    unit.setflags(write=False)
    return unit
