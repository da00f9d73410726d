"""Expert ranking experiments on cached document rankings, with a dev split.

    python bench/expert_experiments.py collect   # retrieve once per query (minutes the first time)
    python bench/expert_experiments.py score --sets se-dev dblp-topics dblp-papers
    python bench/expert_experiments.py score --variants "depth=1000,weight=rr,ac=0.2"

``collect`` runs ``Searcher.retrieve`` (the default hybrid ranking) for every query of:

- ``se-dev``: 150 android *train* questions held out (the first 150 train question ids in
  sha1 order), their answerers as qrels; the evidence is the answers to the other
  train questions only (a separate index, ``stackexchange-dev``). The test split and
  its qrels take no part, so variants and constants are chosen here;
- ``se-dev2``: the same with another draw of 150 (a second opinion on dev differences);
- ``se-test``: the benchmark's test questions over all train answers (report once);
- ``dblp-topics`` and ``dblp-papers``: the check that relevance still counts.

and stores, per query, the document ranking and the query vector, with each data set's
authorship, document counts and document vectors, in ``bench/.cache/experiments/``.
``score`` re-ranks people with the pure functions below, which mirror
``search/experts.py`` (the first variant, the default, reproduces the eval script's
figures), and prints a markdown table with, on the first set, each variant's paired
difference in average precision from the default (95% bootstrap interval over queries).
The dev qrels grade an accepted answer 2 and any other 1, as the test qrels do; no
ranking signal reads answer scores or accepted flags (the product has neither).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import BENCH_DATA, CACHE, ROOT, build_index, evaluate, read_jsonl, write_results
from eval_experts import METRICS, dblp, stackexchange

from indexer.embedders import cosine_floor, embed_queries, rescale
from search.experts import _min_max
from search.retrieval import Searcher

DEV_QUESTIONS = 150
SETS = ["se-dev", "se-dev2", "se-test", "dblp-topics", "dblp-papers"]


def stackexchange_dev(salt: str = "") -> tuple[str, list[dict], dict[str, str], dict,
                                               set[str] | None]:
    """Held-out train questions as queries; evidence from the other train questions only.
    ``salt`` draws another split (``se-dev2``: a second opinion on dev differences)."""
    data = BENCH_DATA / "stackexchange-android"
    questions = {q["qid"]: q for q in read_jsonl(data / "questions.jsonl")}
    answers = list(read_jsonl(data / "answers.jsonl"))
    answered = {a["qid"] for a in answers}
    train = sorted((q for q in questions.values()
                    if q["split"] == "train" and q["qid"] in answered),
                   key=lambda q: hashlib.sha1((salt + q["qid"]).encode()).hexdigest())
    dev = {q["qid"] for q in train[:DEV_QUESTIONS]}
    _, records, _, _, _ = stackexchange()
    question_of = {f"a{a['aid']}": a["qid"] for a in answers}
    records = [r for r in records if r.get("authors") is None
               or question_of[r["id"]] not in dev]
    qrels: dict[str, dict[str, int]] = {}
    for a in answers:
        if a["qid"] in dev:
            qrels.setdefault(a["qid"], {})[a["answerer"]] = 2 if a["accepted"] else 1
    queries = {qid: f"{questions[qid]['title']} {questions[qid]['body']}" for qid in dev}
    return f"stackexchange-dev{salt}", records, queries, qrels, None


def loader(name: str) -> Callable[[], tuple]:
    return {"se-dev": stackexchange_dev, "se-dev2": lambda: stackexchange_dev("2"),
            "se-test": stackexchange,
            "dblp-topics": lambda: dblp("topics"), "dblp-papers": lambda: dblp("docs")}[name]


def cache_path(name: str, embedder: str) -> Path:
    """Where one set's rankings are kept: ``se-dev.pkl`` for torch MiniLM (the sets the
    default was chosen on), ``se-dev-e5-int8.pkl`` for another model."""
    suffix = "" if embedder == "minilm" else f"-{embedder}"
    return CACHE / "experiments" / f"{name}{suffix}.pkl"


def collect(name: str, embedder_kind: str = "minilm") -> None:
    index, records, queries, qrels, keep = loader(name)()
    store, indexes, embedder = build_index(index, records, embedder_kind)
    searcher = Searcher(store, indexes, embedder)
    ids = [q for q in queries if q in qrels]
    runs = {}
    for qid, vec in zip(ids, embed_queries(embedder, [queries[q] for q in ids]), strict=True):
        ranking = searcher.retrieve(queries[qid], query_vector=vec)
        runs[qid] = ([(d.doc_id, d.score, d.similarity, d.keyword) for d in ranking], vec)
    people = set(store.get_people())
    authors = {d: [p for p in ps if p in people]
               for d, ps in store.authors_by_document().items()}
    out = {"runs": runs, "qrels": {q: qrels[q] for q in ids}, "keep": keep,
           "authors": authors, "doc_vectors": store.document_vectors(),
           "cosine_floor": cosine_floor(embedder)}
    path = cache_path(name, embedder_kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    print(f"{name}: {len(ids)} queries -> {path}")


class Data:
    """One cached set: runs, qrels, authorship, per-person counts and focus vectors."""

    def __init__(self, name: str, embedder: str = "minilm") -> None:
        raw = pickle.loads(cache_path(name, embedder).read_bytes())
        self.name = name
        self.runs, self.qrels, self.keep = raw["runs"], raw["qrels"], raw["keep"]
        self.authors: dict[str, list[str]] = raw["authors"]
        by_author: dict[str, list[str]] = {}
        for doc, people in self.authors.items():
            for p in people:
                by_author.setdefault(p, []).append(doc)
        self.by_author = by_author
        self.counts = {p: len(d) for p, d in by_author.items()}
        vecs = raw["doc_vectors"]
        rows_of = {d: i for i, d in enumerate(sorted(vecs))}
        self.doc_matrix = np.vstack([vecs[d] for d in sorted(vecs)])
        self.doc_rows = {p: np.array([rows_of[d] for d in docs if d in rows_of], dtype=np.int64)
                         for p, docs in by_author.items()}
        self.focus_ids = sorted(by_author)
        rows = np.vstack([np.sum([vecs[d] for d in by_author[p]], axis=0)
                          for p in self.focus_ids])
        self.focus_vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        self.total_docs = len(self.authors)
        # The corpus's centre (the mean document vector), as the expert ranker holds it.
        self.centre = self.doc_matrix.mean(axis=0)
        self.cosine_floor = raw.get("cosine_floor", 0.0)

    def background(self, vec: np.ndarray) -> float:
        """The question's cosine to the corpus as a whole, on the common scale."""
        return float(rescale(float(vec @ self.centre), self.cosine_floor))


# --- signals --------------------------------------------------------------------------


min_max = _min_max  # the ranker's own scaling, so the default variant is the product's


def focus(data: Data, vec: np.ndarray) -> dict[str, float]:
    return dict(zip(data.focus_ids, (data.focus_vectors @ vec).tolist(), strict=True))


def rank_scores(scores: dict[str, float], over, k: int = 60) -> dict[str, float]:
    """Reciprocal rank of each person's score among ``over`` (ties broken by id)."""
    order = sorted(over, key=lambda p: (-scores.get(p, 0.0), p))
    return {p: 1.0 / (k + i) for i, p in enumerate(order, start=1)}


def normalise(scores: dict[str, float], over, how: str) -> dict[str, float]:
    if how == "minmax":
        return min_max(scores, over)
    values = {p: scores.get(p, 0.0) for p in over}
    if how == "max":
        hi = max(values.values(), default=0.0)
        return {p: v / hi if hi > 0 else 0.0 for p, v in values.items()}
    if how == "sum":
        total = sum(values.values())
        return {p: v / total if total > 0 else 0.0 for p, v in values.items()}
    if how == "rank":
        return rank_scores(values, over)
    if how == "z":
        arr = np.array(list(values.values()))
        mu, sd = arr.mean(), arr.std() or 1.0
        return {p: (v - mu) / sd for p, v in values.items()}
    raise ValueError(how)


def general(data: Data, ranking, vec, *, ev=0.56, fo=0.16, ac=0.08, depth=500,
            weight="score", lam=1.0, beta=1.0, norm="minmax", act="log",
            combine="linear", k=60, fnorm="same", mnz=0, floor=None, near=500, drop=0,
            acap=0, agate=0, shown=0, margin=0.0, ftop=0):
    """A family around the default formula (``general(d, r, v)`` is the default).

    evidence: the sum over the top ``depth`` documents of their vote (``weight``: the fused
    score, ``pow`` score ** lam, ``exp`` exp(lam * score), ``rr`` 1 / (k + rank), ``count``,
    ``dense`` the document's dense cosine, ``scoredense`` the fused score times it),
    shared among authors, times n ** (beta - 1) where n is the person's document count
    (beta = 1: CombSUM, i.e. Model 2 with a prior proportional to activity; beta = 0:
    CombAVG; beta > 1 a stronger prior), times the number of votes with ``mnz``;
    ``norm`` scales each signal over the candidates (minmax, max, sum, z, rank = RRF of
    the signals, logminmax = log evidence then min-max); ``fnorm=raw`` keeps focus a
    cosine; ``ftop=k`` makes focus the mean cosine of the person's k documents nearest the
    query (0: the cosine to their documents' centroid); ``combine=product`` is log-linear:
    log evidence + ac * log activity + fo * cosine (a multiplicative prior and a von
    Mises-Fisher focus factor).

    Eligibility (issue 13): with ``floor``, a person is *about the question* when one of
    their documents in the top ``near`` has a dense cosine to the query of at least
    ``floor``; they come before everyone else (trec-style), or alone with ``drop``, or
    (``shown``) the best ``shown`` of them, the list the product shows, come first and
    everyone else follows in the order of their score.
    ``acap``: the activity term never exceeds the person's largest other term;
    ``agate``: activity counts only for people about the question.
    ``margin``: a close document must also stand this far above the question's cosine to
    the corpus as a whole (``Data.background``).
    """
    sums: dict[str, float] = {}
    n_votes: dict[str, int] = {}
    for rank, (doc, score, _dense, _kw) in enumerate(ranking[:depth], start=1):
        people = data.authors.get(doc, [])
        if not people:
            continue
        if weight == "score":
            vote = score
        elif weight == "pow":
            vote = score ** lam
        elif weight == "exp":
            vote = math.exp(lam * score)
        elif weight == "rr":
            vote = 1.0 / (k + rank)
        elif weight == "count":
            vote = 1.0
        elif weight == "dense":
            vote = max(_dense, 0.0)
        elif weight == "scoredense":
            vote = score * max(_dense, 0.0)
        else:
            raise ValueError(weight)
        for p in people:
            sums[p] = sums.get(p, 0.0) + vote / len(people)
            n_votes[p] = n_votes.get(p, 0) + 1
    if mnz:
        sums = {p: s * n_votes[p] for p, s in sums.items()}
    if beta != 1.0:
        sums = {p: s * data.counts[p] ** (beta - 1) for p, s in sums.items()}
    cands = sums.keys()
    if act == "log":
        activity = {p: math.log1p(c) for p, c in data.counts.items()}
    elif act == "raw":
        activity = {p: float(c) for p, c in data.counts.items()}
    else:
        activity = {}
    signal = (lambda: best_documents(data, ranking, vec, k=ftop)) if ftop else (
        lambda: focus(data, vec))
    if combine == "product":  # log evidence + ac * log activity + fo * focus
        cos = signal()
        return {p: math.log(sums[p] + 1e-12) + ac * math.log(activity.get(p, 1.0))
                + fo * cos.get(p, 0.0) for p in cands}
    if norm == "logminmax":  # evidence on a log scale, then every signal min-max
        e = min_max({p: math.log(s) for p, s in sums.items() if s > 0}, cands)
        norm = "minmax"
    else:
        e = normalise(sums, cands, norm)
    f = (normalise(signal(), cands, norm) if fnorm == "same"
         else {p: max(0.0, c) for p, c in signal().items()})
    a = normalise(activity, cands, norm) if activity else dict.fromkeys(cands, 0.0)
    if floor is None:
        return {p: ev * e[p] + fo * f[p] + ac * a[p] for p in cands}
    close = about(data, ranking, max(floor, data.background(vec) + margin) if margin
                  else floor, near)
    scores = {}
    for p in cands:
        act = ac * a[p] if p in close or not agate else 0.0
        rest = ev * e[p] + fo * f[p]
        if acap:
            act = min(act, max(ev * e[p], fo * f[p]))
        scores[p] = rest + act
    if drop:
        return {p: s for p, s in scores.items() if p in close}
    if shown:
        close = set(sorted(close & cands, key=lambda p: (-scores[p], p))[:shown])
    return {p: s + (EARLIER if p in close else 0.0) for p, s in scores.items()}


EARLIER = 100.0  # added to the score of people about the question: they come first


def about(data: Data, ranking, floor: float, near: int) -> set[str]:
    """People with a document in the top ``near`` whose dense cosine is ``floor`` or more."""
    return {p for doc, _score, dense, _kw in ranking[:near] if dense >= floor
            for p in data.authors.get(doc, [])}


def soft_sum(data: Data, ranking, vec, *, tau: float = 0.1):
    """Every document a person wrote, weighted exp((cos - best cos) / tau): a small tau is
    their best document alone (max-sim), a large one their document count (popularity)."""
    cos = data.doc_matrix @ vec
    weights = np.exp((cos - cos.max()) / tau)
    return {p: float(weights[rows].sum()) for p, rows in data.doc_rows.items() if len(rows)}


def best_documents(data: Data, ranking, vec, *, k: int = 1):
    """The mean cosine of a person's k documents nearest the query."""
    cos = data.doc_matrix @ vec
    return {p: float(np.sort(cos[rows])[-k:].mean())
            for p, rows in data.doc_rows.items() if len(rows)}


def with_best_document(data: Data, ranking, vec, *, weight: float = 0.1):
    """The default plus ``weight`` times min-max(cosine of the person's best document)."""
    base = general(data, ranking, vec)
    best = min_max(best_documents(data, ranking, vec), base.keys())
    return {p: s + weight * best[p] for p, s in base.items()}


def prior_times(data: Data, ranking, vec, *, gamma: float, raw: bool = False):
    """(evidence + focus, the default's ratio) times activity ** gamma: the prior as a factor."""
    base = general(data, ranking, vec, ev=0.78, fo=0.22, ac=0.0)
    return {p: s * (data.counts[p] if raw else math.log1p(data.counts[p])) ** gamma
            for p, s in base.items()}


def nearest_smoothed(data: Data, ranking, vec, *, k: int = 30, mu: float = 1.0):
    """Answerers of the k nearest documents, Dirichlet-smoothed with the popularity prior:
    (votes(e) + mu * K * P(e)) / (k + mu * K), with K = people per 100 documents."""
    votes: dict[str, float] = {}
    for doc, *_ in ranking[:k]:
        for p in data.authors.get(doc, []):
            votes[p] = votes.get(p, 0.0) + 1.0 / len(data.authors[doc])
    cands = {p for doc, *_ in ranking for p in data.authors.get(doc, [])}
    scale = mu * len(data.counts) / 100
    return {p: votes.get(p, 0.0) / k + scale * data.counts[p] / data.total_docs for p in cands}


def gold_tags(data: Data, ranking, vec, *, qid: str, mu: float = 10.0):
    """Analysis only (the product has no such field): answers in the question's own tags
    plus mu / 30 * answer count. A ceiling for what topical match can add to popularity."""
    tags = set(_questions()[qid]["tags"])
    profile = _tag_profiles(data)
    return {p: sum(profile[p].get(t, 0) for t in tags) + mu * n / 30
            for p, n in data.counts.items()}


_CACHE: dict = {}


def _questions() -> dict[str, dict]:
    if "questions" not in _CACHE:
        data = BENCH_DATA / "stackexchange-android"
        _CACHE["questions"] = {q["qid"]: q for q in read_jsonl(data / "questions.jsonl")}
        _CACHE["answers"] = list(read_jsonl(data / "answers.jsonl"))
    return _CACHE["questions"]


def _tag_profiles(data: Data) -> dict[str, dict[str, int]]:
    key = ("tags", data.name)
    if key not in _CACHE:
        questions = _questions()
        profile: dict[str, dict[str, int]] = {p: {} for p in data.counts}
        for a in _CACHE["answers"]:
            if f"a{a['aid']}" in data.authors and a["answerer"] in profile:
                for t in questions[a["qid"]]["tags"]:
                    profile[a["answerer"]][t] = profile[a["answerer"]].get(t, 0) + 1
        _CACHE[key] = profile
    return _CACHE[key]


def popularity(data: Data, ranking, vec) -> dict[str, float]:
    return {p: float(c) for p, c in data.counts.items()}


def with_rule(**extra) -> Callable:
    """The default (issue 13's rule included) with other ``general`` parameters."""
    return lambda d, r, v: general(d, r, v, floor=0.3, margin=0.1, acap=1, shown=10, **extra)


# The variants reported in docs/benchmarks.md; any other ``general`` variant can be named
# on the command line as "key=value,..." (e.g. "depth=1000,weight=rr,ac=0.2").
VARIANTS: dict[str, Callable] = {
    "default: deep voting, shown = about the question (cos >= 0.3 and 0.1 above the "
    "corpus's centre), activity capped":
        lambda d, r, v: general(d, r, v, floor=0.3, margin=0.1, acap=1, shown=10),
    # Session 12: the margin above the corpus's centre (chosen on se-dev / se-dev2 with e5).
    "about the question: cos >= 0.3 alone (before session 12)":
        lambda d, r, v: general(d, r, v, floor=0.3, acap=1, shown=10),
    "margin 0.05": lambda d, r, v: general(d, r, v, floor=0.3, margin=0.05, acap=1, shown=10),
    "margin 0.15": lambda d, r, v: general(d, r, v, floor=0.3, margin=0.15, acap=1, shown=10),
    "margin 0.2": lambda d, r, v: general(d, r, v, floor=0.3, margin=0.2, acap=1, shown=10),
    # Issue 13: who may be suggested (the rows of docs/benchmarks.md's first table).
    "deep voting alone (0.56 E + 0.16 F + 0.08 A, min-max; before issue 13)":
        lambda d, r, v: general(d, r, v),
    "activity capped at the strongest other signal": lambda d, r, v: general(d, r, v, acap=1),
    "about the question first, all of them (trec-style)": lambda d, r, v: general(
        d, r, v, floor=0.3, acap=1),
    "about the question only (the rest dropped)": lambda d, r, v: general(
        d, r, v, floor=0.3, acap=1, drop=1),
    "shown 5 (the answer's experts)": lambda d, r, v: general(
        d, r, v, floor=0.3, acap=1, shown=5),
    "close document within the top 100": lambda d, r, v: general(
        d, r, v, floor=0.3, near=100, acap=1, shown=10),
    "floor 0.25": lambda d, r, v: general(d, r, v, floor=0.25, acap=1, shown=10),
    "floor 0.20": lambda d, r, v: general(d, r, v, floor=0.2, acap=1, shown=10),
    "floor 0.35": lambda d, r, v: general(d, r, v, floor=0.35, acap=1, shown=10),
    "floor 0.40": lambda d, r, v: general(d, r, v, floor=0.4, acap=1, shown=10),
    # Session 17: content-only changes on top of the rule, judged on se-dev and se-dev2 alone
    # (docs/benchmarks.md, "Looking for what the rule costs elsewhere").
    **{f"rule + {name}": with_rule(**extra) for name, extra in [
           ("dense cosine votes", {"weight": "dense"}),
           ("fused score x dense cosine votes", {"weight": "scoredense"}),
           ("1000 documents vote", {"depth": 1000}),
           ("300 documents vote", {"depth": 300}),
           ("votes score ** 2", {"weight": "pow", "lam": 2.0}),
           ("votes score ** 0.5", {"weight": "pow", "lam": 0.5}),
           ("focus: the 3 nearest documents", {"ftop": 3}),
           ("focus: the 10 nearest documents", {"ftop": 10}),
           ("0.48 E + 0.24 F", {"ev": 0.48, "fo": 0.24}),
           ("0.64 E + 0.08 F", {"ev": 0.64, "fo": 0.08})]},
    # Sessions 1-4: the score (the rows of the second table).
    "popularity (answer count)": popularity,
    "evidence only (CombSUM, 500 docs)": lambda d, r, v: general(d, r, v, ev=1, fo=0, ac=0),
    "evidence only, 50 docs": lambda d, r, v: general(d, r, v, ev=1, fo=0, ac=0, depth=50),
    "CombMNZ": lambda d, r, v: general(d, r, v, mnz=1),
    "expCombSUM (exp 5 s)": lambda d, r, v: general(d, r, v, weight="exp", lam=5.0),
    "reciprocal-rank votes, 1000 docs": lambda d, r, v: general(d, r, v, weight="rr",
                                                                depth=1000),
    "count votes, 1000 docs": lambda d, r, v: general(d, r, v, weight="count", depth=1000),
    "activity weight 0.3": lambda d, r, v: general(d, r, v, ac=0.3),
    "z-score instead of min-max": lambda d, r, v: general(d, r, v, norm="z"),
    "RRF of the three signals": lambda d, r, v: general(d, r, v, norm="rank"),
    "log evidence, min-max": lambda d, r, v: general(d, r, v, norm="logminmax"),
    "focus as raw cosine": lambda d, r, v: general(d, r, v, fnorm="raw"),
    "CombSUM x n^0.5 (beta 1.5)": lambda d, r, v: general(d, r, v, beta=1.5),
    "(E + F) x ln(1+n)^0.5": lambda d, r, v: prior_times(d, r, v, gamma=0.5),
    "log-linear: ln E + ln ln(1+n) + 3 cos": lambda d, r, v: general(
        d, r, v, combine="product", ac=1.0, fo=3.0),
    "30 nearest docs + popularity (Dirichlet)": nearest_smoothed,
    "rr votes 1000, beta 1.5, ac 0.2, z (best dev)": lambda d, r, v: general(
        d, r, v, depth=1000, weight="rr", ac=0.2, beta=1.5, norm="z"),
    # Session 4: whole-profile forms over every document a person wrote.
    "soft sum of all documents, tau 0.05": lambda d, r, v: soft_sum(d, r, v, tau=0.05),
    "soft sum of all documents, tau 0.1": lambda d, r, v: soft_sum(d, r, v, tau=0.1),
    "best document only (max-sim)": best_documents,
    "default + 0.1 best document": with_best_document,
}
ANALYSIS = {"gold question tags + popularity (analysis)": gold_tags}


def parse(spec: str) -> Callable:
    """'depth=50,weight=rr,ac=0.3' -> a variant over ``general``."""
    params: dict = {}
    for item in filter(None, spec.split(",")):
        key, value = item.split("=")
        try:
            params[key] = int(value)
        except ValueError:
            try:
                params[key] = float(value)
            except ValueError:
                params[key] = value
    return lambda d, r, v: general(d, r, v, **params)


def lookup(name: str) -> tuple[str, Callable]:
    """A named variant (a unique prefix will do) or a 'key=value,...' spec for general()."""
    named = {**VARIANTS, **ANALYSIS}
    if "=" in name:
        return name, parse(name)
    found = [k for k in named if k.startswith(name)]
    if len(found) != 1:
        raise SystemExit(f"{name!r} names {len(found)} variants; choose from {list(named)}")
    return found[0], named[found[0]]


def per_query(data: Data, fn: Callable, with_qid: bool = False) -> dict[str, dict[str, float]]:
    """The run of one variant on one set (people over the kept candidates, best first)."""
    run = {}
    for qid, (ranking, vec) in data.runs.items():
        scores = fn(data, ranking, vec, qid=qid) if with_qid else fn(data, ranking, vec)
        if data.keep is not None:
            scores = {p: s for p, s in scores.items() if p in data.keep}
        top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:1000]
        run[qid] = dict(top) or {"__none__": 0.0}
    return run


def average_precisions(data: Data, run: dict) -> np.ndarray:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    ranx_run = Run(run)
    ranx_evaluate(Qrels(data.qrels), ranx_run, "map")
    return np.array([ranx_run.scores["map"][q] for q in sorted(data.qrels)])


def paired(base: np.ndarray, other: np.ndarray, rounds: int = 2000) -> tuple[float, float, float]:
    """Mean difference in AP with a 95% bootstrap interval over queries (seeded)."""
    diff = other - base
    rng = np.random.default_rng(0)
    means = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(rounds)]
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def score(names: list[str], variants: list[str], all_metrics: bool,
          embedder: str = "minilm") -> None:
    """A markdown table: MAP per set (all four metrics with ``all_metrics``) and, on the
    first set, the paired difference from the default with its 95% interval."""
    sets = {n: Data(n, embedder) for n in names}
    metrics = METRICS if all_metrics else ["map"]
    cols = [f"{n} {m}" for n in names for m in metrics]
    print("| variant | " + " | ".join(cols) + f" | {names[0]} MAP vs default |")
    print("|---" * (len(cols) + 2) + "|")
    base, results = None, {}
    for asked in variants:
        variant, fn = lookup(asked)
        cells, first = [], None
        for n, data in sets.items():
            analysis = fn in ANALYSIS.values()
            if analysis and not n.startswith("se-"):
                cells += ["—"] * len(metrics)
                continue
            run = per_query(data, fn, with_qid=analysis)
            m = evaluate(data.qrels, run, metrics)
            cells += [f"{m[k]:.3f}" for k in metrics]
            results.setdefault(variant, {})[n] = m
            if first is None:
                first = average_precisions(data, run)
        if base is None:
            base, delta = first, "—"
        elif first is None:
            delta = "—"
        else:
            mean, lo, hi = paired(base, first)
            delta = f"{mean:+.4f} [{lo:+.4f}, {hi:+.4f}]"
            results[variant][f"{names[0]} map vs default"] = [mean, lo, hi]
        print(f"| {variant} | " + " | ".join(cells) + f" | {delta} |", flush=True)
    stem = "expert-experiments" + ("" if embedder == "minilm" else f"-{embedder}")
    path = ROOT / "bench" / "results" / f"{stem}.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    for variant, figures in results.items():
        kept.setdefault(variant, {}).update(figures)
    print("wrote", write_results(stem, kept))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["collect", "score"])
    parser.add_argument("--sets", nargs="*", default=SETS)
    parser.add_argument("--variants", nargs="*", default=None,
                        help="names from VARIANTS / ANALYSIS or 'key=value,...' for general()")
    parser.add_argument("--all-metrics", action="store_true")
    parser.add_argument("--embedder", default="minilm",
                        help="the model whose rankings are collected or scored (minilm: the "
                        "sets the defaults were chosen on)")
    args = parser.parse_args()
    if args.command == "collect":
        for name in args.sets:
            collect(name, args.embedder)
    else:
        score(args.sets, args.variants or [*VARIANTS, *ANALYSIS], args.all_metrics,
              args.embedder)


if __name__ == "__main__":
    main()
