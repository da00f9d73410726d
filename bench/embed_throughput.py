"""Embedding throughput and whole-ingest speed on the SciFact corpus (5,183 abstracts).

For each embedder: passages per second on exactly the passages ingestion makes
(title + chunk, 256 per call as the pipeline sends them), then an in-process
ingest into a fresh store with the model already loaded, whose passages per
second over the whole run (reading, chunking, embedding, writing) are compared
with the raw figure. Then one whole ``whoknows ingest`` command of SciFact per
embedder, timed from the shell's point of view, with its peak RSS.

    python bench/embed_throughput.py       # raw: minilm (torch), onnx-int8; ingest: onnx-int8
    python bench/embed_throughput.py --embedders onnx-fp32 --ingest onnx-fp32
    python bench/embed_throughput.py --embedders onnx-int8 --ingest --reference

``--reference`` also embeds the issue's reference input, each abstract once with its
title, cut at the model's 256 tokens, and counts the model tokens of both inputs
and of the whole abstracts (what embedding every word once would take).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH_DATA, CACHE, ROOT, read_jsonl, write_results

from indexer.embedders import make_embedder, token_counter
from indexer.store import Store
from ingest.pipeline import EMBED_BATCH, Ingester, passage_text
from ingest.readers import iter_file


def scifact_file(folder: Path) -> Path:
    path = folder / "scifact.jsonl"
    with open(path, "w") as handle:
        for d in read_jsonl(BENCH_DATA / "scifact" / "corpus.jsonl"):
            handle.write(json.dumps({"id": d["_id"], "title": d["title"], "body": d["text"]})
                         + "\n")
    return path


def passages(path: Path) -> list[str]:
    chunker = Ingester(Store.memory(), make_embedder("hashing-8"),
                       tokens=token_counter(make_embedder("minilm")))
    return [passage_text(doc.title, c.text) for doc in iter_file(path, path.name)
            for c in chunker.chunk(doc)]


def raw_rate(kind: str, texts: list[str]) -> tuple[float, float]:
    """(passages per second, seconds) embedding ``texts`` in the pipeline's batches."""
    embedder = make_embedder(kind, cache_dir=CACHE / "models")
    embedder.embed(texts[:8])  # load (and on first use export) the model
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        embedder.embed(texts[start:start + EMBED_BATCH])
    seconds = time.perf_counter() - started
    return len(texts) / seconds, seconds


def token_counts(texts: list[str]) -> list[int]:
    """Model tokens (with [CLS] and [SEP]) of each text, uncut."""
    from tokenizers import Tokenizer

    from indexer.embedders.minilm_torch import packaged_model_path

    tokenizer = Tokenizer.from_file(str(Path(packaged_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    return [len(e.ids) for e in tokenizer.encode_batch(texts)]


def reference(kind: str, path: Path, texts: list[str]) -> dict:
    """The issue's reference input (abstracts cut at 256 tokens) embedded in the
    pipeline's batches, beside token counts of every input."""
    abstracts = [passage_text(doc.title, doc.body) for doc in iter_file(path, path.name)]
    rate, seconds = raw_rate(kind, abstracts)
    passages, whole = token_counts(texts), token_counts(abstracts)
    row = {"cut_abstracts": len(abstracts), "cut_abstracts_s": round(seconds, 1),
           "cut_abstracts_per_s": round(rate, 1),
           "tokens_cut_abstracts": sum(min(n, 256) for n in whole),
           "tokens_whole_abstracts": sum(whole),
           "tokens_passages_embedded": sum(min(n, 256) for n in passages),
           "passages_over_256_tokens": sum(n > 256 for n in passages)}
    row["tokens_per_s_cut_abstracts"] = round(row["tokens_cut_abstracts"] / seconds)
    print(f"{kind:<10} reference: {row}", flush=True)
    return row


def ingest_rate(kind: str, path: Path) -> tuple[float, dict]:
    embedder = make_embedder(kind, cache_dir=CACHE / "models")
    embedder.embed(["warm up"])
    report = Ingester(Store.memory(), embedder).ingest([path])
    return report.chunks_embedded / report.timings["total"], report.timings


def whole_command(kind: str, path: Path, work: Path) -> dict:
    """``whoknows ingest`` in a fresh data folder (the cached ONNX export copied in, as
    a second ingest on the same machine would find it)."""
    data = work / f"data-{kind}"
    if (CACHE / "models").exists():
        shutil.copytree(CACHE / "models", data / "models")
    env = {**os.environ, "WHOKNOWS_EMBEDDER": kind, "WHOKNOWS_DATA_DIR": str(data)}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "api.cli", "ingest", str(path), "--json"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    # The child's own high-water mark, read while it runs. (getrusage's figure for
    # children also counts the copy of this process that fork made before exec.)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _high_water_kb(child.pid))
        time.sleep(0.5)
    stdout = child.stdout.read() if child.stdout else ""
    wall = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"whoknows ingest failed with exit code {child.returncode}")
    report = json.loads(stdout)
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak / 1024),
            "documents": report["documents"]["added"], "passages": report["chunks_embedded"],
            "seconds": report["seconds"]}


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # it has just exited
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", nargs="+", default=["minilm", "onnx-int8"])
    parser.add_argument("--ingest", nargs="*", default=["onnx-int8"],
                        help="embedders to also run the in-process and the CLI ingest with")
    parser.add_argument("--no-command", action="store_true", help="skip the CLI ingest")
    parser.add_argument("--reference", action="store_true",
                        help="also embed the abstracts cut at 256 tokens, and count tokens")
    args = parser.parse_args()
    results: dict = {"cores": os.cpu_count(), "embedders": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = scifact_file(work)
        texts = passages(path)
        results["passages"] = len(texts)
        print(f"SciFact: {len(texts)} passages from 5,183 abstracts; {os.cpu_count()} cores")
        for kind in args.embedders:
            rate, seconds = raw_rate(kind, texts)
            row = {"raw_passages_per_s": round(rate, 1), "raw_s": round(seconds, 1)}
            print(f"{kind:<10} raw {rate:6.1f} passages/s ({seconds:.0f} s)", flush=True)
            results["embedders"][kind] = row
            if args.reference:
                row["reference"] = reference(kind, path, texts)
            if kind not in args.ingest:
                continue
            ingest, timings = ingest_rate(kind, path)
            row.update({"ingest_passages_per_s": round(ingest, 1),
                        "ingest_over_raw": round(ingest / rate, 3),
                        "ingest_seconds": {k: round(v, 1) for k, v in timings.items()}})
            print(f"{'':<10} in-process ingest {ingest:6.1f}/s = {ingest / rate:.0%} of raw  "
                  f"{row['ingest_seconds']}", flush=True)
            if not args.no_command:
                row["command"] = whole_command(kind, path, work)
                print(f"{'':<10} whoknows ingest: {row['command']}", flush=True)
    # Embedders measured in separate runs land in one file (a quiet machine for each).
    previous = ROOT / "bench" / "results" / "embed_throughput.json"
    if previous.exists():
        old = json.loads(previous.read_text()).get("embedders", {})
        for kind, row in results["embedders"].items():  # a figure not re-measured stays
            old[kind] = {**old.get(kind, {}), **row}
        results["embedders"] = old
    kinds = list(results["embedders"])
    if "minilm" in kinds:
        base = results["embedders"]["minilm"]["raw_passages_per_s"]
        for kind in kinds:
            speedup = results["embedders"][kind]["raw_passages_per_s"] / base
            results["embedders"][kind]["speedup_vs_torch"] = round(speedup, 2)
            print(f"{kind:<10} {speedup:.2f}x the torch path")
    print("wrote", write_results("embed_throughput", results))


if __name__ == "__main__":
    main()
