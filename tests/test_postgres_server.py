"""The tests' PostgreSQL server (tests/postgres_server.py) and its fixtures: ``pg_url``
is a private, empty, working database; the server is on loopback only and leaves
nothing behind."""

from __future__ import annotations

import socket

import backends
import pytest

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # the postgres fixture skips, or fails in CI
    pass


def test_a_fresh_database_is_empty_and_keeps_what_is_written(pg_url):
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        conn.execute("CREATE TABLE people (id text PRIMARY KEY, name text)")
        conn.execute("INSERT INTO people VALUES (%s, %s)", ("p-ana", "Ana"))
    with psycopg.connect(pg_url) as conn:  # committed, seen by a new connection
        assert conn.execute("SELECT id, name FROM people").fetchall() == [("p-ana", "Ana")]


def test_two_databases_are_separate(pg_url, postgres):
    from postgres_server import drop_database
    other = backends.fresh_database_url(postgres)
    try:
        assert other != pg_url
        with psycopg.connect(pg_url) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        with psycopg.connect(other) as conn:
            assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)
            conn.execute("CREATE TABLE t (x int)")  # the same name, no clash
            conn.execute("INSERT INTO t VALUES (2), (3)")
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        drop_database(other)


def test_a_dropped_database_is_gone_even_with_a_connection_open(postgres):
    from postgres_server import drop_database
    url = backends.fresh_database_url(postgres)
    name = conninfo_to_dict(url)["dbname"]
    left_open = psycopg.connect(url)
    drop_database(url)
    with psycopg.connect(postgres) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        assert found.fetchall() == []
    with pytest.raises(psycopg.OperationalError):  # ended by the drop
        left_open.execute("SELECT 1")
    left_open.close()


def test_the_server_listens_on_loopback_only(postgres):
    if backends.SERVER:
        pytest.skip("WHOKNOWS_TEST_DATABASE_URL names a server these tests did not start")
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)


def _own_servers(postgres):
    """postgres_server, where this machine can start servers (``postgres`` skips, or fails
    in CI, where it cannot; a server named by WHOKNOWS_TEST_DATABASE_URL needs none)."""
    import postgres_server
    if not postgres_server.binaries():
        pytest.skip("PostgreSQL is not installed here (the tests use a server elsewhere)")
    return postgres_server


def test_a_removed_server_leaves_no_folder_and_no_listener(postgres):
    with _own_servers(postgres).running() as server:
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        root, port = server.root, server.port
        assert (root / "data").is_dir()
        assert str(root) in _setting(server.url, "unix_socket_directories")
    assert not root.exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens there any more


def test_a_first_start_on_a_port_taken_meanwhile_moves_to_a_free_one(postgres):
    server = _own_servers(postgres).PostgresServer()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server.port = taken.getsockname()[1]
        try:
            server.start()
            assert server.port != taken.getsockname()[1]
            assert _setting(server.url, "port") == str(server.port)
        finally:
            server.remove()
    assert not server.root.exists()


def _setting(url: str, name: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SHOW {name}").fetchone()[0]


def test_a_killed_test_process_leaves_no_server_behind(postgres):
    import subprocess
    import sys
    import time
    from pathlib import Path
    tests = Path(__file__).parent
    _own_servers(postgres)
    killed = subprocess.run(  # no finalizer runs, as when a timeout or the OOM killer hits
        [sys.executable, "-c", "import os, postgres_server as p; s = p.PostgresServer().start(); "
         "print(s.root, s.port, flush=True); os.kill(os.getpid(), 9)"],
        cwd=tests, capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9
    folder, port = killed.stdout.split()
    root = Path(folder)
    assert root.name.startswith("whoknows-pg-")
    deadline = time.monotonic() + 15
    while root.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not root.exists()  # the watchdog stopped the server, then removed its folder
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(port))) != 0
