"""A throwaway PostgreSQL server on loopback for the tests: ``initdb`` in a temporary
folder, ``pg_ctl start`` on a free port, trust authentication for loopback only, the
socket in the same folder, durability off (fsync, full-page writes) for speed.

PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres``
user (Debian's package creates it) and its commands run as that user. The binaries are
found on PATH or where Debian's ``postgresql`` package puts them."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "whoknows"
SETTINGS = {  # for tests only: a lost server loses its data, which is thrown away anyway
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}
# Stops the server and deletes its folder once the test process has ended, whichever
# way (a timeout's SIGTERM or a kill -9 runs no finalizer): the end of its stdin says so.
_WATCHDOG = """
import os, shutil, subprocess, sys
sys.stdin.read()
if os.path.exists(sys.argv[1]):
    subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster: ``start``, ``stop`` (the data stays: ``start`` again, on the same
    port), ``remove`` (stopped and its folder deleted)."""

    def __init__(self, root: Path | None = None) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.root = Path(root or tempfile.mkdtemp(prefix="whoknows-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(self.root), *self._stop_command()],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd="/", start_new_session=True)  # a Ctrl-C to the test run's group does not end it

    def _stop_command(self) -> list[str]:
        return [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                "-w", "stop"]

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, str(self.bin / args[0]), *args[1:]], cwd=self.root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr}{tail}")

    def start(self) -> PostgresServer:
        """Start the server, making the cluster first if there is none. A first start
        whose port was taken meanwhile tries another; one that fails leaves nothing."""
        fresh = not self.data.exists()
        try:
            if fresh:
                self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust",
                          "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
            self._start(retries=2 if fresh else 0)  # a restart keeps its port, its URL
        except BaseException:
            if fresh:
                self.remove()
            else:
                self.stop()
            raise
        return self

    def _start(self, retries: int) -> None:
        while True:
            options = " ".join([f"-p {self.port}", f"-k {self.root}",
                                *(f"-c {k}={v}" for k, v in SETTINGS.items())])
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                          str(self.root / "log"), "-w", "-t", "30", "start")
                return
            except RuntimeError as e:
                if retries == 0 or "already in use" not in str(e):
                    raise
                retries -= 1
                self.port = _free_port()

    def stop(self) -> None:
        """Stop at once (no checkpoint: the next start recovers, in milliseconds)."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self._stop_command(), cwd=self.root, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        self._watchdog.stdin.close()
        self._watchdog.wait(timeout=30)


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()


def drop_database(url: str) -> None:
    """Drop the database ``url`` names, ending the connections still open to it."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
