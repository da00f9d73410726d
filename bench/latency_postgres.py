"""/api/search latency at 100k passages with the store in PostgreSQL, beside the SQLite
default: the same corpus, the same queries, in the same run.

    python bench/latency_inprocess.py          # builds the 100k folder once
    python bench/latency_postgres.py [--requests 300] [--rounds 3]

Starts a PostgreSQL server of its own on loopback (durable: PostgreSQL's defaults),
copies the 100k folder's store into it with `whoknows migrate --to URL` (every table,
vectors as stored: nothing is embedded again), then runs two servers side by side:
S on the SQLite folder, P with the database URL and an empty data folder of its own
(it builds its FAISS and BM25 indexes from the database at start, as a new replica
does). Round by round, taking turns at going first, it sends each server
``--requests`` searches from 1 client, then from 8 (latency_http.py's queries and
client: one keep-alive connection each, `GET /api/search?q=...&limit=10`, 5 experts).
Only one server has clients at a time.

Both servers run with bench/store_trace.py, which counts and times every statement
they send their store during the 1-client searches: the derived indexes are in memory
in both, so what differs is the store's answers (documents, people, passage texts,
the search log's write), in-process on SQLite and a loopback round trip each on
PostgreSQL. Prints p50/p95 and the statements per search; writes
bench/results/latency-postgres-100000.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import CACHE, ROOT, write_results
from latency_http import measure
from services import CLI, free_port, postgres, ready, stop, trace, wait_for, whoknows


def percentiles(times: list[float]) -> dict:
    q = statistics.quantiles(times, n=100)
    return {"n": len(times), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per server, client "
                                                                  "count and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--embedder", default="onnx-int8")
    args = parser.parse_args()
    folder = CACHE / f"inprocess-{args.chunks}-{args.embedder}"
    if not (folder / "whoknows.db").exists():
        raise SystemExit(f"build it first: python bench/latency_inprocess.py --chunks "
                         f"{args.chunks} --embedder {args.embedder}")
    base_env = {**os.environ, "WHOKNOWS_EMBEDDER": args.embedder, "WHOKNOWS_REDIS_URL": "",
                "WHOKNOWS_DATABASE_URL": ""}
    results: dict = {"passages": args.chunks, "embedder": args.embedder,
                     "cpus": os.cpu_count(), "requests_per_round": args.requests,
                     "rounds": args.rounds}
    with postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([*CLI, "migrate", "--to", pg.url, "--json"], check=True,
                       env={**base_env, "WHOKNOWS_DATA_DIR": str(folder)}, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        results["migrate_s"] = round(time.perf_counter() - started, 1)
        print(f"copied the store into PostgreSQL in {results['migrate_s']} s", flush=True)
        replica = Path(tmp) / "replica"
        replica.mkdir()
        (replica / "models").symlink_to((folder / "models").resolve())
        envs = {"sqlite": {**base_env, "WHOKNOWS_DATA_DIR": str(folder)},
                "postgresql": {**base_env, "WHOKNOWS_DATA_DIR": str(replica),
                               "WHOKNOWS_DATABASE_URL": pg.url}}
        ports = {name: free_port() for name in envs}
        servers, bases = {}, {}
        for name, env in envs.items():
            env["WHOKNOWS_BENCH_TRACE"] = str(Path(tmp) / f"trace-{name}.json")
            started = time.perf_counter()
            servers[name] = whoknows(["serve", "--port", str(ports[name])], env,
                                     Path(tmp) / f"{name}.log")
            bases[name] = f"http://127.0.0.1:{ports[name]}"
            wait_for(lambda b=bases[name]: ready(b), f"the {name} server", 600)
            results[f"{name}_ready_s"] = round(time.perf_counter() - started, 1)
            print(f"{name} server ready in {results[f'{name}_ready_s']} s", flush=True)
        try:
            results.update(run_rounds(args, servers, bases, Path(tmp)))
        finally:
            for server in servers.values():
                stop(server)
    print("wrote", write_results(f"latency-postgres-{args.chunks}", results))


def run_rounds(args: argparse.Namespace, servers: dict, bases: dict, tmp: Path) -> dict:
    times = {(name, c): [] for name in servers for c in (1, 8)}
    traces: dict[str, list[dict]] = {name: [] for name in servers}
    per_round: list[dict] = []
    for name in servers:
        measure(bases[name], 2, 20)  # warm-up: the model, caches, both threads
    for r in range(args.rounds):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        row: dict = {}
        for name in order:
            trace(servers[name], tmp / f"trace-{name}.json")  # from zero
            one = measure(bases[name], 1, args.requests)
            traces[name].append(trace(servers[name], tmp / f"trace-{name}.json"))
            eight = measure(bases[name], 8, args.requests // 8)
            times[(name, 1)] += one
            times[(name, 8)] += eight
            row[name] = {"1_client": percentiles(one), "8_clients": percentiles(eight)}
            print(f"round {r + 1} {name:<10} 1 client p50 {row[name]['1_client']['p50_ms']:6.1f}"
                  f" p95 {row[name]['1_client']['p95_ms']:6.1f} ms   8 clients p50 "
                  f"{row[name]['8_clients']['p50_ms']:6.1f} p95 "
                  f"{row[name]['8_clients']['p95_ms']:6.1f} ms", flush=True)
        per_round.append(row)
    out: dict = {"rounds_detail": per_round}
    for name in servers:
        searches = args.requests * args.rounds
        statements = sum(t["statements"] for t in traces[name])
        seconds = sum(t["seconds"] for t in traces[name])
        kinds: dict[str, dict] = {}
        for t in traces[name]:
            for kind, v in t["by_kind"].items():
                k = kinds.setdefault(kind, {"n": 0, "seconds": 0.0})
                k["n"] += v["n"]
                k["seconds"] += v["seconds"]
        out[name] = {
            "1_client": percentiles(times[(name, 1)]),
            "8_clients": percentiles(times[(name, 8)]),
            "store_statements_per_search": round(statements / searches, 2),
            "store_ms_per_search": round(1000 * seconds / searches, 2),
            "store_ms_per_statement": round(1000 * seconds / max(statements, 1), 3),
            "by_kind_per_search": {k: {"n": round(v["n"] / searches, 2),
                                       "ms": round(1000 * v["seconds"] / searches, 3)}
                                   for k, v in sorted(kinds.items(),
                                                      key=lambda kv: -kv[1]["seconds"])}}
        s = out[name]
        print(f"{name:<10} 1 client p50 {s['1_client']['p50_ms']:6.1f} p95 "
              f"{s['1_client']['p95_ms']:6.1f} ms | 8 clients p50 {s['8_clients']['p50_ms']:6.1f}"
              f" p95 {s['8_clients']['p95_ms']:6.1f} ms | store: "
              f"{s['store_statements_per_search']} statements, "
              f"{s['store_ms_per_search']} ms per search", flush=True)
    return out


if __name__ == "__main__":
    main()
