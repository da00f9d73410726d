"""Shared pieces of the benchmark scripts: data paths, building an index, ranx evaluation."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embedders import Embedder, make_embedder  # noqa: E402
from indexer.indexes import DerivedIndexes  # noqa: E402
from indexer.store import Store  # noqa: E402
from ingest.pipeline import Ingester  # noqa: E402

BENCH_DATA = Path(os.environ.get("WHOKNOWS_BENCH_DATA", ROOT.parent / "shared" / "bench"))
CACHE = Path(os.environ.get("WHOKNOWS_BENCH_CACHE", ROOT / "bench" / ".cache"))


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path) as handle:
        next(handle)  # header
        for line in handle:
            qid, did, score = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[did] = int(score)
    return qrels


def build_index(name: str, records: list[dict], embedder_kind: str = "minilm"
                ) -> tuple[Store, DerivedIndexes, Embedder]:
    """Ingest records (written as a JSONL file) into a cached data folder, once."""
    data_dir = CACHE / f"{name}-{embedder_kind}"
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir / f"{name}.jsonl"
    with open(source, "w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    embedder = make_embedder(embedder_kind, cache_dir=CACHE / "models")
    store, indexes = index_paths(name, data_dir, [source], embedder)
    return store, indexes, embedder


def index_paths(name: str, data_dir: Path, paths: list[Path], embedder: Embedder
                ) -> tuple[Store, DerivedIndexes]:
    """Ingest ``paths`` (files, folders, exports) into ``data_dir``; what is stored there
    unchanged is not embedded again."""
    store = Store.open(data_dir)
    started = time.perf_counter()
    report = Ingester(store, embedder).ingest(paths)
    if report.chunks_embedded:
        print(f"[{name}] ingested {len(report.documents.added)} documents, "
              f"{report.chunks_embedded} passages in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    if report.failed:
        print(f"[{name}] {len(report.failed)} records failed, first: {report.failed[0]}",
              file=sys.stderr)
    indexes = DerivedIndexes.load(store, int(store.get_meta("dim") or embedder.dim), data_dir)
    return store, indexes


def mlqa_index(embedder_kind: str) -> tuple[Store, DerivedIndexes, Embedder]:
    """MLQA-R's pool of seven languages' paragraphs indexed (once) with ``embedder_kind``."""
    records = [{"id": d["_id"], "title": d.get("title") or "", "body": d["text"]}
               for d in read_jsonl(BENCH_DATA / "mlqa-r" / "corpus.jsonl")]
    return build_index("mlqa-r", records, embedder_kind)


def scifact_index(embedder_kind: str) -> tuple[Store, DerivedIndexes, Embedder, dict[str, str],
                                                dict[str, dict[str, dict[str, int]]]]:
    """SciFact's abstracts indexed (once) with ``embedder_kind``, its claims by id and the
    qrels of both splits (``{"train": ..., "test": ...}``)."""
    data = BENCH_DATA / "scifact"
    records = [{"id": d["_id"], "title": d["title"], "body": d["text"]}
               for d in read_jsonl(data / "corpus.jsonl")]
    store, indexes, embedder = build_index("scifact", records, embedder_kind)
    claims = {q["_id"]: q["text"] for q in read_jsonl(data / "queries.jsonl")}
    splits = {s: read_qrels(data / "qrels" / f"{s}.tsv") for s in ("train", "test")}
    return store, indexes, embedder, claims, splits


def evaluate(qrels: dict, run: dict, metrics: list[str]) -> dict[str, float]:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    run = {q: r for q, r in run.items() if q in qrels}
    missing = [q for q in qrels if q not in run or not run[q]]
    for q in missing:
        run[q] = {"__none__": 0.0}
    scores = ranx_evaluate(Qrels(qrels), Run(run), metrics)
    return {m: float(scores[m]) for m in metrics} if isinstance(scores, dict) else {
        metrics[0]: float(scores)}


def demo_material() -> tuple[list[str], list[str]]:
    """The demo corpus's sentences (of more than five words) and its people's ids: what
    the generated documents of the speed benchmarks are made of."""
    import re

    import yaml
    sentences = []
    for path in sorted((ROOT / "corpus").rglob("*.md")):
        text = re.sub(r"\A---.*?---", "", path.read_text(), flags=re.DOTALL)
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 5]
    people = [p["id"] for p in yaml.safe_load((ROOT / "corpus/people/people.yaml").read_text())]
    return sentences, people


def write_results(name: str, results: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
