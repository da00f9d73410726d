"""The learning loop on the expert benchmarks: feedback from use, and evidence ageing.

    python bench/expert_experiments.py collect   # once: the cached rankings it reads
    python bench/eval_learning.py tune           # settings chosen on se-dev (train data)
    python bench/eval_learning.py report         # test figures with the chosen settings

Feedback (android): a fraction of the train questions is replayed as searches whose
asker says "helped me" of each person who answered it and "this helped" of the accepted
answer; then the test questions are scored (MAP over every candidate, the list the
product shows first, as bench/eval_experts.py). Noise: ``random`` (3 voters, 200
verdicts each for random people on random train questions) and ``adversarial`` (3 voters
say "helped me" of one person on every train question and "not an expert" of its real
answerers). DBLP: half of the paper queries (by hash) give feedback from their labelled
experts, the other half is scored. Settings are chosen on ``se-dev`` (150 held-out train
questions over the other train answers) with feedback from the other train questions.

Recency (android): the data carries no dates; Stack Exchange numbers posts in the order
they are written, so each answer gets a date interpolated from its id between the
site's first post (2010-07-13) and the dump (2019-09-01), the reference day. DBLP
papers carry no date or year at all, so ageing cannot be measured there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import pickle
import random
import sys
from dataclasses import dataclass

import numpy as np
from common import BENCH_DATA, CACHE, evaluate, read_jsonl, write_results
from eval_experts import DEPTH, METRICS, SHOWN

from indexer.embedders import embed_queries, make_embedder
from indexer.feedback import FeedbackLog
from indexer.store import Store
from search.experts import ExpertRanker
from search.feedback import Feedback, FeedbackSettings
from search.recency import Recency, decay
from search.retrieval import DocScore

FIRST_POST, DUMP = dt.date(2010, 7, 13), dt.date(2019, 9, 1)
FRACTION = 0.5
BOUNDS = (0.05, 0.1, 0.2)
SIMILARITIES = (0.4, 0.5, 0.6, 0.7)
HALF_LIVES = (0, 365, 730, 1461, 2922)
SETS = {"se-dev": "stackexchange-dev-minilm", "se-test": "stackexchange-minilm",
        "dblp-papers": "dblp-minilm"}


@dataclass
class Cached:
    store: Store
    runs: dict  # qid -> (ranking tuples, vector)
    qrels: dict
    keep: set[str] | None


def load(name: str) -> Cached:
    raw = pickle.loads((CACHE / "experiments" / f"{name}.pkl").read_bytes())
    return Cached(Store.open(CACHE / SETS[name]), raw["runs"], raw["qrels"], raw["keep"])


def score(data: Cached, ranker: ExpertRanker, qids: list[str]) -> dict[str, float]:
    run = {}
    for qid in qids:
        tuples, vec = data.runs[qid]
        ranking = [DocScore(d, s, dn, kw) for d, s, dn, kw in tuples]
        query = ""  # feedback counts by meaning only: no replayed text equals a test text
        shown = [e.id for e in ranker.rank(query, ranking, vec, limit=SHOWN)]
        everyone = ranker.rank(query, ranking, vec, limit=DEPTH, rank_all=True)
        rest = [e.id for e in everyone if e.id not in shown]
        order = [p for p in shown + rest if data.keep is None or p in data.keep]
        run[qid] = {p: float(len(order) - i) for i, p in enumerate(order)}
    return evaluate({q: data.qrels[q] for q in qids}, run, METRICS)


# --- feedback -------------------------------------------------------------------------

def android() -> tuple[dict, list[dict]]:
    data = BENCH_DATA / "stackexchange-android"
    return ({q["qid"]: q for q in read_jsonl(data / "questions.jsonl")},
            list(read_jsonl(data / "answers.jsonl")))


def half(ids, salt: str = "feedback") -> set[str]:
    ordered = sorted(ids, key=lambda q: hashlib.sha1((salt + q).encode()).hexdigest())
    return set(ordered[: int(len(ordered) * FRACTION)])


def replayed(exclude: set[str], embedder) -> list[dict]:
    """The train questions replayed with feedback: text, vector, asker, answerers, the
    accepted answer's document."""
    questions, answers = android()
    by_q: dict[str, list[dict]] = {}
    for a in answers:
        by_q.setdefault(a["qid"], []).append(a)
    train = [q for q in questions.values() if q["split"] == "train" and q["qid"] in by_q
             and q["qid"] not in exclude]
    chosen = half([q["qid"] for q in train])
    train = [q for q in train if q["qid"] in chosen]
    vectors = embed_queries(embedder, [f"{q['title']} {q['body']}" for q in train])
    return [{"qid": q["qid"], "text": f"{q['title']} {q['body']}", "vector": v,
             "asker": q["asker"], "answerers": sorted({a["answerer"] for a in by_q[q["qid"]]}),
             "accepted": [f"a{a['aid']}" for a in by_q[q["qid"]] if a["accepted"]]}
            for q, v in zip(train, vectors, strict=True)]


def log_of(replay: list[dict], noise: str = "", candidates: list[str] = (),
           truthful: bool = True) -> FeedbackLog:
    log = FeedbackLog(Store.memory())
    at = DUMP.isoformat()
    if truthful:
        for r in replay:
            for person in r["answerers"]:
                log.add(r["text"], r["vector"], "helped_me", person, f"u{r['asker']}", at)
            for doc in r["accepted"]:
                log.add(r["text"], r["vector"], "helped", doc, f"u{r['asker']}", at)
    rng = random.Random(7)
    if noise == "random":
        for voter in ("x1", "x2", "x3"):
            for _ in range(200):
                r = rng.choice(replay)
                log.add(r["text"], r["vector"], "helped_me", rng.choice(candidates), voter, at)
    elif noise == "adversarial":
        target = rng.choice(candidates)
        for voter in ("x1", "x2", "x3"):
            for r in replay:
                log.add(r["text"], r["vector"], "helped_me", target, voter, at)
                for person in r["answerers"]:
                    if person != target:
                        log.add(r["text"], r["vector"], "not_expert", person, voter, at)
    return log


def ranker(data: Cached, embedder, log: FeedbackLog | None = None, bound: float = 0.1,
           similarity: float = 0.4, recency: Recency | None = None) -> ExpertRanker:
    feedback = None if log is None else Feedback(log, FeedbackSettings(
        bound=bound, similarity=similarity, half_life_days=0, reference=DUMP))
    return ExpertRanker(data.store, embedder, recency=recency, feedback=feedback)


# --- recency --------------------------------------------------------------------------

class PostRecency(Recency):
    """Ages from the answer's id (``a<aid>``), interpolated between the site's first post
    and the dump: the data has no dates, its ids are in the order posts were written."""

    def weights(self, dates: dict[str, str]) -> dict[str, float]:
        _, answers = android()
        top = max(int(a["aid"]) for a in answers)
        span = (DUMP - FIRST_POST).days
        return {f"a{a['aid']}": decay(span * (1 - int(a["aid"]) / top), self.half_life_days)
                for a in answers}


def line(label: str, scores: dict[str, float], base: dict[str, float] | None = None) -> str:
    text = f"{label:<42} MAP {scores['map']:.4f}  MRR {scores['mrr']:.4f}  " \
           f"P@1 {scores['precision@1']:.4f}"
    if base is not None:
        text += f"  (MAP {scores['map'] - base['map']:+.4f})"
    return text


def tune(embedder, bounds=BOUNDS, similarities=SIMILARITIES, half_lives=HALF_LIVES[1:],
         name: str = "learning-tune") -> dict:
    data = load("se-dev")
    qids = sorted(data.runs)
    replay = replayed(set(qids), embedder)
    base = score(data, ranker(data, embedder), qids)
    print(line("se-dev, no feedback, no ageing", base))
    out: dict = {"base": base, "feedback": {}, "recency": {}}
    log = log_of(replay)
    for bound in bounds:
        for sim in similarities:
            s = score(data, ranker(data, embedder, log, bound, sim), qids)
            out["feedback"][f"{bound}/{sim}"] = s
            print(line(f"se-dev feedback bound {bound} similarity {sim}", s, base))
            sys.stdout.flush()
    for half_life in half_lives:
        s = score(data, ranker(data, embedder, recency=PostRecency(half_life, DUMP)), qids)
        out["recency"][str(half_life)] = s
        print(line(f"se-dev ageing, half-life {half_life} days", s, base))
    write_results(name, out)
    return out


def report(embedder, bound: float, similarity: float, half_life: float,
           name: str = "learning") -> dict:
    out: dict = {"settings": {"bound": bound, "similarity": similarity,
                              "half_life_days": half_life}}
    data = load("se-test")
    qids = sorted(data.runs)
    replay = replayed(set(), embedder)
    candidates = sorted({p for ps in data.store.authors_by_document().values() for p in ps})
    base = score(data, ranker(data, embedder), qids)
    print(line("android test, no feedback", base))
    out["android"] = {"base": base}
    for label, log in (("feedback", log_of(replay)),
                       ("feedback + random noise", log_of(replay, "random", candidates)),
                       ("feedback + adversarial", log_of(replay, "adversarial", candidates)),
                       ("random noise only", log_of(replay, "random", candidates, False)),
                       ("adversarial only", log_of(replay, "adversarial", candidates, False))):
        s = score(data, ranker(data, embedder, log, bound, similarity), qids)
        out["android"][label] = s
        print(line(f"android test, {label}", s, base))
        sys.stdout.flush()
    for hl in (0, half_life) if half_life else (0,):
        if hl:
            s = score(data, ranker(data, embedder, recency=PostRecency(hl, DUMP)), qids)
            out["android"][f"ageing {hl}"] = s
            print(line(f"android test, ageing half-life {hl} days", s, base))
    out["dblp"] = dblp_feedback(embedder, bound, similarity)
    write_results(name, out)
    return out


def dblp_feedback(embedder, bound: float, similarity: float) -> dict:
    data = load("dblp-papers")
    qids = sorted(data.runs)
    givers = half(qids)
    scored = [q for q in qids if q not in givers]
    log = FeedbackLog(Store.memory())
    texts = {q["_id"]: q["text"] for q in read_jsonl(BENCH_DATA / "dblp" / "queries_docs.jsonl")}
    for q in sorted(givers):
        for person in data.qrels[q]:
            log.add(texts[q], data.runs[q][1], "helped_me", person, f"u{q}", DUMP.isoformat())
    base = score(data, ranker(data, embedder), scored)
    fed = score(data, ranker(data, embedder, log, bound, similarity), scored)
    print(line("dblp papers (other half), no feedback", base))
    print(line("dblp papers (other half), feedback", fed, base))
    return {"base": base, "feedback": fed, "queries": len(scored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["tune", "report"])
    parser.add_argument("--bound", type=float, default=0.1)
    parser.add_argument("--similarity", type=float, default=0.4)
    parser.add_argument("--half-life", type=float, default=0.0)
    parser.add_argument("--bounds", type=float, nargs="*", default=list(BOUNDS),
                        help="tune: the feedback bounds tried")
    parser.add_argument("--similarities", type=float, nargs="*", default=list(SIMILARITIES),
                        help="tune: the query similarities tried")
    parser.add_argument("--half-lives", type=float, nargs="*", default=list(HALF_LIVES[1:]),
                        help="tune: the evidence half-lives tried (days)")
    parser.add_argument("--name", help="results file name (default learning-tune, learning)")
    args = parser.parse_args()
    embedder = make_embedder("minilm", cache_dir=CACHE / "models")
    if args.step == "tune":
        print(json.dumps(tune(embedder, args.bounds, args.similarities, args.half_lives,
                              args.name or "learning-tune")["base"]))
    else:
        report(embedder, args.bound, args.similarity, args.half_life, args.name or "learning")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
