"""Which engine the tests' stores use: SQLite (the default), or PostgreSQL with
``WHOKNOWS_TEST_ENGINE=postgresql`` (`make test-postgresql`), so that the same tests
check both backends. On PostgreSQL each data folder a test makes gets a fresh database
of its own on the test server (the ``postgres`` fixture starts one, or uses
``WHOKNOWS_TEST_DATABASE_URL``); the folder then keeps only the derived indexes."""

from __future__ import annotations

import itertools
import os
import secrets
from pathlib import Path

from api.settings import Settings
from indexer.store import Store

ENGINE = os.environ.get("WHOKNOWS_TEST_ENGINE", "sqlite")
SERVER = os.environ.get("WHOKNOWS_TEST_DATABASE_URL")  # a running server to use
ON_POSTGRESQL = ENGINE == "postgresql"
_numbers = itertools.count()
_server: list[str] = []  # the test server's base URL, once the ``postgres`` fixture ran
_databases: dict[Path, str] = {}  # data folder -> its database, on PostgreSQL


def use_server(url: str) -> None:
    _server[:] = [url]


def fresh_database_url(server: str) -> str:
    """A new empty database on ``server`` (a ``postgresql://`` URL), as a URL."""
    import psycopg
    import psycopg.conninfo
    name = f"t{os.getpid()}_{next(_numbers)}_{secrets.token_hex(3)}"  # no other run's
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return psycopg.conninfo.make_conninfo(server, dbname=name) if "://" not in server else (
        server.rsplit("/", 1)[0] + f"/{name}")


def database_for(data_dir: Path) -> str | None:
    """The database of a test's data folder on PostgreSQL (the same one each time the
    folder is opened again); None on SQLite."""
    if not ON_POSTGRESQL:
        return None
    key = Path(data_dir).resolve()
    if key not in _databases:
        assert _server, "the postgres fixture starts the server first (conftest.py)"
        _databases[key] = fresh_database_url(_server[0])
    return _databases[key]


def share(data_dir: Path, other: Path) -> None:
    """``data_dir`` opens ``other``'s store (a copy of a folder's indexes, on PostgreSQL)."""
    url = database_for(other)
    if url:
        _databases[Path(data_dir).resolve()] = url


def settings(data_dir: Path, **fields) -> Settings:
    """Settings for a test's data folder, on the engine under test."""
    return Settings(data_dir=data_dir, database_url=database_for(data_dir), **fields)


def open_store(data_dir: Path) -> Store:
    url = database_for(data_dir)
    return Store.open_url(url) if url else Store.open(data_dir)


def env(data_dir: Path) -> dict[str, str]:
    """What a subprocess needs besides WHOKNOWS_DATA_DIR to open the same store."""
    url = database_for(data_dir)
    return {"WHOKNOWS_DATABASE_URL": url} if url else {}


def test_store() -> Store:
    """A new empty store on the engine under test (in memory on SQLite)."""
    if ON_POSTGRESQL:
        assert _server, "the postgres fixture starts the server first (conftest.py)"
        return Store.open_url(fresh_database_url(_server[0]))
    return Store.memory()
