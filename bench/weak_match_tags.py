"""How often ``weak_match`` fires on keywords typed alone: the corpora's own tags as questions.

    python bench/weak_match_tags.py [--embedder onnx-int8]

bench/weak_match.py calibrates the flag on claims, titles and papers, which say a lot.
A search box also gets a word or two ("sql", "grafana"), and a word alone meets a
passage at a lower cosine. The short questions a corpus treats are its tags: android's
(those of 1 or 2 content words used by 3 train questions or more) over android's train
answers, and the demo documents' tags over the demo (every document is its tag's
answer). Each set is also asked of the other corpora (and of SciFact and DBLP, which
have no tags), where it should be flagged; the labels are rough there, since subjects
overlap (DBLP's papers treat "machine learning", a demo tag).

Per pair, the share flagged: by the rule in use, with the subject not asked, and with
two remedies measured and not taken (session 17): a lexical clearance (a flagged
question is let through when ``K`` of its 10 closest documents have a passage holding
all its words and the closest is within 0.1 of the line), and a line lower by ``x``
for these questions. Writes
bench/results/weak-match-tags-<embedder>.json.
"""

from __future__ import annotations

import argparse
import collections

import numpy as np
from common import BENCH_DATA, read_jsonl, write_results
from weak_match import Corpus, four_corpora

from search.answers import support_slack, weak, weak_similarity
from search.closeness import CENTRE_MEMBERS, DOCUMENT_MARGIN, lines
from search.subject import SUBJECT_DOCUMENTS, subject_unmet
from search.text import question_language, terms

MIN_QUESTIONS = 3  # an android tag counts when this many train questions carry it
CLEARANCES = [1, 2, 3, 5]  # documents whose passage holds every word (not taken)
LOWER_LINES = [0.02, 0.04, 0.06, 0.08, 0.1]  # a lower line for keywords (not taken)
NEAR_LINE = 0.1


def tag_questions(corpora: dict[str, Corpus]) -> dict[str, list[str]]:
    questions = read_jsonl(BENCH_DATA / "stackexchange-android" / "questions.jsonl")
    used = collections.Counter(t for q in questions if q["split"] == "train"
                               for t in q.get("tags", []))
    store = corpora["demo"].searcher.store
    documents = store.get_documents(list(store.document_vectors())).values()
    found = {"android": sorted(t for t, n in used.items() if n >= MIN_QUESTIONS),
             "demo": sorted({t.lower() for d in documents for t in d.tags})}
    return {name: [t for t in (tag.replace("-", " ") for tag in tags)
                   if 1 <= len(terms(t)) <= 2] for name, tags in found.items()}


def flags(target: Corpus, texts: list[str], threshold: float, slack: float | None
          ) -> dict[str, np.ndarray]:
    """Which of ``texts`` are flagged over ``target``: in use, without the subject, and
    with each clearance."""
    searcher = target.searcher
    vectors = searcher.embed_queries(texts)
    lifted = lines(-np.inf, DOCUMENT_MARGIN, target.centre, vectors, target.floor)
    rows = {"in use": [], "subject not asked": [],
            **{f"cleared by {k}": [] for k in CLEARANCES},
            **{f"line lower by {x}": [] for x in LOWER_LINES}}
    for text, vector, lift in zip(texts, vectors, lifted, strict=True):
        ranking = sorted(searcher.retrieve(text, query_vector=vector),
                         key=lambda d: -d.similarity)
        cosines = [d.similarity for d in ranking[:CENTRE_MEMBERS]]
        line = max(threshold, lift)
        words = terms(text)
        met = [d.dense_chunk for d in ranking[:SUBJECT_DOCUMENTS]
               if d.dense_chunk is not None]
        unmet = subject_unmet(words, met, searcher.keywords, question_language(text))
        flagged = weak(cosines, line, slack, unmet)
        rows["in use"].append(flagged)
        rows["subject not asked"].append(weak(cosines, line, slack))
        held = [set(searcher.keywords.holding(w).tolist()) for w in words]
        together = sum(all(c in h for h in held) for c in met)
        near = bool(cosines) and cosines[0] >= line - NEAR_LINE
        for k in CLEARANCES:
            rows[f"cleared by {k}"].append(flagged and not (together >= k and near))
        for x in LOWER_LINES:
            rows[f"line lower by {x}"].append(weak(cosines, line - x, slack, unmet))
    return {rule: np.array(v, bool) for rule, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx-int8")
    args = parser.parse_args()
    corpora = four_corpora(args.embedder)
    model = corpora["demo"].embedder.name
    threshold, slack = weak_similarity(model), support_slack(model)
    results: dict = {"embedder": args.embedder, "pairs": {}}
    for asked, texts in tag_questions(corpora).items():
        two = np.array([len(terms(t)) == 2 for t in texts])
        for searched, target in corpora.items():
            found = flags(target, texts, threshold, slack)
            pair = {rule: {"all": float(f.mean()), "two_words": float(f[two].mean())}
                    for rule, f in found.items()}
            pair["questions"], pair["two_word_questions"] = len(texts), int(two.sum())
            if asked == searched:
                pair["flagged_in_use"] = [t for t, f in zip(texts, found["in use"],
                                                            strict=True) if f]
            results["pairs"][f"{asked} -> {searched}"] = pair
            print(f"{asked} tags -> {searched} ({len(texts)}, "
                  f"{'in' if asked == searched else 'out of'} domain): " + "  ".join(
                      f"{rule} {v['all']:.1%} ({v['two_words']:.1%} of 2 words)"
                      for rule, v in pair.items() if isinstance(v, dict)), flush=True)
    print("wrote", write_results(f"weak-match-tags-{args.embedder}", results))


if __name__ == "__main__":
    main()
