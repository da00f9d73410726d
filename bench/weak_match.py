"""How often the ``weak_match`` flag fires, with and without an answer in the corpus.

    python bench/weak_match.py [--embedder onnx-int8]

The flag (search/answers.py) says that nothing found is close in meaning to the query:
the closest passage's cosine is under ``WEAK_SIMILARITY``. Four cases, each the share of
queries flagged and the percentiles of the closest passage's cosine:

- SciFact train claims over SciFact (their answer is in the corpus): flagging here is a
  false alarm;
- the same claims with their relevant abstracts left out of the ranking: the hard case,
  a near-topic corpus that lacks the answer;
- the 300 SciFact test claims over the demo corpus (a fictional logistics company): a
  corpus on another subject, where the flag should fire;
- the HTTP benchmark's 16 demo queries over the demo corpus (answers are there).

Writes bench/results/weak-match-<embedder>.json.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from common import ROOT, scifact_index, write_results
from latency_http import QUERIES

from indexer.embedder import make_embedder
from indexer.store import Store
from indexer.vectors import VectorIndex
from ingest.pipeline import Ingester
from search.answers import WEAK_SIMILARITY
from search.retrieval import Searcher


def closest(searcher: Searcher, queries: list[str], embedder,
            leave_out: list[set[str]] | None = None) -> np.ndarray:
    """The cosine of the closest passage per query (0 when nothing is found)."""
    out = []
    for i, (query, vec) in enumerate(zip(queries, embedder.embed(queries), strict=True)):
        skip = leave_out[i] if leave_out else set()
        ranking = searcher.retrieve(query, query_vector=vec)
        out.append(max((d.dense for d in ranking if d.doc_id not in skip), default=0.0))
    return np.asarray(out)


def summary(label: str, cosines: np.ndarray) -> dict:
    flagged = float((cosines < WEAK_SIMILARITY).mean())
    pct = {str(p): round(float(np.percentile(cosines, p)), 3) for p in (5, 25, 50, 75, 95)}
    print(f"{label:<48} n {len(cosines):>4}  flagged {flagged:6.1%}  "
          f"closest cosine p5/p25/p50/p75/p95 {list(pct.values())}")
    return {"queries": len(cosines), "flagged": flagged, "closest_cosine_percentiles": pct}


def demo_searcher(kind: str, folder: Path) -> tuple[Searcher, object]:
    store = Store.open(folder)
    embedder = make_embedder(kind, cache_dir=ROOT / "bench" / ".cache" / "models")
    Ingester(store, embedder).ingest([ROOT / "corpus"])
    vectors = VectorIndex.load(store, folder, embedder.dim)
    return Searcher(store, vectors, embedder), embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx-int8")
    args = parser.parse_args()
    store, vectors, embedder, claims, splits = scifact_index(args.embedder)
    train, test = splits["train"], splits["test"]
    scifact = Searcher(store, vectors, embedder)
    texts = [claims[q] for q in train]
    print(f"weak when the closest passage's cosine < {WEAK_SIMILARITY} ({args.embedder})")
    results = {"threshold": WEAK_SIMILARITY, "embedder": args.embedder}
    results["scifact_answer_in_corpus"] = summary(
        "SciFact train, answer in the corpus", closest(scifact, texts, embedder))
    results["scifact_answer_left_out"] = summary(
        "SciFact train, relevant abstracts left out", closest(
            scifact, texts, embedder, [set(train[q]) for q in train]))
    with tempfile.TemporaryDirectory() as folder:
        demo, demo_embedder = demo_searcher(args.embedder, Path(folder))
        results["scifact_claims_on_demo"] = summary(
            "SciFact test claims over the demo corpus",
            closest(demo, [claims[q] for q in test], demo_embedder))
        results["demo_queries_on_demo"] = summary(
            "demo queries over the demo corpus", closest(demo, QUERIES, demo_embedder))
    print("wrote", write_results(f"weak-match-{args.embedder}", results))


if __name__ == "__main__":
    main()
