"""How often the ``weak_match`` flag fires on corpora that cover the query and on those that
do not, over four corpora, and the threshold that separates them best.

    python bench/weak_match.py [--embedder onnx-int8]

The flag (search/answers.py, ``weak``) says that nothing found is clearly about the
query: the closest passage's cosine is under the query's line, the embedder's threshold
(``weak_similarity``) or ``DOCUMENT_MARGIN`` above the query's cosine to the corpus's
centre where that is higher (search/closeness.py; session 12); or, unless the closest is
``CLEAR_MARGIN`` over the line, the 3 closest documents average under the line less
the model's slack (``support_slack``; session 14, MiniLM's), or a question of at most
``SHORT_QUESTION`` content words has a rarest word that none of the passages of the
``SUBJECT_DOCUMENTS`` closest holds (search/subject.py; session 16, calibrated models).
The first sweep moves the threshold, the margins, the slack and the subject in use
staying; the second moves the slack at the threshold in use ("none": no support asked);
the third and fourth, at both in use, the closest documents that must hold a short
question's subject and the longest question whose subject is asked (0: none).
Each corpus brings its own questions, split into a tuning half and a reported half:

- SciFact: train claims (tuning) and test claims (reported) over its 5,183 abstracts;
- android: StackExchange question titles over the train questions' answers (each with
  its question's title): train titles with their own answers left out (tuning), test
  titles, whose answers are not in the corpus (reported);
- DBLP: the 114 query papers over the 1,641 papers, the query paper itself left out,
  even positions tuning, odd ones reported;
- demo: the HTTP benchmark's 16 queries over the demo corpus (both halves: there are no
  more), plus "tax rules for company cars", which it does not cover.

In domain is a corpus's own questions over it (the flag should stay off); out of domain
is every other corpus's questions over it (the flag should fire). Queries are corrected
for spelling as the product does first (search/spelling.py). The threshold is chosen on
the tuning halves: the highest at which no corpus has more than 5% of its own questions
flagged (a false alarm costs trust), which flags the most out-of-domain questions; the
sweep shows the trade-off, and every rate is then given on the reported halves. Last, the
out-of-domain questions the rule in use leaves unflagged are listed with the 3 closest
documents they met, to read whether the corpus searched treats them after all.

Writes bench/results/weak-match-<embedder>.json.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import BENCH_DATA, CACHE, ROOT, build_index, read_jsonl, scifact_index, write_results
from latency_http import QUERIES

from indexer.embedders import cosine_floor, make_embedder
from indexer.indexes import DerivedIndexes
from indexer.store import Store
from ingest.pipeline import Ingester
from search.answers import asks_subject, support_slack, weak, weak_similarity
from search.closeness import CENTRE_MEMBERS, DOCUMENT_MARGIN, centre, lines
from search.retrieval import Searcher
from search.spelling import Speller
from search.subject import SHORT_QUESTION, SUBJECT_DOCUMENTS, subject_unmet
from search.text import question_language, terms

OUT_OF_DEMO = "tax rules for company cars"
THRESHOLDS = [round(0.2 + 0.01 * i, 2) for i in range(76)]  # to 0.95: e5 cosines run high
SLACKS = [None] + [round(0.005 * i, 3) for i in range(11)]  # None: the closest alone

LENGTHS = [0, 1, 2, 3, 4, 6]  # the longest question whose subject is asked (0: none)
DEPTHS = [3, 5, 10, 20, 50]  # the closest documents that must hold it
# The columns of ``Corpus.closest`` after the cosines: the question's content words, its
# subject unmet in each number of ``DEPTHS`` closest documents, its line.
WORDS, UNMET, LINE = CENTRE_MEMBERS, CENTRE_MEMBERS + 1, CENTRE_MEMBERS + 1 + len(DEPTHS)
IN_USE = (SHORT_QUESTION, SUBJECT_DOCUMENTS)  # (words, documents) of a model that asks
UNASKED = (0, SUBJECT_DOCUMENTS)

# A query set: (query texts, documents left out of each query's ranking).
Queries = tuple[list[str], list[set[str]]]


class Corpus:
    """One corpus's searcher and speller, with its questions for tuning and for the report."""

    def __init__(self, store: Store, indexes: DerivedIndexes, embedder, tune: Queries,
                 report: Queries) -> None:
        self.searcher = Searcher(store, indexes, embedder)
        self.speller = Speller(store)
        self.embedder = embedder
        self.centre = centre(list(store.document_vectors().values()), embedder.dim)
        self.floor = cosine_floor(embedder)
        self.queries = {"tune": tune, "report": report}

    def closest(self, texts: list[str], leave_out: list[set[str]] | None = None
                ) -> np.ndarray:
        """Per query (rows): the cosines of the ``CENTRE_MEMBERS`` closest documents
        found (enough for the rule to know whether it may count their support), as the
        product searches them, spelling corrected first (fewer padded with NaN); then
        the number of its content words, whether its subject is unmet in each number of
        ``DEPTHS`` closest documents, at any length (search/subject.py), and its cosine to
        the corpus's centre plus the margin (the line's other part), all on the common
        scale (``COLUMNS``)."""
        searched = [self.speller.correct(t) or t for t in texts]
        vectors = self.searcher.embed_queries(searched)
        out = np.full((len(texts), LINE), np.nan)
        for i, (text, vec) in enumerate(zip(searched, vectors, strict=True)):
            skip = leave_out[i] if leave_out else set()
            ranking = sorted((d for d in self.searcher.retrieve(text, query_vector=vec)
                              if d.doc_id not in skip), key=lambda d: -d.similarity)
            found = [d.similarity for d in ranking[:CENTRE_MEMBERS]]
            out[i, :len(found)] = found
            words = terms(text)
            out[i, WORDS] = len(words)
            passages = [d.dense_chunk for d in ranking[:max(DEPTHS)]
                        if d.dense_chunk is not None]
            for j, documents in enumerate(DEPTHS):
                out[i, UNMET + j] = subject_unmet(
                    words, passages, self.searcher.keywords, question_language(text),
                    most_words=len(words), documents=documents)
        lifted = lines(-np.inf, DOCUMENT_MARGIN, self.centre, vectors, self.floor)
        return np.column_stack([out, lifted])

    def nearest(self, text: str, k: int = 3) -> list[tuple[float, str]]:
        """The ``k`` closest documents found for ``text``: (cosine, title or first words)."""
        searched = self.speller.correct(text) or text
        best = sorted(self.searcher.retrieve(searched), key=lambda d: -d.similarity)[:k]
        docs = self.searcher.store.get_documents([d.doc_id for d in best])
        return [(round(d.similarity, 3), " ".join((docs[d.doc_id].title
                                                   or docs[d.doc_id].body).split())[:120])
                for d in best]


def scifact(kind: str) -> Corpus:
    store, indexes, embedder, claims, splits = scifact_index(kind)
    tune, report = ([claims[q] for q in splits[s]] for s in ("train", "test"))
    return Corpus(store, indexes, embedder, (tune, [set()] * len(tune)),
                  (report, [set()] * len(report)))


def android(kind: str) -> Corpus:
    data = BENCH_DATA / "stackexchange-android"
    questions = {q["qid"]: q for q in read_jsonl(data / "questions.jsonl")}
    answers: dict[str, set[str]] = {}
    records = []
    for a in read_jsonl(data / "answers.jsonl"):
        q = questions.get(a["qid"])
        if q and q["split"] == "train":
            records.append({"id": f"a{a['aid']}", "title": q["title"], "body": a["text"]})
            answers.setdefault(a["qid"], set()).add(f"a{a['aid']}")
    store, indexes, embedder = build_index("weak-android", records, kind)
    train = [q for q in questions.values() if q["split"] == "train" and q["qid"] in answers]
    test = [q for q in questions.values() if q["split"] == "test"]
    return Corpus(store, indexes, embedder,
                  ([q["title"] for q in train], [answers[q["qid"]] for q in train]),
                  ([q["title"] for q in test], [set()] * len(test)))


def dblp(kind: str) -> Corpus:
    data = BENCH_DATA / "dblp"
    records = [{"id": d["_id"], "body": d["text"]} for d in read_jsonl(data / "corpus.jsonl")]
    store, indexes, embedder = build_index("weak-dblp", records, kind)
    papers = list(read_jsonl(data / "queries_docs.jsonl"))
    halves = papers[0::2], papers[1::2]
    tune, report = (([p["text"] for p in h], [{p["_id"]} for p in h]) for h in halves)
    return Corpus(store, indexes, embedder, tune, report)


def demo(kind: str) -> Corpus:
    folder = CACHE / f"demo-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(folder)
    embedder = make_embedder(kind, cache_dir=CACHE / "models")
    Ingester(store, embedder).ingest([ROOT / "corpus"])
    indexes = DerivedIndexes.load(store, embedder.dim, folder)
    both = (list(QUERIES), [set()] * len(QUERIES))
    return Corpus(store, indexes, embedder, both, both)


def four_corpora(kind: str) -> dict[str, Corpus]:
    return {"scifact": scifact(kind), "android": android(kind), "dblp": dblp(kind),
            "demo": demo(kind)}


def measure(corpora: dict[str, Corpus], split: str) -> dict[tuple[str, str], np.ndarray]:
    """Closest cosines of each corpus's ``split`` questions over every corpus:
    ``{(asked, searched): cosines}``."""
    found = {}
    for asked, source in corpora.items():
        texts, leave_out = source.queries[split]
        for searched, target in corpora.items():
            own = asked == searched
            found[asked, searched] = target.closest(texts, leave_out if own else None)
    return found


def flagged(found: np.ndarray, threshold: float, slack: float | None,
            subject: tuple[int, int] = IN_USE) -> np.ndarray:
    """Which queries are flagged by the product's rule (``weak``), the line being the
    threshold or the query's line above the corpus's centre (``Corpus.closest``'s last
    column), whichever is higher; ``subject``: (words, documents), the subject asked of
    questions of at most that many content words, in that many closest documents."""
    words, documents = subject
    return np.array([weak(row[:CENTRE_MEMBERS][~np.isnan(row[:CENTRE_MEMBERS])],
                          max(threshold, row[LINE]), slack,
                          row[WORDS] <= words and bool(row[UNMET + DEPTHS.index(documents)]))
                     for row in found], bool)


def rates(found: dict[tuple[str, str], np.ndarray], threshold: float,
          slack: float | None, subject: tuple[int, int] = IN_USE) -> dict[str, float]:
    """The share flagged per pair of corpora, ``asked -> searched``."""
    return {f"{a} -> {s}": float(flagged(c, threshold, slack, subject).mean())
            for (a, s), c in found.items()}


def trade_off(found: dict[tuple[str, str], np.ndarray], threshold: float,
              slack: float | None, subject: tuple[int, int] = IN_USE) -> dict[str, float]:
    """The most in-domain questions flagged (over corpora), and the fewest and the mean
    out-of-domain ones flagged (over pairs of corpora)."""
    share = rates(found, threshold, slack, subject)
    own = [v for pair, v in share.items() if pair.split(" -> ")[0] == pair.split(" -> ")[1]]
    other = [v for pair, v in share.items() if pair.split(" -> ")[0] != pair.split(" -> ")[1]]
    return {"in_domain_most": max(own), "out_of_domain_fewest": min(other),
            "out_of_domain_mean": float(np.mean(other))}


def table(found: dict[tuple[str, str], np.ndarray], threshold: float, names: list[str],
          slack: float | None, subject: tuple[int, int] = IN_USE) -> list[str]:
    """Flagged % per corpus asked (rows) and searched (columns)."""
    share = rates(found, threshold, slack, subject)
    lines = [f"{'asked / searched':<18}" + "".join(f"{n:>10}" for n in names)]
    for a in names:
        lines.append(f"{a:<18}" + "".join(f"{share[f'{a} -> {s}']:>10.1%}" for s in names))
    return lines


def unflagged(corpora: dict[str, Corpus], found: dict[tuple[str, str], np.ndarray],
              threshold: float, slack: float | None,
              subject: tuple[int, int] = IN_USE) -> list[dict]:
    """The out-of-domain questions the rule leaves unflagged, each with the documents that
    met it: to read whether the searched corpus does treat the question."""
    out = []
    for (asked, searched), cosines in found.items():
        if asked == searched:
            continue
        texts = corpora[asked].queries["report"][0]
        for i in np.flatnonzero(~flagged(cosines, threshold, slack, subject)):
            out.append({"asked": asked, "searched": searched, "question": texts[i][:200],
                        "nearest": corpora[searched].nearest(texts[i])})
    return out


def named(slack: float | None) -> str:
    return "none" if slack is None else f"{slack:.3f}"


def show(sweep: dict, label: str) -> None:
    for x, v in sweep.items():
        step = (f"{x:.2f}" if label == "threshold" else named(x) if label == "slack"
                else str(x))
        print(f"  {label} {step:>5}  {v['in_domain_most']:6.1%}  "
              f"{v['out_of_domain_fewest']:6.1%}  {v['out_of_domain_mean']:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="onnx-int8")
    args = parser.parse_args()
    corpora = four_corpora(args.embedder)
    names = list(corpora)
    model = corpora["demo"].embedder.name
    current, slack_now = weak_similarity(model), support_slack(model)
    asked_now = IN_USE if asks_subject(model) else UNASKED
    tune = measure(corpora, "tune")
    sweep = {t: trade_off(tune, t, slack_now, asked_now) for t in THRESHOLDS}
    print(f"tuning halves ({args.embedder}): most in-domain flagged, fewest and mean "
          f"out-of-domain flagged, by threshold (slack {named(slack_now)}, subject "
          f"{asked_now})")
    show(sweep, "threshold")
    best = max(t for t in THRESHOLDS if sweep[t]["in_domain_most"] <= 0.05)
    print(f"chosen on the tuning halves: {best:.2f}; in use: {current:.2f}")
    slacks = {x: trade_off(tune, current, x, asked_now) for x in SLACKS}
    print(f"by slack, at the threshold in use ({current:.2f})")
    show(slacks, "slack")
    # The smallest slack (the highest mean line) that keeps every corpus's own questions.
    best_slack = min((x for x in SLACKS if x is not None and slacks[x]["in_domain_most"]
                      <= 0.05), default=None)
    print(f"chosen on the tuning halves: {named(best_slack)}; in use: {named(slack_now)}")
    depths = {k: trade_off(tune, current, slack_now, (SHORT_QUESTION, k)) for k in DEPTHS}
    print(f"by the closest documents that must hold the subject of a question of at most "
          f"{SHORT_QUESTION} words, at the threshold and slack in use")
    show(depths, "documents")
    # The fewest (the most questions asked for it) that keep every corpus's own.
    best_depth = min(k for k in DEPTHS if depths[k]["in_domain_most"] <= 0.05)
    print(f"chosen on the tuning halves: {best_depth}; in use: {SUBJECT_DOCUMENTS}")
    lengths = {n: trade_off(tune, current, slack_now, (n, SUBJECT_DOCUMENTS)) for n in LENGTHS}
    print("by the longest question whose subject is asked (0: none), in the closest "
          "documents in use")
    show(lengths, "words")
    # The longest that keeps every corpus's own questions.
    best_words = max(n for n in LENGTHS if lengths[n]["in_domain_most"] <= 0.05)
    print(f"chosen on the tuning halves: {best_words}; in use: {SHORT_QUESTION}")
    report = measure(corpora, "report")
    tax_found = corpora["demo"].closest([OUT_OF_DEMO])
    tax = float(tax_found[0, 0])
    results: dict = {"embedder": args.embedder, "threshold_in_use": current,
                     "threshold_chosen_on_tuning": best, "slack_in_use": slack_now,
                     "slack_chosen_on_tuning": best_slack,
                     "tuning_sweep": {str(t): v for t, v in sweep.items()},
                     "tuning_slack_sweep": {named(x): v for x, v in slacks.items()},
                     "subject_in_use": asked_now,
                     "subject_documents_chosen_on_tuning": best_depth,
                     "tuning_documents_sweep": {str(k): v for k, v in depths.items()},
                     "subject_words_chosen_on_tuning": best_words,
                     "tuning_words_sweep": {str(n): v for n, v in lengths.items()},
                     "out_of_demo": {"query": OUT_OF_DEMO, "closest_cosine": round(tax, 3)}}
    variants = {"in use": (current, slack_now, asked_now),
                "threshold chosen": (best, slack_now, asked_now),
                "slack chosen": (current, best_slack, asked_now),
                "subject chosen": (current, slack_now, (best_words, best_depth)),
                "subject unasked": (current, slack_now, UNASKED),
                "closest alone": (current, None, UNASKED)}
    for label, (threshold, slack, subject) in variants.items():
        asked = f", subject up to {subject[0]} words in {subject[1]} documents"
        print(f"\nreported halves, threshold {threshold:.2f}, slack {named(slack)}{asked} "
              f"({label}):")
        print("\n".join(table(report, threshold, names, slack, subject)))
        print("most in-domain flagged {in_domain_most:.1%}, out of domain fewest "
              "{out_of_domain_fewest:.1%}, mean {out_of_domain_mean:.1%}".format(
                  **trade_off(report, threshold, slack, subject)))
        tax_flagged = bool(flagged(tax_found, threshold, slack, subject)[0])
        print(f"'{OUT_OF_DEMO}' over demo: closest {tax:.3f}, flagged {tax_flagged}")
        results[f"report_{label.replace(' ', '_')}"] = {
            "threshold": threshold, "slack": slack, "subject": subject,
            "flagged": rates(report, threshold, slack, subject),
            **trade_off(report, threshold, slack, subject),
            "out_of_demo_flagged": tax_flagged}
    misses = unflagged(corpora, report, current, slack_now, asked_now)
    print(f"\nout-of-domain questions not flagged (in use): {len(misses)}")
    for m in misses:
        print(f"  {m['asked']} -> {m['searched']}: {m['question'][:90]}")
        for cosine, title in m["nearest"]:
            print(f"      {cosine:.3f}  {title[:90]}")
    results["report_in_use"]["unflagged_out_of_domain"] = misses
    results["closest_cosine_percentiles"] = {
        f"{a} -> {s}": [round(float(np.percentile(np.nan_to_num(c[:, 0]), p)), 3)
                        for p in (5, 25, 50, 75, 95)]
        for (a, s), c in report.items()}
    print("wrote", write_results(f"weak-match-{args.embedder}", results))


if __name__ == "__main__":
    main()
