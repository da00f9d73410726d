"""A whole store copied into another engine (`whoknows migrate --to TARGET`).

A data folder's SQLite file moves to a PostgreSQL database, or a PostgreSQL store back
to a folder, with everything it holds: every table, the passages' vectors as stored
(nothing is embedded again), and the meta that derived indexes are built and caught up
from (embedder, dimension, generation, next passage id, where the change log starts).

How it goes:

- The target must be empty (a folder with nothing in it, a database with no tables, or
  a store just created that holds no rows) or the unfinished copy of this same source.
  It is opened as a store, so it gets the store's own schema (indexes, the change log's
  triggers, FTS5 on SQLite), and each module's tables are created by their owner.
- Tables are found in the source, not listed here: all but FTS5's virtual tables and
  their shadows and SQLite's internal ones. Re-embed side tables (``reembed_*``) are
  copied too, so an interrupted re-embed resumes on the target.
- Rows go in batches by ascending source ``rowid`` (insertion order, which some
  queries read), each batch committed with the copy's progress in the target's
  ``store_copy`` table; a run stopped anywhere (kill -9 included) resumes after the
  last committed batch, and a table's first batch first empties it, so nothing is
  doubled. ``chunk_changes`` is copied after ``chunks`` (whose triggers write to it)
  and ``meta`` last.
- At the end, in one transaction: each table's rows are counted against the source,
  the FTS5 table is rebuilt from the passages (SQLite targets), PostgreSQL's id
  sequences are moved past the copied ids, and ``store_copy`` is dropped: a target
  without it is a finished store.

The copy that a target holds is told by ``store_copy``'s ``source`` row: the source's
location and the times its schema migrations ran (when it was created). A target with
another source's row, or with data and no such table, is refused. The source is only
read; it should not be written during the copy (the generations it had when the copy
began are checked at every resume and at the end).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import Conflict, WhoknowsError
from indexer.store import DB_NAME, Store, is_database_url, open_store

PROGRESS_TABLE = "store_copy"
BATCH = 1000
# Written to by triggers while other tables are copied, or read first when the store
# opens: copied after the others, in this order.
LAST = ("chunk_changes", "schema_migrations", "meta")
# What a store that was only created, and holds nothing yet, has in its meta table.
_FRESH_META = {"schema_version", "generation", "next_chunk_id", "changes_from"}

Progress = Callable[[int, int, str], None]


def check_finished(store: Store) -> None:
    """Refuse a store that is an unfinished copy (``whoknows migrate`` was interrupted
    into it): serving or ingesting it would lose what is still to come."""
    if PROGRESS_TABLE in store.db.table_names():
        raise Conflict(f"{store.where} is an unfinished copy of another store",
                       "run the same `whoknows migrate --to ...` again to finish it")


@dataclass
class TableCopy:
    """One table of a copy: the rows copied, of ``total`` in the source."""

    name: str
    total: int
    copied: int = 0
    before: int = 0  # copied by an earlier, interrupted run


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    resumed: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.copied for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "resumed": self.resumed,
                "rows": self.rows, "seconds": round(self.seconds, 3),
                "tables": {t.name: {"rows": t.copied, "of": t.total, "before": t.before}
                           for t in self.tables}}


def copy_store(source: Store, target: str | Path, progress: Progress | None = None,
               batch: int = BATCH) -> CopyReport:
    """Copy every table of ``source`` into ``target`` (a ``postgresql://`` URL or a data
    folder), resuming an unfinished copy of the same source; see the module's text."""
    started = time.perf_counter()
    origin = _identity(source)
    if source.db[PROGRESS_TABLE].exists():
        raise Conflict(f"{source.where} is itself an unfinished copy of another store",
                       "finish that copy first (run its whoknows migrate again)")
    _check_target(target)
    store = open_store(target)
    report = CopyReport(source.where, store.where)
    report.resumed = _claim(store, origin)
    for name in _tables(source):
        report.tables.append(_copy_table(source, store, name, batch, progress))
    _finish(source, store, origin, report.tables)
    report.seconds = time.perf_counter() - started
    return report


# -- the target ----------------------------------------------------------------

def _check_target(target: str | Path) -> None:
    """Refuse a folder that cannot be written, or that holds something other than a
    store's files (a copy into it resumes; what the store holds is checked next)."""
    if is_database_url(str(target)):
        return
    folder = Path(target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhoknowsError(f"cannot create the folder {folder}: {exc.strerror}",
                            "choose a folder you may write to") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WhoknowsError(f"the folder {folder} is not writable",
                            "choose a folder you may write to")
    others = sorted(p.name for p in folder.iterdir() if not p.name.startswith(DB_NAME))
    if others:
        raise Conflict(f"the folder {folder} is not empty ({', '.join(others[:3])}"
                       f"{', ...' if len(others) > 3 else ''})",
                       "copy into a new or empty folder")


def _claim(store: Store, origin: dict[str, Any]) -> bool:
    """Mark ``store`` as the copy of ``origin``: True when it already was (a resume).
    Refuses a store that holds data, or the unfinished copy of another source."""
    db = store.db
    with store.writing():
        if db[PROGRESS_TABLE].exists():
            row = db.execute(f"SELECT value FROM {PROGRESS_TABLE} WHERE key = 'source'"
                             ).fetchone()
            held = json.loads(row[0]) if row else {}
            if {k: held.get(k) for k in ("where", "created")} != {
                    k: origin[k] for k in ("where", "created")}:
                raise Conflict(f"{store.where} holds an unfinished copy of another store "
                               f"({held.get('where', 'unknown')})",
                               "copy into an empty database or folder, or finish that copy")
            if held.get("generations") != origin["generations"]:
                raise Conflict(f"{origin['where']} changed since the copy into "
                               f"{store.where} began", "empty the target and copy again, "
                               "with no process writing to the source")
            return True
        holding = _holdings(store)
        if holding:
            raise Conflict(f"{store.where} already holds a store ({holding})",
                           "copy into an empty database or folder")
        db[PROGRESS_TABLE].create({"key": str, "value": str}, pk="key")
        db.execute(f"INSERT INTO {PROGRESS_TABLE} (key, value) VALUES ('source', ?)",
                   [json.dumps(origin)])
    return False


def _holdings(store: Store) -> str:
    """What makes ``store`` not empty, in words ('' when it is empty or just created)."""
    db = store.db
    full = [f"{t} has {n} rows" for t in db.table_names() if not _skipped(db, t)
            and t not in ("meta", "schema_migrations") and (n := db[t].count)]
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    if set(meta) - _FRESH_META or meta.get("generation", "0") != "0":
        full.insert(0, f"embedder {meta.get('embedder')}, generation {meta.get('generation')}")
    return "; ".join(full[:3])


def _identity(source: Store) -> dict[str, Any]:
    """What tells this source from another, and whether it changed since."""
    where = source.where
    if source.backend == "sqlite" and where != ":memory:":
        where = str(Path(where).resolve())
    created = [r[0] for r in source.db.execute(
        "SELECT applied_at FROM schema_migrations ORDER BY version")]
    return {"where": where, "created": created,
            "generations": [source.generation, source.people_generation]}


# -- tables --------------------------------------------------------------------

def _tables(source: Store) -> list[str]:
    names = [t for t in source.db.table_names() if not _skipped(source.db, t)]
    return sorted(names, key=lambda t: (LAST.index(t) + 1 if t in LAST else 0, t))


def _skipped(db: Any, table: str) -> bool:
    """FTS5 tables and their shadows (rebuilt, not copied), SQLite's own tables, and the
    copy's progress."""
    if table == PROGRESS_TABLE or table.startswith("sqlite_"):
        return True
    if getattr(db, "dialect", "sqlite") != "sqlite":
        return False
    virtual = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")]
    return any(table == v or table.startswith(f"{v}_") for v in virtual)


def _columns(db: Any, table: str) -> dict[str, type]:
    return dict(db[table].columns_dict)


def _keys(db: Any, table: str) -> list[str]:
    keys = db[table].pks
    return [] if keys == ["rowid"] else list(keys)


def _create_like(source: Store, target: Store, table: str) -> None:
    """``table`` in the target as its owner creates it (indexes included), or, for a
    table no module here owns, with the source's columns and primary key."""
    owner = _owner(table)
    if owner is not None and not target.db[table].exists():
        owner(target)
    columns = _columns(source.db, table)
    if not target.db[table].exists():
        with target.writing():
            target.db[table].create(columns, pk=_keys(source.db, table) or None)
    have = _columns(target.db, table)
    missing = {c: k for c, k in columns.items() if c not in have}
    if missing:  # a column its owner adds later (api_keys.person_id)
        with target.writing():
            for column, kind in missing.items():
                target.db[table].add_column(column, kind)


def _owner(table: str) -> Callable[[Store], Any] | None:
    """The class whose constructor creates ``table`` on a store (the owner's schema,
    with its indexes), for the tables created on first use."""
    from indexer.feedback import FeedbackLog
    from indexer.profiles import ProfileBook
    from indexer.query_log import QueryLog
    from indexer.relationships import Relationships
    from indexer.uploads import UploadStore
    if table.startswith("mentoring_"):
        return Relationships
    return {"feedback": FeedbackLog, "query_log": QueryLog, "uploads": UploadStore,
            "profile_choices": ProfileBook}.get(table)


def _copy_table(source: Store, target: Store, table: str, batch: int,
                progress: Progress | None) -> TableCopy:
    _create_like(source, target, table)
    columns = list(_columns(source.db, table))
    key = f"table:{table}"
    state = _state(target, key)
    copied = TableCopy(table, source.db[table].count, before=state.get("copied", 0))
    copied.copied = copied.before
    if progress:
        progress(copied.copied, copied.total, table)
    while not state.get("done"):
        rows = _read(source, table, columns, state.get("after"), batch)
        with target.writing():
            if _state(target, key) != state:  # two runs at once would double rows
                raise Conflict(f"another whoknows migrate is copying into {target.where}",
                               "let it finish: one copy into a target at a time")
            if not state:  # the first batch: what the new store put there goes
                target.db.execute(f'DELETE FROM "{table}"')
            _insert(target, table, columns, [r[1:] for r in rows])
            copied.copied += len(rows)
            state = {"after": rows[-1][0] if rows else state.get("after"),
                     "copied": copied.copied, "done": len(rows) < batch}
            _save_state(target, key, state)
        if progress:
            progress(copied.copied, max(copied.total, copied.copied), table)
    return copied


def _read(source: Store, table: str, columns: Sequence[str], after: int | None,
          batch: int) -> list[tuple]:
    return source.db.execute(
        f'SELECT rowid, {_names(columns)} FROM "{table}" WHERE rowid > ? ORDER BY rowid '
        f'LIMIT ?', [-(2 ** 63) if after is None else after, batch]).fetchall()


def _insert(target: Store, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if rows:
        target.db.conn.executemany(
            f'INSERT INTO "{table}" ({_names(columns)}) VALUES '
            f'({", ".join("?" * len(columns))})', rows)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _state(target: Store, key: str) -> dict[str, Any]:
    row = target.db.execute(f"SELECT value FROM {PROGRESS_TABLE} WHERE key = ?",
                            [key]).fetchone()
    return json.loads(row[0]) if row else {}


def _save_state(target: Store, key: str, state: dict[str, Any]) -> None:
    target.db.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE key = ?", [key])
    target.db.execute(f"INSERT INTO {PROGRESS_TABLE} (key, value) VALUES (?, ?)",
                      [key, json.dumps(state)])


# -- the end -------------------------------------------------------------------

def _finish(source: Store, target: Store, origin: dict[str, Any],
            tables: list[TableCopy]) -> None:
    """Check the copy against the source, rebuild what is derived inside the store,
    and mark the target finished, in one transaction (run again if interrupted)."""
    if _identity(source)["generations"] != origin["generations"]:
        raise Conflict(f"{source.where} changed while it was copied",
                       "empty the target and copy again, with no process writing to the "
                       "source")
    with target.writing():
        short = [f"{t.name} ({n} of {t.total})" for t in tables
                 if (n := target.db[t.name].count) != source.db[t.name].count]
        if short:
            raise Conflict(f"the copy differs from the source in {', '.join(short)}",
                           "empty the target and copy again, with no process writing "
                           "to the source")
        target.rebuild_fts()
        if target.backend == "postgresql":
            for table in tables:
                _move_sequences(target.db, table.name)
        target.db.execute(f"DROP TABLE {PROGRESS_TABLE}")


def _move_sequences(db: Any, table: str) -> None:
    """PostgreSQL: the table's self-numbering columns continue after the copied ids
    (rows inserted with their ids do not advance a sequence)."""
    for column, sequence in _serial_columns(db, table):
        db.execute(f'SELECT setval(?, COALESCE(max("{column}"), 0) + 1, false) '
                   f'FROM "{table}"', [sequence])


def _serial_columns(db: Any, table: str) -> Iterator[tuple[str, str]]:
    rows = db.execute(
        "SELECT column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND "
        "table_name = ? AND column_name != 'rowid' AND column_default LIKE 'nextval(%'",
        [table]).fetchall()
    yield from ((c, s) for c, s in rows if s)
