"""How long after an upload through one server another server finds the document: two
`whoknows serve` processes on one data folder (one machine, one SQLite store), each
with its own derived indexes in memory, jobs run by the servers' own job threads.

Every ``--every`` seconds it posts one JSON record through server A (a word no other
document holds), then searches server B for that word until B finds it, and records
the time from the upload's 202 to B's first answer with it. The hashing embedder keeps
the model's cost out of the figure (an upload's embedding adds to it with a real model).

    python bench/replica_lag.py --uploads 40 --every 1.0
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, write_results

CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048",
               "WHOKNOWS_DATA_DIR": str(Path(tmp) / "data"), "PYTHONPATH": str(ROOT)}
        env.pop("WHOKNOWS_REDIS_URL", None)
        subprocess.run([*CLI, "ingest", str(ROOT / "corpus")], env=env, check=True,
                       capture_output=True, cwd=ROOT)
        ports = [free_port(), free_port()]
        servers = [subprocess.Popen([*CLI, "serve", "--port", str(p)], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for p in ports]
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        try:
            wait_ready(a)
            wait_ready(b)
            lags = []
            for i in range(args.uploads):
                time.sleep(args.every)
                lags.append(upload_and_find(a, b, i))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    lags.sort()
    results = {"uploads": len(lags), "every_s": args.every, "embedder": "hashing-2048",
               "lag_s_p50": round(statistics.median(lags), 3),
               "lag_s_p95": round(lags[int(0.95 * (len(lags) - 1))], 3),
               "lag_s_max": round(lags[-1], 3)}
    print(results)
    write_results("replica_lag", results)


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
