"""Where a question's answer sits on the common cosine scale, in its own language and in
another one (multilingual-e5 on MLQA-R).

    python bench/cosine_scale.py [--embedder e5-int8] [--per-language 100] [--moved]

For a sample of questions per language (seeded), the cosine of the closest passage of
the answering paragraph, rescaled onto MiniLM's scale from the model's own floor
(``cosine_floor``, whatever the languages), in
two tasks: ``-same`` (the answer written in the question's language) and ``-en`` (the
answer in English). Prints the 10th, 25th and 50th percentiles and the share under
0.2 (the dense retriever's floor), 0.3 (evidence about the question) and 0.4 (weak
match), the median cosine of the other passages of the answer's language (unrelated),
and the scale (floor, top) that would map the median unrelated passage and the median
answer in another language onto those in the question's own. ``--moved``: the
questions as the dense retriever moves them over this pool (``Searcher.moved``: out of
their language's corner, indexer.language_centres), not the model's own vectors.
Writes bench/results/cosine-scale-<embedder>[-moved].json.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from common import BENCH_DATA, mlqa_index, read_jsonl, read_qrels, write_results

from indexer.embedders import cosine_floor, embed_queries, rescale
from search.retrieval import Searcher

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
LINES = (0.2, 0.3, 0.4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="e5-int8")
    parser.add_argument("--per-language", type=int, default=100)
    parser.add_argument("--moved", action="store_true",
                        help="the questions as the product embeds them over this pool")
    args = parser.parse_args()
    data = BENCH_DATA / "mlqa-r"
    store, indexes, embedder = mlqa_index(args.embedder)
    searcher = Searcher(store, indexes, embedder)
    def embedded(texts: list[str]) -> np.ndarray:
        vectors = embed_queries(embedder, texts)
        return np.vstack([searcher.moved(v) for v in vectors]) if args.moved else vectors
    floor = cosine_floor(embedder)
    questions = {q["_id"]: q["text"] for q in read_jsonl(data / "queries.jsonl")}
    ids, vectors = next(store.vectors_of(store.chunk_ids()))
    doc_of = store.chunk_documents(ids.tolist())
    docs = np.array([doc_of[int(i)] for i in ids])
    rng = random.Random(0)
    results: dict = {"embedder": embedder.name, "cosine_floor": floor, "moved": args.moved}
    print(f"{embedder.name}, floor {floor}: the answer's cosine on the common scale, "
          "percentiles 10/25/50 and the share under " + ", ".join(map(str, LINES)))
    for task in ("same", "en"):
        for language in LANGUAGES:
            qrels = read_qrels(data / "qrels" / f"{language}-{task}.tsv")
            sample = rng.sample(sorted(qrels), min(args.per_language, len(qrels)))
            found, unrelated = [], []
            target = language if task == "same" else "en"
            pool = np.char.startswith(docs.astype(str), f"{target}-")
            for qid, vector in zip(sample, embedded([questions[q] for q in sample]),
                                     strict=True):
                answer = np.isin(docs, list(qrels[qid]))
                if answer.any():
                    sims = vectors @ vector
                    found.append(float(sims[answer].max()))
                    unrelated.append(float(np.median(sims[pool & ~answer])))
            scaled = np.asarray(rescale(np.asarray(found), floor))
            row = {"questions": len(found),
                   "percentiles_10_25_50": [round(float(p), 3)
                                            for p in np.percentile(scaled, [10, 25, 50])],
                   "unrelated_median": round(float(np.median(
                       rescale(np.asarray(unrelated), floor))), 3),
                   **{f"under_{line}": round(float((scaled < line).mean()), 3)
                      for line in LINES}}
            results[f"{language}-{task}"] = row
            print(f"  -{task:<4} {language}  {row['percentiles_10_25_50']}  " + "  ".join(
                f"<{line}: {row[f'under_{line}']:.0%}" for line in LINES)
                + f"  unrelated passage (median) {row['unrelated_median']}")
    def mean(task: str, key: str) -> float:
        rows = [results[f"{language}-{task}"] for language in LANGUAGES
                if task == "same" or language != "en"]
        return float(np.mean([r[key][2] if key.startswith("percentiles") else r[key]
                              for r in rows]))

    # Two anchors per condition, on the common scale: the median unrelated passage and
    # the median answer. The cross-language scale (floor, top) maps a cosine between a
    # question and a passage in two languages so that both anchors land where they do
    # in one language: common = (raw - floor) / (top - floor), raw = f + (1 - f) * c.
    same = mean("same", "unrelated_median"), mean("same", "percentiles_10_25_50")
    cross = mean("en", "unrelated_median"), mean("en", "percentiles_10_25_50")
    raw = [floor + (1 - floor) * c for c in cross]
    span = (raw[1] - raw[0]) / (same[1] - same[0])
    low = raw[0] - same[0] * span
    results["anchors_same"], results["anchors_cross"] = same, cross
    results["cross_language_scale"] = [round(low, 4), round(low + span, 4)]
    print(f"unrelated and answer (medians): own language {same[0]:.3f} {same[1]:.3f}, "
          f"another {cross[0]:.3f} {cross[1]:.3f}; the cross-language scale that maps "
          f"one onto the other: floor {low:.4f}, top {low + span:.4f}")
    print("wrote", write_results(
        f"cosine-scale-{args.embedder}{'-moved' if args.moved else ''}", results))


if __name__ == "__main__":
    main()
