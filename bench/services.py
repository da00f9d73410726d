"""What the many-machine benchmarks start: a PostgreSQL server and a redis-server of
their own on loopback, `whoknows` processes, and waiting for them.

The PostgreSQL server is the tests' throwaway one (tests/postgres_server.py) with
PostgreSQL's own durability defaults put back (fsync, synchronous commit, full-page
writes on): a benchmark should pay for a commit what a deployment pays.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common import ROOT

from tests import postgres_server

DURABLE = {**postgres_server.SETTINGS, "fsync": "on", "synchronous_commit": "on",
           "full_page_writes": "on"}
# The `whoknows` command, with bench/store_trace.py installed (it does nothing unless
# WHOKNOWS_BENCH_TRACE names a file).
CLI = [sys.executable, "-c", "import sys; sys.path.append('bench'); import store_trace; "
       "store_trace.install(); from api.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres() -> Iterator[postgres_server.PostgresServer]:
    """A PostgreSQL server on loopback, durable, removed afterwards."""
    postgres_server.SETTINGS = DURABLE  # read when the server starts
    server = postgres_server.PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()


def create_database(url: str, name: str) -> str:
    """A new empty database on the server of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """A redis-server on loopback, nothing saved; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: _accepts(port), "redis-server", 10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_for(check, what: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} was not ready within {timeout:.0f} s")


def whoknows(args: list[str], env: dict, log: Path | None = None) -> subprocess.Popen:
    """A `whoknows` process (output to ``log``, or nowhere)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    return subprocess.Popen([*CLI, *args], env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def ready(base: str) -> bool:
    try:
        return bool(get(f"{base}/readyz").get("ready"))
    except urllib.error.HTTPError:
        return False


def trace(process: subprocess.Popen, path: Path) -> dict:
    """What bench/store_trace.py counted in ``process`` since the last call (then zero)."""
    import signal

    path.unlink(missing_ok=True)
    os.kill(process.pid, signal.SIGUSR1)
    wait_for(path.exists, "the store trace", 10)
    return json.loads(path.read_text())


def model_cache(data_dir: Path, source: Path) -> None:
    """Give a new data folder the model files ``source`` holds (the ONNX export is made
    once per folder otherwise, which would be timed as work)."""
    (data_dir / "models").mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.onnx"):
        target = data_dir / "models" / path.name
        if not target.exists():
            os.link(path, target) if path.stat().st_dev == data_dir.stat().st_dev \
                else shutil.copy(path, target)
