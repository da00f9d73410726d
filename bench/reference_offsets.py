"""Where a language sits, read from the model instead of the corpus (session 11): the
reference offsets of indexer/language_centres.py against the corpus's own centres.

    python bench/reference_offsets.py

A language's offset is the mean query vector of the same 20 sentences written in that
language minus their mean in English (``indexer/language_reference.json``); the corpus's
centres are mean passage vectors of languages with at least 20 passages. Dense retrieval
on the vectors bench/eval_mlqa.py stored (run it first), nDCG@10, mean over the six
non-English question languages (lowest, and English questions), for -en, -any and
-same (the answer in the question's own language; a question counts where its answer is
in the pool), on:

- the whole MLQA-R pool (every language about a seventh), where the product uses the
  corpus's centres;
- a mostly English pool: every passage detected as English, and 2% as many of each
  other language's, as a company with a few notes in other languages; no
  language but English has a centre there, so the product reads the reference (until
  session 11 it left every question as asked). Its -en task ranks the English paragraphs
  only, as on the whole pool.

Writes bench/results/reference-offsets-e5-int8.json.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import write_results
from language_centres import LANGUAGES, Pool

from indexer.language_centres import SHIFT, LanguageCentres

SMALL = 0.02  # each other language's passages in the mostly English pool, to English's


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()  # --help, and no surprises
    pool = Pool("e5-int8")
    rng = np.random.default_rng(0)
    small = pool.detected == "en"
    few = round(SMALL * small.sum())
    for language in LANGUAGES[:2] + LANGUAGES[3:]:  # every one but English
        small[rng.choice(np.flatnonzero(pool.detected == language), few, replace=False)] = True
    results: dict = {}
    for label, kept in (("whole pool", np.ones(len(pool.passages), bool)),
                        ("mostly English pool", small)):
        languages, counts = np.unique(pool.detected[kept], return_counts=True)
        counts = {str(language) or None: int(n) for language, n in zip(languages, counts,
                                                                        strict=True)}
        reference = LanguageCentres.from_reference(counts, pool.embedder)
        named = [reference.language_of(q) for q in pool.questions]
        print(f"{label}: the reference names the question's language "
              f"{np.mean(np.array(named) == pool.asked_in):.2%}")
        rows = {"the model's vectors": pool.questions}
        if label == "whole pool":
            centres = LanguageCentres.of(pool.store, pool.embedder)
            rows[f"corpus centres by {SHIFT} (the product)"] = np.vstack(
                [centres.shift(q) for q in pool.questions])
        for by in (0.5, 0.75, 1.0):
            rows[f"reference offsets by {by}"] = np.vstack(
                [reference.shift(q, by) for q in pool.questions])
        passages = pool.passages[kept]
        closer = np.maximum(pool.questions @ passages.T, rows[f"reference offsets by {SHIFT}"]
                            @ passages.T)
        product = " (the product)" if label != "whole pool" else ""
        for name, questions in [*rows.items(), (f"closer of asked and moved by {SHIFT}"
                                                f"{product}", None)]:
            table = results[f"{label}: {name}"] = pool.score(
                passages, questions, kept, closer if questions is None else None)
            print(f"{label:<20} {name:<46} " + "  ".join(
                f"-{task} {table[task]['mean_non_english']:.3f} (min "
                f"{table[task]['min_non_english']:.3f}, en {table[task]['en']:.3f})"
                for task in ("en", "any", "same")), flush=True)
    print("wrote", write_results("reference-offsets-e5-int8", results))


if __name__ == "__main__":
    main()
