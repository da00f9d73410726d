"""Which engine the tests' stores use: SQLite (the default), or PostgreSQL when
``WHOKNOWS_TEST_DATABASE_URL`` names a server (each store then gets a fresh database
there), so the same tests check both backends (`make test-postgresql`)."""

from __future__ import annotations

import itertools
import os
import re

from indexer.store import Store

SERVER = os.environ.get("WHOKNOWS_TEST_DATABASE_URL")
_numbers = itertools.count()


def fresh_database_url(server: str) -> str:
    """A new empty database on ``server`` (a ``postgresql://`` URL), as a URL."""
    import psycopg
    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", server.split("://", 1)[1], count=1).join(
        [server.split("://", 1)[0] + "://", ""])


def test_store() -> Store:
    """A new empty store on the engine under test."""
    return Store.open_url(fresh_database_url(SERVER)) if SERVER else Store.memory()
