"""A question in the corpus's case (search/casing.py): SciFact's claims as written and
typed in lowercase, embedded as typed and in the corpus's case, with multilingual-e5.

    python bench/casing.py [--embedder e5-int8]

nDCG@10 of the dense retriever and of the product's hybrid ranking, on the train claims
(where the rule was chosen) and the test claims. Writes bench/results/casing-<embedder>.json.
"""

from __future__ import annotations

import argparse

from common import evaluate, scifact_index, write_results

from indexer.embedders import embed_queries
from search.casing import truecased
from search.retrieval import Searcher
from search.text import clean_query

TYPED = {"as written": lambda text: text, "in lowercase": str.lower}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="e5-int8")
    args = parser.parse_args()
    store, indexes, embedder, claims, splits = scifact_index(args.embedder)
    searcher = Searcher(store, indexes, embedder)
    results: dict = {"embedder": args.embedder}
    for split, qrels in splits.items():
        for typed, form in TYPED.items():
            texts = [clean_query(form(claims[q])) for q in qrels]
            cased = [truecased(t, searcher.keywords, store) for t in texts]
            changed = sum(a != b for a, b in zip(texts, cased, strict=True))
            for label, asked in (("as typed", texts), ("in the corpus's case", cased)):
                vectors = embed_queries(embedder, asked)
                scores = {}
                for mode in ("dense", "hybrid"):
                    run = {q: {d.doc_id: d.score for d in searcher.retrieve(
                        text, mode=mode, query_vector=v)[:100]}
                        for q, text, v in zip(qrels, texts, vectors, strict=True)}
                    scores[mode] = round(evaluate(qrels, run, ["ndcg@10"])["ndcg@10"], 4)
                key = f"{split}, {typed}, embedded {label}"
                results[key] = {**scores, "claims_changed": changed}
                print(f"{key:<55} dense {scores['dense']:.4f}  hybrid {scores['hybrid']:.4f}"
                      f"  ({changed} of {len(texts)} claims recased)")
    print("wrote", write_results(f"casing-{args.embedder}", results))


if __name__ == "__main__":
    main()
