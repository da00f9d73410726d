"""HTTP search latency on a generated 10,000-document index, idle and during a re-index.

    python bench/latency_http.py [--docs 10000] [--requests 300] [--embedder onnx-int8]

Builds (once, cached under bench/.cache/) a data folder of generated documents
made from the demo corpus's sentences, with the demo people as authors, using the
real model. Starts `whoknows serve` on a free loopback port, and measures
/api/search latency with 1 and with 8 concurrent clients; then changes every
document, starts a re-index of the whole corpus through the admin API (the embedded
default: the server's own worker thread re-embeds it) and measures again while it runs. Prints
p50/p95 and writes bench/results/latency-http-<embedder>.json (latency-http-<docs>-<embedder>.json
for another --docs). All traffic stays on 127.0.0.1.
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
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import CACHE, ROOT, demo_material, write_results

QUERIES = ["kafka consumer lag", "postgres autovacuum", "route optimization solver",
           "on-call handbook", "gdpr data subject request", "accessibility audit",
           "demand forecasting holidays", "salesforce pipeline hygiene", "terraform modules",
           "customer onboarding churn", "pricing per shipment", "rust rewrite",
           "threat modeling", "dbt incremental models", "edi integration", "who knows kubernetes"]


def generate(folder: Path, n: int) -> None:
    """n documents from shuffled demo sentences, each with 1-2 demo authors."""
    sentences, people = demo_material()
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "docs.jsonl", "w") as out:
        for i in range(n):
            body = " ".join(rng.sample(sentences, 5))
            out.write(json.dumps({"id": f"g{i}", "title": body.split(".")[0][:80], "body": body,
                                  "authors": rng.sample(people, rng.choice([1, 2]))}) + "\n")
    (folder / "people.yaml").write_text((ROOT / "corpus/people/people.yaml").read_text())


def run(cli_args: list[str], env: dict, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from api.cli import main; main()", *cli_args]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, **kw)


def request(url: str, data: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def measure(base: str, clients: int, per_client: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()

    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port

    def client(seed: int) -> None:
        # One keep-alive connection per client, as a browser or an LMS would hold.
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(per_client):
            q = urllib.parse.quote(rng.choice(QUERIES))
            start = time.perf_counter()
            conn.request("GET", f"/api/search?q={q}&limit=10")
            response = conn.getresponse()
            json.loads(response.read())
            assert response.status == 200
            with lock:
                times.append((time.perf_counter() - start) * 1000)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def summary(label: str, times: list[float]) -> dict:
    q = statistics.quantiles(times, n=100)
    result = {"n": len(times), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1)}
    print(f"{label:<28} n={result['n']:<5} p50 {result['p50_ms']:7.1f} ms   "
          f"p95 {result['p95_ms']:7.1f} ms", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--embedder", default="onnx-int8", help="minilm is the torch path")
    args = parser.parse_args()
    folder = CACHE / f"latency-{args.docs}-{args.embedder}" / "source"
    data = CACHE / f"latency-{args.docs}-{args.embedder}" / "data"
    env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_REDIS_URL": "",
           "WHOKNOWS_EMBEDDER": args.embedder,
           "WHOKNOWS_REINDEX_ROOTS": str(folder.resolve())}  # the re-index reads it
    if not (data / "whoknows.db").exists():
        generate(folder, args.docs)
        started = time.perf_counter()
        run(["ingest", str(folder)], env).wait()
        print(f"built the index in {time.perf_counter() - started:.0f} s", flush=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = run(["serve", "--port", str(port)], env, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    results: dict = {"documents": args.docs, "embedder": args.embedder}
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if request(f"{base}/readyz").get("ready"):
                    break
            except OSError:
                time.sleep(0.5)
        # Idle means idle: let any job left over from an interrupted run finish first.
        while any(j["state"] in ("queued", "running")
                  for j in request(f"{base}/api/admin/jobs")):
            time.sleep(2)
        measure(base, 1, 20)  # warm-up
        results["idle_1"] = summary("idle, 1 client", measure(base, 1, args.requests))
        results["idle_8"] = summary("idle, 8 clients", measure(base, 8, args.requests // 8))
        # Change every document so the re-index really re-embeds the whole corpus.
        source = folder / "docs.jsonl"
        lines = [json.loads(line) for line in source.read_text().splitlines()]
        for doc in lines:
            doc["body"] += f" Revised {int(time.time())}."
        source.write_text("".join(json.dumps(d) + "\n" for d in lines))
        started_reindex = time.time()
        job = request(f"{base}/api/admin/reindex", json.dumps({"source": str(folder)}).encode())
        time.sleep(5)  # the job is running
        results["reindex_1"] = summary("during re-index, 1 client",
                                       measure(base, 1, args.requests))
        results["reindex_8"] = summary("during re-index, 8 clients",
                                       measure(base, 8, args.requests // 8))
        state = request(f"{base}/api/admin/jobs/{job['id']}")
        results["reindex_job_during_measurement"] = {k: state[k] for k in ("state", "done",
                                                                           "total")}
        print(f"re-index job while measuring: {state['state']} {state['done']}/{state['total']}")
        # Let the re-index finish, so the next run starts idle (and to time it).
        while state["state"] in ("queued", "running"):
            time.sleep(5)
            state = request(f"{base}/api/admin/jobs/{job['id']}")
        results["reindex_job_seconds"] = round(time.time() - started_reindex)
        print(f"re-index job {state['state']} after {results['reindex_job_seconds']} s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    name = f"latency-http-{args.embedder}" if args.docs == 10_000 else \
        f"latency-http-{args.docs}-{args.embedder}"
    print("wrote", write_results(name, results))


if __name__ == "__main__":
    main()
