"""Search across languages on MLQA-R: questions in 7 languages, Wikipedia paragraphs.

    python bench/eval_mlqa.py --embedder onnx-int8         # today's English MiniLM
    python bench/eval_mlqa.py --embedder e5-int8           # multilingual-e5-small
    python bench/eval_mlqa.py --embedder e5-int8 --weights 0.5,0.6,0.7,0.8,0.9,1.0

The whole pool (3,646 paragraphs in ar, de, en, es, hi, vi, zh) is ingested as the
product ingests documents: title and text, no language given (ingest detects it).
Questions are asked as a user asks them, with no language given. Two tasks
(../shared/bench/README.md): ``-en``, the question against the English paragraphs
only (the ranking restricted to them), and ``-any``, against the whole pool, where
every language's version of the answering paragraph counts. nDCG@10 and Recall@10
per query language, for the dense retriever alone and for the product's default
(hybrid: dense and BM25 fused), and the mean over the six languages other than
English. Every passage is ranked for every question (the pool is small), so the
``-en`` ranking is the product's ranking of all documents with the others left out:
restricting only the top 100 would lose the English answer behind the question's
own language. The dense retriever moves each question as the product does (with e5,
out of its language's corner: indexer.language_centres), and the hybrid fuses at the
product's dense weight for this corpus (``Searcher.fusion_weight``); ``--weights``
fuses the same hybrid lists at other weights too. Writes
bench/results/mlqa-<embedder>.json.
"""

from __future__ import annotations

import argparse

from common import BENCH_DATA, evaluate, mlqa_index, read_jsonl, read_qrels, write_results

from indexer.embedders import shifts_query_language
from search.fusion import convex, ranked
from search.retrieval import Searcher

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
METRICS = ["ndcg@10", "recall@10"]


def score(data, label: str, runs: dict[str, dict[str, float]]) -> dict[str, dict]:
    """nDCG@10 and Recall@10 per question language of ``runs`` on both tasks, printed."""
    results = {}
    for task in ("en", "any"):
        table = {}
        for language in LANGUAGES:
            qrels = read_qrels(data / "qrels" / f"{language}-{task}.tsv")
            run = {q: dict(list((d, s) for d, s in runs[q].items()
                                if task == "any" or d.startswith("en-"))[:100])
                   for q in qrels}
            table[language] = evaluate(qrels, run, METRICS)
        others = [table[lang]["ndcg@10"] for lang in LANGUAGES if lang != "en"]
        table["mean_non_english_ndcg@10"] = sum(others) / len(others)
        table["min_non_english_ndcg@10"] = min(others)
        results[f"{label}-{task}"] = table
        print(f"{label:<7} -{task:<3} " + "  ".join(
            f"{lang} {table[lang]['ndcg@10']:.3f}/{table[lang]['recall@10']:.3f}"
            for lang in LANGUAGES)
            + f"  | mean non-en nDCG@10 {table['mean_non_english_ndcg@10']:.3f}, "
              f"min {table['min_non_english_ndcg@10']:.3f}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--modes", default="dense,hybrid")
    parser.add_argument("--weights", default="",
                        help="also fuse the hybrid run at these dense weights, e.g. "
                             "0.5,0.6,0.7,0.8,0.9,1.0 (how ACROSS_LANGUAGES_DENSE_WEIGHT "
                             "was chosen)")
    args = parser.parse_args()
    data = BENCH_DATA / "mlqa-r"
    store, indexes, embedder = mlqa_index(args.embedder)
    searcher = Searcher(store, indexes, embedder)
    queries = {q["_id"]: q["text"] for q in read_jsonl(data / "queries.jsonl")}
    vectors_of = dict(zip(queries, searcher.embed_queries(list(queries.values())),
                          strict=True))
    results: dict = {"embedder": embedder.name, "fusion_weight": searcher.fusion_weight(),
                     "languages_queries_move_between": list(
                         searcher.language_centres().languages
                         if shifts_query_language(embedder) else [])}
    hybrid: dict[str, list] = {}
    for mode in args.modes.split(","):
        runs = {}
        for qid, text in queries.items():
            ranking = searcher.retrieve(text, mode=mode, query_vector=vectors_of[qid],
                                        depth=len(indexes.vectors))
            runs[qid] = {d.doc_id: d.score for d in ranking}
            if mode == "hybrid":
                hybrid[qid] = ranking
        results.update(score(data, mode, runs))
    for weight in [float(w) for w in args.weights.split(",") if w] if hybrid else []:
        runs = {qid: dict(ranked(convex({d.doc_id: d.dense for d in ranking if d.dense},
                                        {d.doc_id: d.keyword for d in ranking if d.keyword},
                                        weight)))
                for qid, ranking in hybrid.items()}
        results.update(score(data, f"hybrid, dense weight {weight}", runs))
    print("wrote", write_results(f"mlqa-{args.embedder}", results))


if __name__ == "__main__":
    main()
