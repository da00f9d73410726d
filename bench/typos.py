"""Misspelt questions: SciFact claims with one or two typos each, searched as typed and
corrected (search/spelling.py), against the clean claims.

    python bench/typos.py [--embedder onnx-int8] [--seed 13]

Each claim gets one or two typos (seeded per claim), each in a different word of four
letters or more: two neighbouring letters swapped, a letter dropped or a letter doubled.
Every claim runs through the product's ``Answerer`` four ways: clean and typo'd, each
as typed (``exact``) and corrected. nDCG@10 on the train claims (where the speller's
settings were chosen) and the test claims (reported); the target is corrected typo'd
claims at 95% or more of the clean claims' nDCG@10. Also counted: the typo'd claims that
the speller brings back to the clean text, and the clean claims that it changes.

Writes bench/results/typos-<embedder>.json.
"""

from __future__ import annotations

import argparse
import random
import re

from common import evaluate, scifact_index, write_results

from search import spelling
from search.answers import Answerer

WORD = re.compile(r"[^\W\d_]{4,}")


def misspell(text: str, rng: random.Random) -> str:
    """``text`` with one or two typos, each in a different word of four letters or more."""
    words = list(WORD.finditer(text))
    chosen = sorted(rng.sample(words, min(len(words), rng.choice((1, 2)))),
                    key=lambda m: m.start(), reverse=True)
    for match in chosen:
        text = text[:match.start()] + typo(match.group(), rng) + text[match.end():]
    return text


def typo(word: str, rng: random.Random) -> str:
    """One typo: two neighbouring (different) letters swapped, one dropped or one doubled."""
    kind = rng.choice(("swap", "drop", "double"))
    swappable = [i for i in range(len(word) - 1) if word[i].lower() != word[i + 1].lower()]
    if kind == "swap" and swappable:
        i = rng.choice(swappable)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    i = rng.randrange(len(word))
    return word[:i] + word[i + 1:] if kind == "drop" else word[:i] + word[i] + word[i:]


def run(answerer: Answerer, texts: dict[str, str], exact: bool) -> tuple[dict, dict]:
    """(ranx run of the top 10 documents, the query searched) per claim."""
    ranked, searched = {}, {}
    for qid, text in texts.items():
        result = answerer.answer(text, limit=10, experts=0, exact=exact)
        ranked[qid] = {a["id"]: a["score"] for a in result["articles"]}
        searched[qid] = result["corrected_query"] or text
    return ranked, searched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    store, indexes, embedder, claims, splits = scifact_index(args.embedder)
    answerer = Answerer(store, indexes, embedder)
    answerer.warm_up()
    results: dict = {"embedder": args.embedder, "seed": args.seed, "speller": {
        k: getattr(spelling, k) for k in ("MIN_LENGTH", "SHORT_WORD", "LONG_WORD",
                                          "MAX_EDITS")}}
    for split in ("train", "test"):
        qrels = splits[split]
        clean = {q: claims[q] for q in qrels}
        typod = {q: misspell(t, random.Random(f"{args.seed}-{q}")) for q, t in clean.items()}
        scores, searched = {}, {}
        for label, texts, exact in (("clean", clean, True), ("clean corrected", clean, False),
                                    ("typos", typod, True), ("typos corrected", typod, False)):
            ranked, searched[label] = run(answerer, texts, exact)
            scores[label] = evaluate(qrels, ranked, ["ndcg@10"])["ndcg@10"]
        restored = sum(searched["typos corrected"][q] == clean[q] for q in qrels) / len(qrels)
        changed = sum(searched["clean corrected"][q] != clean[q] for q in qrels) / len(qrels)
        share = {k: v / scores["clean"] for k, v in scores.items()}
        for label, value in scores.items():
            print(f"{split:<5} {label:<16} nDCG@10 {value:.4f}  ({share[label]:.1%} of clean)")
        print(f"{split:<5} typo'd claims brought back to the clean text {restored:.1%}; "
              f"clean claims changed {changed:.1%}")
        results[split] = {"claims": len(qrels), "ndcg@10": scores, "share_of_clean": share,
                          "typos_restored": restored, "clean_changed": changed,
                          "examples": [(typod[q], searched["typos corrected"][q])
                                       for q in list(qrels)[:5]]}
    print("wrote", write_results(f"typos-{args.embedder}", results))


if __name__ == "__main__":
    main()
