"""Search throughput over HTTP with 1, 2, 4 and 8 concurrent clients, and latency while
a re-index runs: do searches run side by side, or queue behind each other?

    python bench/throughput_http.py --corpus demo       # the demo company (corpus/)
    python bench/throughput_http.py --corpus 100k       # 100k passages (bench/latency_inprocess.py)
    python bench/throughput_http.py --corpus demo --server-workers 2

Starts `whoknows serve` on a free loopback port over a copy-free data folder (the
demo corpus ingested once under bench/.cache/, or the cached 100k-passage folder
that bench/latency_inprocess.py builds), warms it up, then for each client count
sends `GET /api/search?q=...&limit=10` (16 queries in random order, 5 experts each)
for ``--seconds`` on one keep-alive connection per client, and reports requests
per second, the speed-up over one client, and p50/p95. Last, it starts
`POST /api/admin/reindex` (a rebuild of both derived indexes from the stored
vectors) and measures 2 clients while it runs. All traffic stays on 127.0.0.1 and
is bounded by ``--seconds`` per step. The clients run in this process (threads
that mostly wait on the socket), on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse

from common import CACHE, ROOT, write_results
from latency_http import QUERIES, request, run


def data_folder(corpus: str, embedder: str) -> tuple[os.PathLike, dict]:
    """The data folder to serve and the environment for `whoknows`."""
    if corpus == "demo":
        data = CACHE / f"throughput-demo-{embedder}"
        env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_EMBEDDER": embedder,
               "WHOKNOWS_REDIS_URL": ""}
        if not (data / "whoknows.db").exists():
            run(["ingest", str(ROOT / "corpus")], env, stdout=subprocess.DEVNULL).wait()
        return data, env
    data = CACHE / f"inprocess-100000-{embedder}"
    if not (data / "whoknows.db").exists():
        raise SystemExit(f"build it first: python bench/latency_inprocess.py --embedder {embedder}")
    return data, {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_EMBEDDER": embedder,
                  "WHOKNOWS_REDIS_URL": ""}


def load(base: str, clients: int, seconds: float, keep_alive: bool = True
         ) -> tuple[int, float, list[float]]:
    """(requests answered, seconds, latencies in ms) for ``clients`` clients."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    times: list[float] = []
    lock = threading.Lock()
    start_all = time.perf_counter()
    stop = start_all + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while time.perf_counter() < stop:
            q = urllib.parse.quote(rng.choice(QUERIES))
            started = time.perf_counter()
            if not keep_alive:  # a new connection per search (time to connect included)
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            conn.request("GET", f"/api/search?q={q}&limit=10")
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            with lock:
                times.append((time.perf_counter() - started) * 1000)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(times), time.perf_counter() - start_all, times


def row(label: str, n: int, seconds: float, times: list[float], base_rate: float | None
        ) -> dict:
    q = statistics.quantiles(times, n=100)
    rate = n / seconds
    out = {"requests": n, "req_per_s": round(rate, 1), "p50_ms": round(q[49], 1),
           "p95_ms": round(q[94], 1)}
    if base_rate:
        out["speedup"] = round(rate / base_rate, 2)
    print(f"{label:<26} {n:>6} req  {rate:7.1f} req/s  "
          f"{'x' + str(out.get('speedup', 1.0)):>6}  p50 {out['p50_ms']:7.1f} ms  "
          f"p95 {out['p95_ms']:7.1f} ms", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["demo", "100k"], default="demo")
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="`whoknows serve --workers N` (processes)")
    parser.add_argument("--new-connections", action="store_true",
                        help="a new connection per search (default: one keep-alive "
                             "connection per client)")
    args = parser.parse_args()
    data, env = data_folder(args.corpus, args.embedder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    serve = ["serve", "--port", str(port)]
    if args.server_workers > 1:
        serve += ["--workers", str(args.server_workers)]
    server = run(serve, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict = {"corpus": args.corpus, "embedder": args.embedder,
                     "server_workers": args.server_workers, "cpus": os.cpu_count(),
                     "connections": "new per search" if args.new_connections else "keep-alive"}
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if request(f"{base}/readyz").get("ready"):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        load(base, 2, 3.0)  # warm-up (every server process, the model, caches)
        base_rate = None
        for clients in (int(c) for c in args.clients.split(",")):
            n, seconds, times = load(base, clients, args.seconds, not args.new_connections)
            results[f"clients_{clients}"] = row(f"{clients} client(s)", n, seconds, times,
                                                base_rate)
            base_rate = base_rate or n / seconds
        job = request(f"{base}/api/admin/reindex", b"{}")
        n, seconds, times = load(base, 2, args.seconds, not args.new_connections)
        state = request(f"{base}/api/admin/jobs/{job['id']}")
        results["reindex_2_clients"] = row("2 clients, re-index", n, seconds, times, base_rate)
        results["reindex_job"] = {k: state[k] for k in ("state", "done", "total")}
        print(f"re-index job when the measurement ended: {state['state']}", flush=True)
        while state["state"] in ("queued", "running"):
            time.sleep(1)
            state = request(f"{base}/api/admin/jobs/{job['id']}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    name = (f"throughput-http-{args.corpus}-w{args.server_workers}"
            + ("-new-connections" if args.new_connections else ""))
    print("wrote", write_results(name, results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
