"""Who the demo company's expert lists suggest, with the lines of evidence about the
question as they are and with the corpus's centre left out (before session 12).

    python bench/demo_experts.py --embedder e5-int8     # the demo embedded with e5
    python bench/demo_experts.py --embedder onnx-int8   # the default English model

The demo corpus is ingested once into ``bench/.cache/demo-now-EMBEDDER``. The queries
are the 16 of ``bench/latency_http.py`` and 13 more typed on the demo page (questions in
German and Portuguese, a typo, subjects the demo company has nothing on). For each, the
top five people "before" (``close_margin`` and ``skill_margin`` 0: a document counts as
about the question at cosine 0.3, a skill at 0.5) and "now" (the product's defaults).
Prints the lists that differ, how often the demo's most prolific author is listed and
where the queries meet the corpus as a whole (their cosine to its centre);
writes ``bench/results/demo-experts-EMBEDDER.json``.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import CACHE, ROOT, index_paths, write_results
from latency_http import QUERIES

from indexer.embedders import cosine_floor, embed_queries, make_embedder, rescale
from search.answers import Answerer
from search.experts import ExpertRanker, ExpertWeights

TYPED = ["Quem sabe de previsão de demanda?", "Datenschutz Löschkonzept",
         "Wer kennt sich mit Tourenplanung aus?", "dbt incremental models",
         "tax rules for company cars", "route optimization", "kuberentes", "GDPR",
         "how do we do on-call?", "pricing", "machine learning", "public speaking",
         "customs clearance", "parental leave policy"]
PROLIFIC = "Lukas Meier"  # 15 documents; the next most prolific authors wrote 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="e5-int8")
    args = parser.parse_args()
    embedder = make_embedder(args.embedder, cache_dir=CACHE / "models")
    store, indexes = index_paths("demo", CACHE / f"demo-now-{args.embedder}",
                                 [ROOT / "corpus"], embedder)
    answerer = Answerer(store, indexes, embedder)
    answerer.warm_up()
    before = ExpertRanker(store, embedder, ExpertWeights(close_margin=0.0, skill_margin=0.0))
    queries = list(dict.fromkeys([*QUERIES, *TYPED]))
    lists: dict[str, dict[str, list[str]]] = {}
    vectors = embed_queries(embedder, queries)
    # Where each query meets the corpus as a whole (its cosine to the centre, common scale).
    centre = answerer.ranker.corpus_centre()
    background = rescale(vectors @ centre, cosine_floor(embedder))
    for query, vector in zip(queries, vectors, strict=True):
        ranking = answerer.searcher.retrieve(query, query_vector=vector)
        lists[query] = {
            "before": [h.name for h in before.rank(query, ranking, vector, limit=5)],
            "now": [h.name for h in answerer.ranker.rank(query, ranking, vector, limit=5)]}
    changed = {q: v for q, v in lists.items() if v["before"] != v["now"]}
    for query, shown in changed.items():
        print(f"{query}\n  before: {', '.join(shown['before']) or '(nobody)'}"
              f"\n  now:    {', '.join(shown['now']) or '(nobody)'}")
    counts = {when: sum(PROLIFIC in v[when] for v in lists.values()) for when in ("before", "now")}
    empty = {when: sum(not v[when] for v in lists.values()) for when in ("before", "now")}
    print(f"\nthe queries' cosine to the corpus's centre: {background.min():.2f} to "
          f"{background.max():.2f} (median {np.median(background):.2f})")
    print(f"{len(changed)} of {len(queries)} lists changed; {PROLIFIC} listed in "
          f"{counts['before']} before, {counts['now']} now; nobody listed for "
          f"{empty['before']} before, {empty['now']} now")
    print("wrote", write_results(f"demo-experts-{args.embedder}",
                                 {"lists": lists, "changed": len(changed),
                                  "background": [round(float(b), 3) for b in background],
                                  "prolific_listed": counts, "nobody_listed": empty}))


if __name__ == "__main__":
    main()
