"""Counts and times what a `whoknows` process asks of its store, for the benchmarks.

Installed before the command runs (bench/services.py ``CLI``); does nothing unless
WHOKNOWS_BENCH_TRACE names a file. Then every statement is counted by its first words,
and its time is summed: on PostgreSQL each ``PostgresDatabase._run``, which is one round
trip to the server with the whole answer; on SQLite each ``execute`` on a connection
(the first row; the rest of a long answer is read after and not timed, so SQLite's time
is a lower bound). SIGUSR1 writes the counts to the file as JSON and starts again from
zero, so a benchmark takes them around the requests it times.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from typing import Any

_lock = threading.Lock()
_count: Counter[str] = Counter()
_seconds: Counter[str] = Counter()
_label = threading.local()


def _add(label: str, seconds: float) -> None:
    with _lock:
        _count[label] += 1
        _seconds[label] += seconds


def _kind(sql: str) -> str:
    # sqlite-utils names each savepoint anew: one kind for all of them
    words = re.sub(r"SQLITE_UTILS_[0-9A-F]{32}", "SQLITE_UTILS_*", sql, flags=re.I).split()
    head = " ".join(words[:2]).upper() if words else "?"
    for table in ("FROM", "INTO", "UPDATE"):
        if table in (w.upper() for w in words):
            i = [w.upper() for w in words].index(table)
            return f"{head} .. {table} {words[i + 1] if i + 1 < len(words) else ''}"
    return head


def _dump(path: str) -> None:
    with _lock:
        report = {"statements": sum(_count.values()),
                  "seconds": round(sum(_seconds.values()), 6),
                  "by_kind": {k: {"n": _count[k], "seconds": round(_seconds[k], 6)}
                              for k, _ in _count.most_common()}}
        _count.clear()
        _seconds.clear()
    with open(f"{path}.part", "w") as handle:  # renamed: a reader sees all of it or none
        json.dump(report, handle, indent=1)
    os.replace(f"{path}.part", path)


def _trace_postgres() -> None:
    from indexer import postgres

    run, execute = postgres.PostgresDatabase._run, postgres.PostgresDatabase.execute

    def timed_run(self: Any, work: Any) -> Any:
        started = time.perf_counter()
        try:
            return run(self, work)
        finally:
            _add(getattr(_label, "sql", "?"), time.perf_counter() - started)

    def labelled_execute(self: Any, sql: str, params: Any = None) -> Any:
        _label.sql = _kind(sql)
        return execute(self, sql, params)

    executemany = postgres.Connection.executemany

    def labelled_executemany(self: Any, sql: str, rows: Any) -> None:
        _label.sql = _kind(sql)
        executemany(self, sql, rows)

    postgres.PostgresDatabase._run = timed_run
    postgres.PostgresDatabase.execute = labelled_execute  # BEGIN IMMEDIATE: 2 round trips
    postgres.Connection.executemany = labelled_executemany


class _Traced(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        started = time.perf_counter()
        try:
            return super().execute(sql, *args)
        finally:
            _add(_kind(sql), time.perf_counter() - started)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        started = time.perf_counter()
        try:
            return super().executemany(sql, *args)
        finally:
            _add(_kind(sql), time.perf_counter() - started)


def _trace_sqlite() -> None:
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _Traced)
        return connect(*args, **kwargs)

    sqlite3.connect = traced


def install() -> None:
    path = os.environ.get("WHOKNOWS_BENCH_TRACE")
    if not path:
        return
    _trace_postgres()
    _trace_sqlite()
    signal.signal(signal.SIGUSR1, lambda *_: _dump(path))
