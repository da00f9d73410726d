"""Ingest throughput with one and with two `whoknows worker` processes sharing one
PostgreSQL database and one Redis queue: does a second worker add its share?

    python bench/ingest_workers.py [--jobs 16] [--docs 300] [--workers 1,2]

Starts a PostgreSQL server (durable: PostgreSQL's defaults) and a redis-server of its
own on loopback, and writes ``--jobs`` folders of ``--docs`` generated documents each
(latency_http.py's: 5 shuffled sentences of the demo corpus, 1-2 demo authors; every
document different, so every passage is embedded). For each worker count it makes a
new database, starts that many `whoknows worker --workers 1` processes (one job at a
time each, a data folder each for its derived indexes), runs one small job per worker
to load the models, then submits every ingest job at once through the queue
(``Queue.submit``, what `POST /api/admin/ingest` does) and times from the first submit
to the last job done. The model is the default (onnx-int8, all-MiniLM-L6-v2 int8) on
``--threads`` threads per worker (1 by default: one core each, through
WHOKNOWS_MODEL_THREADS; a worker otherwise takes one thread per core).
Prints passages per second per worker count and writes
bench/results/ingest-workers-postgres.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from common import CACHE, demo_material, write_results
from services import create_database, model_cache, postgres, redis, stop, trace, whoknows

from api.queue import Queue
from api.runtime import Runtime
from api.settings import Settings
from indexer.jobs import JobStore

EMBEDDER = "onnx-int8"


def generate(folder: Path, jobs: int, docs: int, tag: str) -> list[Path]:
    """``jobs`` folders of ``docs`` distinct documents each."""
    sentences, people = demo_material()
    rng = random.Random(11)
    folders = []
    for j in range(jobs):
        target = folder / f"{tag}-{j}"
        target.mkdir(parents=True)
        with open(target / "docs.jsonl", "w") as out:
            for i in range(docs):
                body = " ".join(rng.sample(sentences, 5))
                out.write(json.dumps({"id": f"{tag}-{j}-{i}", "title": body.split(".")[0][:80],
                                      "body": body,
                                      "authors": rng.sample(people, rng.choice([1, 2]))}) + "\n")
        folders.append(target)
    return folders


def run_all(queue: Queue, runtime: Runtime, folders: list[Path]) -> list:
    """Submit one ingest job per folder at once; wait for all of them to end."""
    jobs = [queue.submit(runtime, "ingest", {"paths": [str(f)]}) for f in folders]
    records = JobStore(runtime.store)
    while True:
        states = [records.get(j.id) for j in jobs]
        if all(s.state in ("done", "failed", "dead") for s in states):
            return states
        time.sleep(0.25)


def measure(workers: int, pg_url: str, redis_url: str, tmp: Path, folders: list[Path],
            warm: list[Path], threads: int) -> dict:
    url = create_database(pg_url, f"workers_{workers}")
    queue_url = f"{redis_url.rsplit('/', 1)[0]}/{workers}"  # a Redis database of its own
    settings = Settings(data_dir=tmp / f"submit-{workers}", database_url=url,
                        redis_url=queue_url, embedder=EMBEDDER)
    runtime = Runtime.open(settings)  # the model is never loaded here
    queue = Queue.create(settings)
    processes = []
    for i in range(workers):
        data = tmp / f"worker-{workers}-{i}"
        data.mkdir()
        model_cache(data, CACHE / "models")
        env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_DATABASE_URL": url,
               "WHOKNOWS_REDIS_URL": queue_url, "WHOKNOWS_EMBEDDER": EMBEDDER,
               "WHOKNOWS_MODEL_THREADS": str(threads),
               "OMP_NUM_THREADS": str(threads),  # FAISS's threads, when it catches up
               "WHOKNOWS_BENCH_TRACE": str(tmp / f"trace-{workers}-{i}.json")}
        processes.append(whoknows(["worker", "--workers", "1"], env,
                                  tmp / f"worker-{workers}-{i}.log"))
    try:
        states = run_all(queue, runtime, warm[:workers])  # loads each worker's model
        assert all(s.state == "done" for s in states), states
        traces = [tmp / f"trace-{workers}-{i}.json" for i in range(workers)]
        for process, path in zip(processes, traces, strict=True):
            trace(process, path)  # from zero
        before = runtime.store.count("chunks")
        started = time.perf_counter()
        states = run_all(queue, runtime, folders)
        seconds = time.perf_counter() - started
        passages = runtime.store.count("chunks") - before
        stores = [trace(p, path) for p, path in zip(processes, traces, strict=True)]
    finally:
        for process in processes:
            stop(process)
    by_worker: dict[str, int] = {}
    for s in states:
        by_worker[s.worker or "?"] = by_worker.get(s.worker or "?", 0) + 1
    failed = [s.id for s in states if s.state != "done"]
    result = {"workers": workers, "jobs": len(states), "failed_jobs": len(failed),
              "passages": passages, "seconds": round(seconds, 1),
              "passages_per_s": round(passages / seconds, 1),
              "jobs_per_worker": sorted(by_worker.values(), reverse=True),
              # per worker: seconds in store round trips, and in taking the write lock
              # (BEGIN IMMEDIATE: BEGIN, then waiting for the advisory lock)
              "store_s": [round(t["seconds"], 1) for t in stores],
              "write_lock_s": [round(t["by_kind"].get("BEGIN IMMEDIATE", {}).get("seconds", 0),
                                     1) for t in stores],
              "write_transactions": [t["by_kind"].get("BEGIN IMMEDIATE", {}).get("n", 0) // 2
                                     for t in stores]}
    print(f"{workers} worker(s): {passages} passages in {seconds:.1f} s = "
          f"{passages / seconds:.1f} passages/s (jobs per worker {result['jobs_per_worker']}"
          f"{', FAILED ' + str(len(failed)) if failed else ''}); per worker: store "
          f"{result['store_s']} s, of which taking the write lock {result['write_lock_s']} s",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--docs", type=int, default=300, help="documents per job")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, in turn")
    parser.add_argument("--threads", type=int, default=1, help="model threads per worker")
    parser.add_argument("--name", default="ingest-workers-postgres")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    results: dict = {"embedder": EMBEDDER, "cpus": os.cpu_count(), "jobs": args.jobs,
                     "docs_per_job": args.docs, "model_threads_per_worker": args.threads,
                     "job_threads_per_worker": 1}
    with postgres() as pg, redis() as redis_url, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for workers in counts:
            folders = generate(tmp / "source", args.jobs, args.docs, f"w{workers}")
            warm = generate(tmp / "source", max(counts), 8, f"warm{workers}")
            results[f"workers_{workers}"] = measure(workers, pg.url, redis_url, tmp, folders,
                                                    warm, args.threads)
    if 1 in counts and len(counts) > 1:
        one = results["workers_1"]["passages_per_s"]
        for w in counts[1:]:
            ratio = results[f"workers_{w}"]["passages_per_s"] / one
            results[f"workers_{w}"]["times_one_worker"] = round(ratio, 2)
            # what each added worker brought, against a fair share (one worker's rate)
            results[f"workers_{w}"]["added_over_fair_share"] = round((ratio - 1) / (w - 1), 2)
            print(f"{w} workers = {ratio:.2f} x 1 worker (each added worker: "
                  f"{(ratio - 1) / (w - 1):.2f} of a fair share)")
    print("wrote", write_results(args.name, results))


if __name__ == "__main__":
    main()
