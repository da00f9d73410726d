"""SciFact (BEIR) document retrieval: dense, BM25, RRF and the hybrid default.

    python bench/eval_scifact.py            # test queries; sweeps the fusion weight on train

Prints nDCG@10 and Recall@100 and writes bench/results/scifact.json.
"""

from __future__ import annotations

import argparse

from common import evaluate, scifact_index, write_results

from search.retrieval import DENSE_WEIGHT, Searcher

METRICS = ["ndcg@10", "recall@100"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    store, indexes, embedder, queries, splits = scifact_index(args.embedder)
    searcher = Searcher(store, indexes, embedder)
    # Each query is embedded once; every mode and weight reuses its vector and lists.
    cached = {}
    for _split, qrels in splits.items():
        texts = [queries[q] for q in qrels]
        for qid, vec in zip(qrels, searcher.embed_queries(texts), strict=True):
            cached[qid] = vec

    def run(qrels: dict, mode: str, weight: float | None = None) -> dict:
        searcher.dense_weight = weight
        return {q: {d.doc_id: d.score for d in searcher.retrieve(
            queries[q], mode=mode, query_vector=cached[q])[:100]} for q in qrels}

    results: dict = {"weight_sweep_train": {}}
    for w in [round(0.1 * i, 1) for i in range(1, 10)]:
        score = evaluate(splits["train"], run(splits["train"], "hybrid", w), ["ndcg@10"])
        results["weight_sweep_train"][w] = score["ndcg@10"]
        print(f"train  hybrid w={w:.1f}  nDCG@10 {score['ndcg@10']:.4f}")
    for mode in ("dense", "keyword", "rrf", "hybrid"):
        scores = evaluate(splits["test"], run(splits["test"], mode), METRICS)
        results[mode] = scores
        print(f"test   {mode:<8} nDCG@10 {scores['ndcg@10']:.4f}  "
              f"Recall@100 {scores['recall@100']:.4f}")
    results["default_dense_weight"] = DENSE_WEIGHT
    print("wrote", write_results(f"scifact-{args.embedder}", results))


if __name__ == "__main__":
    main()
