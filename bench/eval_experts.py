"""Expert finding on StackExchange android and DBLP with the default expert ranking.

    python bench/eval_experts.py                 # both data sets
    python bench/eval_experts.py --only dblp

StackExchange: train answers (question title prepended) are documents authored by
their answerers; test questions (title + body) are the queries. DBLP: every paper
is a document authored by its authors; topic and paper queries; the ranking is
scored over the labelled candidates only. Prints MAP, MRR, P@1, P@5, nDCG@10 and writes
bench/results/experts-<embedder>.json.

The ranking scored is the list the product shows (``SHOWN`` people with evidence about
the question, best first), then every other candidate in the order of the deep-voting
score, so MAP still counts the recall of deep voting below what anyone is shown.
"""

from __future__ import annotations

import argparse
import csv

from common import BENCH_DATA, build_index, evaluate, read_jsonl, read_qrels, write_results

from indexer.embedders import Embedder
from indexer.indexes import DerivedIndexes
from indexer.store import Store
from search.experts import ExpertRanker
from search.retrieval import Searcher

METRICS = ["map", "mrr", "precision@1", "precision@5", "ndcg@10"]
DEPTH = 1000  # rank every candidate, as trec_eval expects
SHOWN = 10  # the experts the API and the CLI show by default


def person(pid: str) -> dict:
    return {"id": pid, "type": "person", "name": pid}


def stackexchange() -> tuple[str, list[dict], dict[str, str], dict, set[str] | None]:
    data = BENCH_DATA / "stackexchange-android"
    questions = {q["qid"]: q for q in read_jsonl(data / "questions.jsonl")}
    with open(data / "candidates.tsv") as handle:
        records = [person(row[0]) for row in csv.reader(handle) if row and row[0].strip()]
    for a in read_jsonl(data / "answers.jsonl"):
        q = questions.get(a["qid"])
        if q and q["split"] == "train":
            records.append({"id": f"a{a['aid']}", "title": q["title"], "body": a["text"],
                            "authors": [a["answerer"]], "tags": q.get("tags", [])})
    queries = {qid: f"{q['title']} {q['body']}" for qid, q in questions.items()
               if q["split"] == "test"}
    return "stackexchange", records, queries, read_qrels(data / "qrels" / "test.tsv"), None


def dblp(kind: str) -> tuple[str, list[dict], dict[str, str], dict, set[str] | None]:
    data = BENCH_DATA / "dblp"
    with open(data / "candidates.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    labelled = {r["candidate-id"] for r in rows if r["labelled"] == "1"}
    records = [person(r["candidate-id"]) for r in rows]
    for d in read_jsonl(data / "corpus.jsonl"):
        records.append({"id": d["_id"], "body": d["text"], "authors": d["authors"]})
    queries = {q["_id"]: q["text"] for q in read_jsonl(data / f"queries_{kind}.jsonl")}
    return "dblp", records, queries, read_qrels(data / "qrels" / f"{kind}.tsv"), labelled


def run_set(label: str, loaded: tuple, embedder_kind: str) -> dict[str, float]:
    name, records, queries, qrels, keep = loaded
    store, indexes, embedder = build_index(name, records, embedder_kind)
    ids = [q for q in queries if q in qrels]
    run = expert_run(store, indexes, embedder, {q: queries[q] for q in ids}, keep)
    scores = evaluate({q: qrels[q] for q in ids}, run, METRICS)
    print(f"{label:<22} " + "  ".join(f"{m} {v:.4f}" for m, v in scores.items()))
    return scores


def expert_run(store: Store, indexes: DerivedIndexes, embedder: Embedder, queries: dict[str, str],
               keep: set[str] | None) -> dict[str, dict[str, float]]:
    """query id -> {person id: score}: the people shown, then everyone else by score
    (over ``keep`` only, when given), as the run ranx scores."""
    searcher = Searcher(store, indexes, embedder)
    ranker = ExpertRanker(store, embedder)
    run = {}
    ids = list(queries)
    for qid, vec in zip(ids, searcher.embed_queries([queries[q] for q in ids]), strict=True):
        ranking = searcher.retrieve(queries[qid], query_vector=vec)
        shown = [e.id for e in ranker.rank(queries[qid], ranking, vec, limit=SHOWN)]
        everyone = ranker.rank(queries[qid], ranking, vec, limit=DEPTH, rank_all=True)
        rest = sorted((e for e in everyone if e.id not in shown), key=lambda e: (-e.score, e.id))
        order = [p for p in shown + [e.id for e in rest] if keep is None or p in keep]
        run[qid] = {p: float(len(order) - i) for i, p in enumerate(order)}
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["stackexchange", "dblp"])
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    results = {}
    if args.only in (None, "stackexchange"):
        results["stackexchange_test"] = run_set("stackexchange test", stackexchange(),
                                                args.embedder)
    if args.only in (None, "dblp"):
        results["dblp_topics"] = run_set("dblp topics", dblp("topics"), args.embedder)
        results["dblp_papers"] = run_set("dblp papers", dblp("docs"), args.embedder)
    print("wrote", write_results(f"experts-{args.embedder}", results))


if __name__ == "__main__":
    main()
