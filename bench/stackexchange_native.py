"""Expert finding on the android Stack Exchange benchmark, read as a Stack Exchange dump.

    python bench/stackexchange_native.py dev    # the answer-weight grid on dev (~25 min)
    python bench/stackexchange_native.py dev2   # the same on a second draw
    python bench/stackexchange_native.py test   # the test figures (~10 min)

The benchmark's train questions and their answers are written as a data dump
(``Posts.xml`` with scores and accepted answers, ``Users.xml``) and ingested through
the native reader (``ingest.exports.stackexchange``): answers are documents weighted
for their answerers by ``answer_weight``, questions are documents that count for
nobody. The experts are scored with ``bench/eval_experts.py``'s protocol (the people
shown, then everyone else; the candidates only), so the figures compare with its
converted-records figure.

``dev`` holds out the last 15% of the train questions by id, and their answers: their
titles and bodies are the queries, their answerers the qrels (accepted 2, other 1, as
in the test qrels); ``dev2`` another 15% (in sha1 order of the ids), as a second
opinion. The reader's constants were chosen there; ``test`` reports once with the
reader's defaults, with answer weights off (every answer 1), without question
documents, and with the weights dev rejected. Each writes
bench/results/stackexchange-native-<split>-<embedder>.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import pickle
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
from common import BENCH_DATA, CACHE, evaluate, index_paths, read_jsonl, read_qrels, write_results
from eval_experts import METRICS, expert_run
from expert_experiments import paired

from indexer.embedders import Embedder, embed_queries, make_embedder, token_counter
from indexer.tokens import WordPieceCounter
from ingest.exports import stackexchange

DATA = BENCH_DATA / "stackexchange-android"
DEV_SHARE = 0.15
BONUSES = (0.0, 0.25, 0.5, 1.0, 2.0)
SCALES = (0.0, 0.1, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class Split:
    """A dump's content and the questions asked of it."""

    questions: list[dict]
    answers: list[dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Reader:
    """The native reader's constants for one run."""

    bonus: float = stackexchange.ACCEPTED_BONUS
    scale: float = stackexchange.SCORE_SCALE
    questions: bool = stackexchange.QUESTION_DOCUMENTS
    downvote: float = stackexchange.DOWNVOTE_SCALE

    def label(self) -> str:
        return (f"bonus {self.bonus:g}, scale {self.scale:g}"
                + ("" if self.downvote == stackexchange.DOWNVOTE_SCALE
                   else f", downvotes {self.downvote:g}")
                + ("" if self.questions else ", no questions"))


class MemoEmbedder:
    """The model, remembering what it embedded (in ``path``, between runs): the runs
    differ in weights, not in text, so each passage and query is embedded once."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner, self.path = inner, path
        self.name, self.dim = inner.name, inner.dim
        self._vectors: dict[tuple[str, str], np.ndarray] = (
            pickle.loads(path.read_bytes()) if path.exists() else {})

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._memo("passage", texts, self.inner.embed)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._memo("query", texts, lambda t: embed_queries(self.inner, t))

    def token_counter(self) -> WordPieceCounter | None:
        return token_counter(self.inner)

    def _memo(self, side: str, texts: Sequence[str], embed: Callable) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if (side, t) not in self._vectors]
        if missing:
            self._vectors |= {(side, t): v for t, v in zip(missing, embed(missing), strict=True)}
            self.path.write_bytes(pickle.dumps(self._vectors))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vectors[side, t] for t in texts])


def load() -> tuple[dict[str, dict], list[dict], list[str]]:
    questions = {q["qid"]: q for q in read_jsonl(DATA / "questions.jsonl")}
    with open(DATA / "candidates.tsv") as handle:
        candidates = [row[0] for row in csv.reader(handle) if row and row[0].strip()]
    return questions, list(read_jsonl(DATA / "answers.jsonl")), candidates


def dev_split(questions: dict[str, dict], answers: list[dict], second: bool = False) -> Split:
    """The last DEV_SHARE of the train questions by id (``second``: in sha1 order of
    their ids, another draw) asked of a dump of the others."""
    def order(q: dict) -> int | str:
        return hashlib.sha1(q["qid"].encode()).hexdigest() if second else int(q["qid"])

    train = sorted((q for q in questions.values() if q["split"] == "train"), key=order)
    cut = len(train) - round(len(train) * DEV_SHARE)
    dev = {q["qid"] for q in train[cut:]}
    qrels: dict[str, dict[str, int]] = {}
    for a in answers:
        if a["qid"] in dev:
            qrels.setdefault(a["qid"], {})[a["answerer"]] = 2 if a["accepted"] else 1
    return Split(train[:cut], [a for a in answers if a["qid"] in {q["qid"] for q in train[:cut]}],
                 {q: _query(questions[q]) for q in dev if q in qrels}, qrels)


def test_split(questions: dict[str, dict], answers: list[dict]) -> Split:
    train = [q for q in questions.values() if q["split"] == "train"]
    kept = {q["qid"] for q in train}
    qrels = read_qrels(DATA / "qrels" / "test.tsv")
    queries = {q: _query(questions[q]) for q in questions
               if questions[q]["split"] == "test" and q in qrels}
    return Split(train, [a for a in answers if a["qid"] in kept], queries, qrels)


def _query(question: dict) -> str:
    return f"{question['title']} {question['body']}"


def write_dump(folder: Path, split: Split, users: Sequence[str]) -> None:
    """``Posts.xml`` and ``Users.xml`` as a Stack Exchange data dump lays them out."""
    accepted = {a["qid"]: a["aid"] for a in split.answers if a["accepted"]}
    posts = ET.Element("posts")
    for q in split.questions:
        extra = {"AcceptedAnswerId": accepted[q["qid"]]} if q["qid"] in accepted else {}
        ET.SubElement(posts, "row", Id=q["qid"], PostTypeId="1", Title=q["title"],
                      Body=f"<p>{escape(q['body'])}</p>", OwnerUserId=q["asker"],
                      Tags="".join(f"<{t}>" for t in q.get("tags", [])), **extra)
    for a in split.answers:
        ET.SubElement(posts, "row", Id=a["aid"], PostTypeId="2", ParentId=a["qid"],
                      Score=str(a["score"]), Body=f"<p>{escape(a['text'])}</p>",
                      OwnerUserId=a["answerer"])
    rows = ET.Element("users")
    for user in users:
        ET.SubElement(rows, "row", Id=user, DisplayName=f"user {user}")
    for root, name in ((posts, "Posts.xml"), (rows, "Users.xml")):
        ET.ElementTree(root).write(folder / name, encoding="utf-8", xml_declaration=True)


@contextmanager
def configured(reader: Reader) -> Iterator[None]:
    """The reader's module constants set to ``reader``'s for the duration."""
    names = ("ACCEPTED_BONUS", "SCORE_SCALE", "QUESTION_DOCUMENTS", "DOWNVOTE_SCALE")
    saved = [getattr(stackexchange, n) for n in names]
    values = (reader.bonus, reader.scale, reader.questions, reader.downvote)
    for name, value in zip(names, values, strict=True):
        setattr(stackexchange, name, value)
    try:
        yield
    finally:
        for name, value in zip(names, saved, strict=True):
            setattr(stackexchange, name, value)


def score(split: Split, reader: Reader, candidates: list[str], embedder: MemoEmbedder
          ) -> tuple[dict[str, float], np.ndarray]:
    """The metrics and the per-query average precision of the experts found in a dump
    of ``split`` read with ``reader``'s constants (a fresh data folder each time)."""
    users = sorted({*candidates, *(q["asker"] for q in split.questions)}, key=int)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        dump = Path(tmp) / "android.stackexchange.com"
        dump.mkdir()
        write_dump(dump, split, users)
        with configured(reader):
            store, indexes = index_paths("se-native", Path(tmp) / "data", [dump], embedder)
        keep = {f"se-{c}" for c in candidates}  # scored over the candidates, as eval_experts
        run = expert_run(store, indexes, embedder, split.queries, keep)
    # The accounts are se-<user id>; the qrels name the user ids.
    run = {q: {p.removeprefix("se-"): s for p, s in people.items()} for q, people in run.items()}
    qrels = {q: split.qrels[q] for q in split.queries}
    return evaluate(qrels, run, METRICS), average_precisions(qrels, run)


def average_precisions(qrels: dict, run: dict) -> np.ndarray:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    ranked = Run({q: run.get(q) or {"__none__": 0.0} for q in qrels})
    ranx_evaluate(Qrels(qrels), ranked, "map")
    return np.array([ranked.scores["map"][q] for q in sorted(qrels)])


def report(rows: list[tuple[str, dict[str, float], str]]) -> None:
    print("| configuration | " + " | ".join(METRICS) + " | Δ MAP vs weights off [95% CI] |")
    print("|---|" + "---|" * (len(METRICS) + 1))
    for label, scores, delta in rows:
        print(f"| {label} | " + " | ".join(f"{scores[m]:.4f}" for m in METRICS)
              + f" | {delta} |")


def compare(runs: dict[Reader, tuple[dict, np.ndarray]], base: Reader
            ) -> list[tuple[str, dict[str, float], str]]:
    rows = []
    for reader, (scores, aps) in runs.items():
        mean, lo, hi = paired(runs[base][1], aps)
        rows.append((reader.label(), scores,
                     "—" if reader == base else f"{mean:+.4f} [{lo:+.4f}, {hi:+.4f}]"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("split", choices=["dev", "dev2", "test"])
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    embedder = MemoEmbedder(make_embedder(args.embedder, cache_dir=CACHE / "models"),
                            CACHE / f"stackexchange-native-{args.embedder}.memo.pkl")
    questions, answers, candidates = load()
    if args.split in ("dev", "dev2"):
        split = dev_split(questions, answers, second=args.split == "dev2")
        readers = [Reader(b, s) for b in BONUSES for s in SCALES]
        readers += [Reader(0.5, 0.25, questions=False), Reader(0.0, 0.0, questions=False)]
        base = Reader(0.0, 0.0)
    else:
        split = test_split(questions, answers)
        # The defaults; every answer 1 (the ablation); no questions; the weights tried
        # first (bonus 0.5, scale 0.25), which dev rejected.
        base = Reader(0.0, 0.0, downvote=0.0)
        readers = [Reader(), base, Reader(questions=False), Reader(0.5, 0.25)]
    print(f"{args.split}: {len(split.queries)} questions asked of {len(split.questions)} "
          f"questions and {len(split.answers)} answers")
    runs = {}
    for reader in readers:
        runs[reader] = score(split, reader, candidates, embedder)
        print(f"{reader.label():<34} " + "  ".join(
            f"{m} {v:.4f}" for m, v in runs[reader][0].items()), flush=True)
    rows = compare(runs, base)
    report(rows)
    path = write_results(f"stackexchange-native-{args.split}-{args.embedder}",
                         {label: scores for label, scores, _ in rows})
    print("wrote", path)


if __name__ == "__main__":
    main()
