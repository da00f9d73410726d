"""PostgreSQL under the store's SQL: a connection that answers as sqlite-utils does.

The store and its tables (jobs, keys, feedback, relationships, ...) are written once,
in the SQL both engines share, against the part of sqlite-utils' ``Database`` they use
(``execute``, ``query``, ``db[table].insert/upsert/update/create``, ``conn``). This
module gives a PostgreSQL connection that same face, so every module runs unchanged on
either engine, and what differs is said here, in one place:

- placeholders: ``?`` becomes ``%s`` (parameters are bound on the client, as SQLite's
  are typed by value, not by column);
- transactions: ``BEGIN IMMEDIATE`` (one writer at a time) is a transaction that first
  takes one advisory lock, so writers queue as they do on SQLite, across every
  machine; ``BEGIN`` (a read snapshot) is a repeatable-read transaction;
- JSON arrays kept as text: ``json_each(x) t`` is ``json_array_elements_text``, and
  ``json_array_length`` reads the text as JSON;
- ``rowid``: every table gets a ``rowid`` column in insertion order (SQLite's implicit
  one), which ``SELECT *`` leaves out as SQLite does; ``INTEGER PRIMARY KEY`` numbers
  itself (``BIGSERIAL``);
- ``x IS ?`` (SQLite's null-safe equality) is ``IS NOT DISTINCT FROM``;
- ``WHERE 1`` is ``WHERE TRUE``; Python's bools are stored as 0 and 1.

A lost connection is :class:`~indexer.errors.StoreUnavailable` (503) naming the
server; the next call connects again, so a replica recovers when the server is back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
import psycopg.conninfo
from psycopg.adapt import Loader

from indexer.errors import StoreUnavailable

WRITE_LOCK = 0x77686F6B  # the advisory lock every write transaction takes ("whok")
_TYPES = {str: "TEXT", int: "BIGINT", float: "DOUBLE PRECISION", bytes: "BYTEA",
          bool: "BIGINT"}
_JSON_EACH = re.compile(r"json_each\(([\w.]+)\)(?:\s+(?:AS\s+)?(?!WHERE\b|ON\b|JOIN\b)(\w+))?",
                        re.IGNORECASE)
_JSON_LENGTH = re.compile(r"json_array_length\(([\w.]+)\)", re.IGNORECASE)
_AUTO_KEY = re.compile(r"\bINTEGER PRIMARY KEY(?: AUTOINCREMENT)?", re.IGNORECASE)
_CREATE = re.compile(r"^\s*CREATE TABLE (IF NOT EXISTS )?(\w+) \((.*)\)\s*$",
                     re.IGNORECASE | re.DOTALL)


@functools.lru_cache(maxsize=4096)  # a process sends the same few statements again and again
def translate(sql: str, bound: bool) -> str:
    """SQLite's SQL as PostgreSQL's (``bound``: parameters come with it)."""
    if bound:
        sql = re.sub(r"\bIS NOT \?", "IS DISTINCT FROM ?", sql)
        sql = re.sub(r"\bIS \?", "IS NOT DISTINCT FROM ?", sql)
        sql = sql.replace("%", "%%").replace("?", "%s")
    sql = _JSON_EACH.sub(lambda m: f"json_array_elements_text(COALESCE({m[1]}, '[]')::json)"
                                   f" AS {m[2] or 'j'}(value)", sql)
    sql = _JSON_LENGTH.sub(r"json_array_length(COALESCE(\1, '[]')::json)", sql)
    sql = re.sub(r"\bWHERE 1\b(?!\s*=)", "WHERE TRUE", sql)
    created = _CREATE.match(sql)
    if created:
        columns = _AUTO_KEY.sub("BIGSERIAL PRIMARY KEY", created[3])
        sql = f"CREATE TABLE {created[1] or ''}{created[2]} ({columns}, rowid BIGSERIAL)"
    return sql


def _value(v: Any) -> Any:
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _params(params: Iterable[Any] | dict | None) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


class Cursor:
    """The answer of one statement: rows as tuples, as sqlite3's cursor gives them."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())

    @property
    def description(self) -> Any:
        return self._cursor.description


class Connection:
    """What the modules ask of ``db.conn``: ``in_transaction`` and ``executemany``."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    @property
    def in_transaction(self) -> bool:
        conn = self._db._conn
        return conn is not None and (conn.info.transaction_status
                                     != psycopg.pq.TransactionStatus.IDLE)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [_params(r) for r in rows]
        if rows:
            self._db._run(lambda c: c.executemany(translate(sql, True), rows))


class PostgresDatabase:
    """One connection to PostgreSQL with sqlite-utils' face (see the module's text)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self.conn = Connection(self)
        self._keys: dict[str, list[str]] = {}

    # -- the connection ----------------------------------------------------

    @property
    def where(self) -> str:
        """The server, as an error names it (no password)."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
        except Exception:  # noqa: BLE001 - an unreadable URL is named as given
            return "the PostgreSQL server"
        return (f"PostgreSQL at {info.get('host', 'localhost')}:{info.get('port', 5432)}"
                f"/{info.get('dbname', '')}")

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                             cursor_factory=psycopg.ClientCursor)
            except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
                # ProgrammingError: a URL psycopg cannot read (an unknown parameter)
                self._conn = None
                reason = _first_line(exc)
                if "does not exist" in reason:  # the server answered: the name is wrong
                    raise StoreUnavailable(f"{self.where}: {reason}",
                                           "create it (CREATE DATABASE ...), or check "
                                           "WHOKNOWS_DATABASE_URL") from exc
                raise StoreUnavailable(f"{self.where} is unreachable: {reason}",
                                       "start the server, or check WHOKNOWS_DATABASE_URL"
                                       ) from exc
            self._conn.adapters.register_loader("numeric", _NumericLoader)
        return self._conn

    def _run(self, work: Any) -> Any:
        conn = self._connection()
        try:
            cursor = conn.cursor()
            work(cursor)
            return cursor
        except psycopg.OperationalError as exc:
            if conn.broken or conn.closed:  # the server went away: connect again next time
                self._conn = None
                raise StoreUnavailable(f"lost the connection to {self.where}: "
                                       f"{_first_line(exc)}",
                                       "the store answers again when the server is back"
                                       ) from exc
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- sqlite-utils' face ------------------------------------------------

    def execute(self, sql: str, params: Iterable[Any] | dict | None = None) -> Cursor:
        statement = sql.strip().upper()
        if statement == "BEGIN IMMEDIATE":
            self._run(lambda c: c.execute("BEGIN"))
            return Cursor(self._run(lambda c: c.execute(
                f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")))
        if statement == "BEGIN":
            return Cursor(self._run(lambda c: c.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ")))
        bound = _params(params)
        text = translate(sql, bound is not None)
        return Cursor(self._run(lambda c: c.execute(text, bound)))

    def query(self, sql: str, params: Iterable[Any] | dict | None = None
              ) -> Iterator[dict[str, Any]]:
        cursor = self.execute(sql, params)
        if cursor.description is None:
            return iter(())
        names = [d.name for d in cursor.description]
        hidden = "rowid" in names and "rowid" not in _selected(sql)
        rows = ({k: v for k, v in zip(names, row, strict=True) if not (hidden and k == "rowid")}
                for row in cursor.fetchall())
        return iter(list(rows))

    def __getitem__(self, name: str) -> Table:
        return Table(self, name)

    def table_names(self) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name")]

    def primary_key(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = ?::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)", [table]).fetchall()
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]


class Table:
    """The part of sqlite-utils' ``Table`` the store's modules use."""

    def __init__(self, db: PostgresDatabase, name: str) -> None:
        self.db = db
        self.name = name
        self.last_pk: Any = None

    def exists(self) -> bool:
        return self.name in self.db.table_names()

    @property
    def count(self) -> int:
        return self.db.execute(f'SELECT count(*) FROM "{self.name}"').fetchone()[0]

    @property
    def pks(self) -> list[str]:
        """The primary key's columns (sqlite-utils names a table without one ``rowid``)."""
        return self.db.primary_key(self.name) or ["rowid"]

    @property
    def columns_dict(self) -> dict[str, type]:
        kinds = {"text": str, "bigint": int, "integer": int, "double precision": float,
                 "bytea": bytes}
        rows = self.db.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE "
            "table_schema = current_schema() AND table_name = ? AND column_name != 'rowid' "
            "ORDER BY ordinal_position", [self.name]).fetchall()
        return {name: kinds.get(kind, str) for name, kind in rows}

    def create(self, columns: dict[str, type], pk: str | Sequence[str] | None = None,
               if_not_exists: bool = False) -> Table:
        keys = [pk] if isinstance(pk, str) else list(pk or [])
        parts = []
        for name, kind in columns.items():
            if keys == [name] and kind is int:
                parts.append(f'"{name}" BIGSERIAL PRIMARY KEY')
            else:
                parts.append(f'"{name}" {_TYPES[kind]}'
                             + (" PRIMARY KEY" if keys == [name] else ""))
        if len(keys) > 1:
            parts.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in keys) + ")")
        parts.append("rowid BIGSERIAL")
        exists = "IF NOT EXISTS " if if_not_exists else ""
        self.db.execute(f'CREATE TABLE {exists}"{self.name}" ({", ".join(parts)})')
        return self

    def add_column(self, name: str, kind: type) -> Table:
        self.db.execute(f'ALTER TABLE "{self.name}" ADD COLUMN "{name}" {_TYPES[kind]}')
        return self

    def insert(self, row: dict[str, Any]) -> Table:
        columns = list(row)
        keys = self.db.primary_key(self.name)
        returning = f' RETURNING "{keys[0]}"' if len(keys) == 1 else ""
        found = self.db.execute(
            f'INSERT INTO "{self.name}" ({_names(columns)}) VALUES '
            f'({",".join("?" * len(columns))}){returning}', [row[c] for c in columns])
        self.last_pk = found.fetchone()[0] if returning else None
        return self

    def insert_all(self, rows: Iterable[dict[str, Any]]) -> Table:
        rows = list(rows)
        if rows:
            columns = list(rows[0])
            self.db.conn.executemany(
                f'INSERT INTO "{self.name}" ({_names(columns)}) VALUES '
                f'({",".join("?" * len(columns))})', [[r.get(c) for c in columns] for r in rows])
        return self

    def upsert(self, row: dict[str, Any], pk: str | Sequence[str]) -> Table:
        return self.upsert_all([row], pk)

    def upsert_all(self, rows: Iterable[dict[str, Any]], pk: str | Sequence[str]) -> Table:
        rows = list(rows)
        if not rows:
            return self
        keys = [pk] if isinstance(pk, str) else list(pk)
        columns = list(rows[0])
        others = [c for c in columns if c not in keys]
        action = ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in others)
                  if others else "DO NOTHING")
        self.db.conn.executemany(
            f'INSERT INTO "{self.name}" ({_names(columns)}) VALUES '
            f'({",".join("?" * len(columns))}) ON CONFLICT ({_names(keys)}) {action}',
            [[r.get(c) for c in columns] for r in rows])
        return self

    def update(self, pk_value: Any, updates: dict[str, Any]) -> Table:
        keys = self.db.primary_key(self.name)
        values = list(pk_value) if isinstance(pk_value, list | tuple) else [pk_value]
        sets = ", ".join(f'"{c}" = ?' for c in updates)
        where = " AND ".join(f'"{k}" = ?' for k in keys)
        self.db.execute(f'UPDATE "{self.name}" SET {sets} WHERE {where}',
                        [*updates.values(), *values])
        return self


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _selected(sql: str) -> str:
    """The select list of a query, lower-cased (to tell ``SELECT rowid`` from ``*``)."""
    match = re.match(r"\s*SELECT\s+(.*?)\s+FROM\s", sql, re.IGNORECASE | re.DOTALL)
    return match[1].lower() if match else ""


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _NumericLoader(Loader):
    """``numeric`` (what sum() and avg() of integers give) as SQLite answers: an int
    when whole, else a float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else float(text)
