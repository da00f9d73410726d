"""Keyword search in every language: BM25 alone on MLQA-R's mixed pool and on SciFact.

    python bench/keywords_languages.py            # languages detected at ingest
    python bench/keywords_languages.py --given    # the corpus's own language labels

MLQA-R's paragraphs (7 languages in one pool) are ingested without a language, so each
document's is detected as at any ingest (``--given`` passes the labels instead, to tell
the tokenising from the detection). Each language's questions are ranked in keyword
mode against the whole pool; nDCG@10 and Recall@10 per question language, for the
``-any`` task (the answer in every language counts) and ``-same`` (only the answer in
the question's own language is judged). SciFact (English) is ranked too: its keyword
run must not change with the languages, so the run's fingerprint is printed beside
its nDCG@10. Writes bench/results/keywords-languages[-given].json.
"""

from __future__ import annotations

import argparse
import hashlib

from common import (
    BENCH_DATA,
    build_index,
    evaluate,
    read_jsonl,
    read_qrels,
    scifact_index,
    write_results,
)

from search.retrieval import Searcher

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
TASKS = ("any", "same")
METRICS = ["ndcg@10", "recall@10"]
DEPTH = 100
EMBEDDER = "hashing-2048"  # keyword mode never embeds; the store needs vectors anyway


def keyword_run(searcher: Searcher, queries: dict[str, str]) -> dict[str, dict[str, float]]:
    """qid -> {doc id: BM25 score} for the top ``DEPTH`` documents of each query."""
    return {q: {d.doc_id: d.score for d in searcher.retrieve(text, mode="keyword")[:DEPTH]}
            for q, text in queries.items()}


def fingerprint(run: dict[str, dict[str, float]]) -> str:
    """A hash of every ranked document and its score: equal runs, equal fingerprints."""
    text = repr(sorted((q, sorted(r.items(), key=lambda x: (-x[1], x[0])))
                       for q, r in run.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mlqa(given: bool) -> dict:
    data = BENCH_DATA / "mlqa-r"
    records = [{"id": d["_id"], "title": d["title"], "body": d["text"]}
               | ({"language": d["metadata"]["language"]} if given else {})
               for d in read_jsonl(data / "corpus.jsonl")]
    store, indexes, embedder = build_index("mlqa-r" + ("-given" if given else ""),
                                           records, EMBEDDER)
    searcher = Searcher(store, indexes, embedder)
    questions = {q["_id"]: q["text"] for q in read_jsonl(data / "queries.jsonl")}
    results: dict = {"stored_languages": {
        str(r["language"]): r["n"] for r in store.db.query(
            "SELECT language, count(*) AS n FROM documents GROUP BY language")}}
    for language in LANGUAGES:
        qrels = {t: read_qrels(data / "qrels" / f"{language}-{t}.tsv") for t in TASKS}
        run = keyword_run(searcher, {q: questions[q] for q in qrels["any"]})
        results[language] = {t: evaluate(qrels[t], run, METRICS) for t in TASKS}
        print(f"mlqa-r {language}  " + "  ".join(
            f"{t}: nDCG@10 {results[language][t]['ndcg@10']:.4f} "
            f"R@10 {results[language][t]['recall@10']:.4f}" for t in TASKS))
    for t in TASKS:
        results[f"mean_{t}"] = {m: sum(results[x][t][m] for x in LANGUAGES) / len(LANGUAGES)
                                for m in METRICS}
        print(f"mlqa-r mean {t}: nDCG@10 {results[f'mean_{t}']['ndcg@10']:.4f}")
    return results


def scifact() -> dict:
    store, indexes, embedder, claims, splits = scifact_index(EMBEDDER)
    run = keyword_run(Searcher(store, indexes, embedder),
                      {q: claims[q] for q in splits["test"]})
    scores = evaluate(splits["test"], run, METRICS)
    print(f"scifact test keyword: nDCG@10 {scores['ndcg@10']:.4f}  run {fingerprint(run)}")
    return scores | {"run_fingerprint": fingerprint(run)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--given", action="store_true",
                        help="ingest MLQA-R with its language labels instead of detecting")
    args = parser.parse_args()
    results = {"mlqa_r": mlqa(args.given), "scifact": scifact()}
    print("wrote", write_results("keywords-languages" + ("-given" if args.given else ""),
                                 results))


if __name__ == "__main__":
    main()
