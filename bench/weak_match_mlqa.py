"""How many of MLQA-R's own questions the product flags ``weak_match`` over its pool of
seven languages (every question's answer is in it), with and without asking a short
question's subject (search/subject.py), per question language.

    python bench/weak_match_mlqa.py --embedder e5-int8

The flag as ``Answerer.answer`` reads it: the product's hybrid ranking (the question
moved across languages as the product moves it), the question's line
(``Answerer.close_line``), the model's slack. A flagged question here is a false alarm,
unless the question itself says too little to be answered ("When did he die?"): the
subject must not cost a question asked in one language and answered in another. Uses
the data folder bench/eval_mlqa.py builds (built here if missing).

Writes bench/results/weak-match-mlqa-<embedder>.json.
"""

from __future__ import annotations

import argparse
from collections import Counter

from common import BENCH_DATA, mlqa_index, read_jsonl, write_results

from search.answers import Answerer, weak_match
from search.text import question_language, terms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="e5-int8")
    args = parser.parse_args()
    data = BENCH_DATA / "mlqa-r"
    store, indexes, embedder = mlqa_index(args.embedder)
    answerer = Answerer(store, indexes, embedder)
    questions = [(q["text"], q["metadata"]["language"])
                 for q in read_jsonl(data / "queries.jsonl")]
    vectors = answerer.searcher.embed_queries([text for text, _ in questions])
    asked, unasked, flagged, newly = Counter(), Counter(), Counter(), []
    for (text, language), vector in zip(questions, vectors, strict=True):
        line = answerer.close_line(text, vector)
        ranking = answerer.searcher.retrieve(text, query_vector=vector)
        without = weak_match(ranking, line, answerer.support_slack)
        with_subject = weak_match(ranking, line, answerer.support_slack, terms(text),
                                  answerer.searcher.keywords, question_language(text))
        asked[language] += 1
        unasked[language] += without
        flagged[language] += with_subject
        if with_subject and not without:
            newly.append({"language": language, "question": text})
    results = {"embedder": embedder.name, "asks_subject": answerer.asks_subject,
               "questions": sum(asked.values()),
               "flagged_without_subject": sum(unasked.values()) / sum(asked.values()),
               "flagged_with_subject": sum(flagged.values()) / sum(asked.values()),
               "by_language": {language: {"questions": n,
                                          "without_subject": unasked[language] / n,
                                          "with_subject": flagged[language] / n}
                               for language, n in sorted(asked.items())},
               "flagged_only_with_subject": newly}
    for language, row in results["by_language"].items():
        print(f"{language}: {row['questions']} questions, flagged {row['without_subject']:.1%}"
              f" without the subject, {row['with_subject']:.1%} with it")
    print(f"all: {results['flagged_without_subject']:.2%} -> "
          f"{results['flagged_with_subject']:.2%}")
    for item in newly:
        print(f"  {item['language']}: {item['question'].strip()}")
    print("wrote", write_results(f"weak-match-mlqa-{args.embedder}", results))


if __name__ == "__main__":
    main()
