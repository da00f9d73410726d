"""How long after an upload through one server another server finds the document.

Two `whoknows serve` processes, A and B, each with its own derived indexes in memory:

- by default (SQLite) on one data folder (one machine, one SQLite store), jobs run by
  the servers' own job threads;
- with ``--postgres``, on a PostgreSQL database of their own (a server started on
  loopback, durable: PostgreSQL's defaults) with SEPARATE data folders, as replicas
  on two machines are, and the jobs on a Redis queue (a redis-server of its own) run
  by ``--workers`` `whoknows worker` processes, each with its own data folder too.

Every ``--every`` seconds, on a fixed schedule, it posts one JSON record through A (a
word no other document holds), then searches B for that word until B finds it, and
records the time from the upload's 202 to B's first answer with it (uploads overlap
when one takes longer than ``--every``). Meanwhile it reads B's `GET /readyz` every
0.25 s: ``generations_behind`` is how many store generations B's indexes lag (B
catches up before its next search, so between searches it shows the stream coming
in). The hashing embedder keeps the model's cost out of the figure (an upload's
embedding adds to it with a real model: ``--embedder onnx-int8``).

    python bench/replica_lag.py --uploads 40 --every 1.0
    python bench/replica_lag.py --postgres --uploads 120 --every 0.5 [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common import CACHE, ROOT, write_results
from services import free_port

CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def call(url: str, body: object | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def wait_ready(base: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if call(f"{base}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} was not ready")


@contextlib.contextmanager
def sqlite_deployment(tmp: Path, env: dict) -> Iterator[tuple[list[dict], list]]:
    """One data folder for both servers; their own job threads run the uploads."""
    env = {**env, "WHOKNOWS_DATA_DIR": str(tmp / "data")}
    env.pop("WHOKNOWS_REDIS_URL", None)
    subprocess.run([*CLI, "ingest", str(ROOT / "corpus")], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    yield [env, env], []


@contextlib.contextmanager
def postgres_deployment(tmp: Path, env: dict, workers: int
                        ) -> Iterator[tuple[list[dict], list]]:
    """One database and one Redis queue; a data folder for each server and worker."""
    from services import model_cache, postgres, redis, stop, whoknows

    with postgres() as pg, redis() as redis_url:
        env = {**env, "WHOKNOWS_DATABASE_URL": pg.url, "WHOKNOWS_REDIS_URL": redis_url}
        folders = {name: tmp / name for name in
                   ["seed", "a", "b", *(f"worker-{i}" for i in range(workers))]}
        for folder in folders.values():
            folder.mkdir()
            model_cache(folder, CACHE / "models")
        subprocess.run([*CLI, "ingest", str(ROOT / "corpus")], check=True, cwd=ROOT,
                       env={**env, "WHOKNOWS_DATA_DIR": str(folders["seed"])},
                       capture_output=True)
        running = [whoknows(["worker", "--workers", "1"],
                            {**env, "WHOKNOWS_DATA_DIR": str(folders[f"worker-{i}"])},
                            tmp / f"worker-{i}.log") for i in range(workers)]
        try:
            yield [{**env, "WHOKNOWS_DATA_DIR": str(folders[s])} for s in ("a", "b")], running
        finally:
            for process in running:
                stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true",
                        help="one PostgreSQL database, separate data folders, Redis jobs")
    parser.add_argument("--workers", type=int, default=1,
                        help="`whoknows worker` processes (with --postgres)")
    parser.add_argument("--embedder", default="hashing-2048")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "WHOKNOWS_EMBEDDER": args.embedder, "PYTHONPATH": str(ROOT),
               "WHOKNOWS_DATABASE_URL": ""}
        deployment = (postgres_deployment(tmp, env, args.workers) if args.postgres
                      else sqlite_deployment(tmp, env))
        with deployment as (envs, _workers):
            ports = [free_port(), free_port()]
            servers = [subprocess.Popen([*CLI, "serve", "--port", str(p)], env=e, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for p, e in zip(ports, envs, strict=True)]
            a, b = (f"http://127.0.0.1:{p}" for p in ports)
            try:
                wait_ready(a)
                wait_ready(b)
                lags, behind = stream(a, b, args.uploads, args.every)
            finally:
                for server in servers:
                    server.terminate()
                    server.wait(timeout=30)
    lags.sort()
    results = {"store": "postgresql" if args.postgres else "sqlite", "uploads": len(lags),
               "every_s": args.every, "embedder": args.embedder, "cpus": os.cpu_count(),
               "lag_s_p50": round(statistics.median(lags), 3),
               "lag_s_p95": round(lags[int(0.95 * (len(lags) - 1))], 3),
               "lag_s_max": round(lags[-1], 3)}
    if args.postgres:
        results["workers"] = args.workers
    if behind:
        behind.sort()
        results.update({"readyz_samples": len(behind),
                        "generations_behind_p50": behind[len(behind) // 2],
                        "generations_behind_p95": behind[int(0.95 * (len(behind) - 1))],
                        "generations_behind_max": behind[-1],
                        "generations_behind_share_nonzero": round(
                            sum(1 for g in behind if g) / len(behind), 3)})
    print(results)
    write_results("replica_lag-postgres" + (f"-w{args.workers}" if args.workers > 1 else "")
                  if args.postgres else "replica_lag", results)


def stream(a: str, b: str, uploads: int, every: float) -> tuple[list[float], list[int]]:
    """Upload on a schedule through A, each found through B; B's /readyz sampled."""
    lags: list[float] = []
    behind: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            with contextlib.suppress(OSError):
                behind.append(int(call(f"{b}/readyz")[1]["generations_behind"]))

    def one(i: int) -> None:
        lags.append(upload_and_find(a, b, i))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    threads = []
    try:
        for i in range(uploads):
            time.sleep(max(0.0, started + (i + 1) * every - time.perf_counter()))
            threads.append(threading.Thread(target=one, args=(i,)))
            threads[-1].start()
        for thread in threads:
            thread.join()
    finally:
        done.set()
        sampler.join()
    if len(lags) < uploads:
        raise SystemExit(f"only {len(lags)} of {uploads} uploads were found")
    return lags, behind


def upload_and_find(a: str, b: str, i: int) -> float:
    word = f"zqx{i}marker"
    status, _ = call(f"{a}/api/admin/documents",
                     [{"id": f"lag-{i}", "title": f"Upload {i}", "body": f"{word} cranes"}])
    assert status == 202
    accepted = time.perf_counter()
    while True:
        _, body = call(f"{b}/api/search?q={word}")
        if any(hit["id"] == f"lag-{i}" for hit in body["articles"]):
            return time.perf_counter() - accepted
        if time.perf_counter() - accepted > 60:
            raise SystemExit(f"B did not find upload {i} within 60 s")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
