"""Vector index scale: build time, memory, query latency and recall@10 against exact
search, on generated 384-d unit vectors at 100k, 1M and 5M chunks.

The vectors are clustered (5,000 topic centres, members at cosine ~0.6 to each
other), as real sentence embeddings are; uniformly random vectors have no
neighbourhoods and say nothing about an index meant for text. Queries are new
draws from the same distribution. The exact top-10 is computed by streaming
matrix products, so no size needs every vector in memory twice.

    python bench/ann_scale.py                  # 100k, 1M, 5M (about 15 minutes on 2 cores)
    python bench/ann_scale.py --sizes 100000   # one size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from indexer import ann  # noqa: E402
from indexer.vectors import VectorIndex  # noqa: E402

DIM = 384
CENTRES = 5_000
SPREAD = 0.8  # noise norm: member-centre cosine 0.78, member-member 0.61
BLOCK = 100_000
QUERIES = 200
RESULTS = Path(__file__).parent / "results" / "ann_scale.json"


def centres() -> np.ndarray:
    c = np.random.default_rng(12345).standard_normal((CENTRES, DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def draw(n: int, seed: int, topics: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = topics[rng.integers(0, CENTRES, n)]
    x += rng.standard_normal((n, DIM), dtype=np.float32) * (SPREAD / np.sqrt(DIM))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def blocks(n: int, topics: np.ndarray):
    for start in range(0, n, BLOCK):
        size = min(BLOCK, n - start)
        yield np.arange(start, start + size, dtype=np.int64), draw(size, start + 1, topics)


def exact_top(n: int, queries: np.ndarray, topics: np.ndarray, k: int = 10) -> np.ndarray:
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for ids, x in blocks(n, topics):
        s = queries @ x.T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, top, 1)], axis=1)
        cand_i = np.concatenate([best_i, ids[top]], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :k]
        best_s = np.take_along_axis(cand_s, order, 1)
        best_i = np.take_along_axis(cand_i, order, 1)
    return best_i


def latency(index: VectorIndex, queries: np.ndarray, k: int = 10,
            allowed: np.ndarray | None = None) -> tuple[float, float, list[set[int]]]:
    for q in queries[:10]:
        index.search(q, k, allowed)
    times, found = [], []
    for q in queries:
        started = time.perf_counter()
        hits = index.search(q, k, allowed)
        times.append((time.perf_counter() - started) * 1000)
        found.append({i for i, _ in hits})
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), found


def recall(found: list[set[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(f & set(t.tolist())) / len(t) for f, t in zip(found, truth,
                                                                              strict=True)]))


def file_size(index: faiss.Index) -> int:
    with tempfile.NamedTemporaryFile(suffix=".faiss") as tmp:
        faiss.write_index(index, tmp.name)
        return os.path.getsize(tmp.name)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(n: int, kinds: list[str], topics: np.ndarray, queries: np.ndarray) -> list[dict]:
    print(f"\n== {n:,} chunks", flush=True)
    started = time.perf_counter()
    truth = exact_top(n, queries, topics)
    print(f"exact top-10 for {len(queries)} queries in {time.perf_counter() - started:.0f} s",
          flush=True)
    rows = []
    for kind in kinds:
        base = rss_mb()
        started = time.perf_counter()
        plan = ann.IndexPlan.for_size(n, threshold=0 if kind == "ivf" else n + 1)
        training = draw(plan.training_size(n), 999, topics) if kind == "ivf" else None
        raw = ann.empty_index(DIM, plan, training)
        trained = time.perf_counter() - started
        del training
        index = VectorIndex(DIM, raw, trained_count=n)
        for ids, x in blocks(n, topics):
            index.add(ids, x)
        build = time.perf_counter() - started
        memory = rss_mb() - base
        size = file_size(raw)
        p50, p95, found = latency(index, queries)
        row = {"chunks": n, "kind": kind, "nlist": plan.nlist, "nprobe": plan.nprobe,
               "build_s": round(build, 1), "train_s": round(trained, 1),
               "index_mb": round(size / 2**20), "rss_growth_mb": round(memory),
               "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
               "recall_at_10": round(recall(found, truth), 4)}
        print(json.dumps(row), flush=True)
        rows.append(row)
        if kind == "ivf":
            rows.extend(sweep(index, queries, truth, n))
            rows.append(filtered(index, queries, n))
        del index, raw
    return rows


def sweep(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, n: int) -> list[dict]:
    """Recall and latency at other nprobe values, to show where the default sits."""
    ivf = faiss.downcast_index(index.index)
    default, rows = ivf.nprobe, []
    for nprobe in (8, 16, 32, 64, 128):
        if nprobe == default:
            continue
        ivf.nprobe = nprobe
        p50, p95, found = latency(index, queries)
        row = {"chunks": n, "kind": "ivf-sweep", "nprobe": nprobe, "p50_ms": round(p50, 2),
               "p95_ms": round(p95, 2), "recall_at_10": round(recall(found, truth), 4)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    ivf.nprobe = default
    return rows


def filtered(index: VectorIndex, queries: np.ndarray, n: int) -> dict:
    """A filter passing 0.1% of chunks: every answer must come back, found exactly."""
    allowed = np.arange(0, n, 1000, dtype=np.int64)
    p50, p95, found = latency(index, queries[:50], 10, allowed)
    complete = float(np.mean([len(f) == 10 for f in found]))
    row = {"chunks": n, "kind": "ivf-filtered-0.1%", "p50_ms": round(p50, 2),
           "p95_ms": round(p95, 2), "queries_with_all_10": complete}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--flat-up-to", type=int, default=1_000_000,
                        help="also measure exact search up to this size")
    args = parser.parse_args()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    topics = centres()
    queries = draw(QUERIES, 424242, topics)
    rows = []
    for n in args.sizes:
        kinds = (["flat"] if n <= args.flat_up_to else []) + ["ivf"]
        rows.extend(run(n, kinds, topics, queries))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this run: {peak:.0f} MB; {os.cpu_count()} cores")
    RESULTS.parent.mkdir(exist_ok=True)
    # Sizes run separately land in one file: a size measured again replaces its rows.
    old = json.loads(RESULTS.read_text()).get("rows", []) if RESULTS.exists() else []
    rows = [r for r in old if r["chunks"] not in args.sizes] + rows
    rows.sort(key=lambda r: r["chunks"])
    RESULTS.write_text(json.dumps({"rows": rows, "cores": os.cpu_count()}, indent=1))


if __name__ == "__main__":
    main()
