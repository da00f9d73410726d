"""The answer to "what do we know / who knows about X": articles and experts in one call."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from indexer.embedders import Embedder, cosine_floor, shifts_query_language
from indexer.errors import InvalidQuery
from indexer.feedback import FeedbackLog
from indexer.indexes import DerivedIndexes
from indexer.keywords import KeywordIndex
from indexer.language import detector
from indexer.records import Filters
from indexer.store import Store
from search.closeness import CENTRE_MEMBERS, DOCUMENT_MARGIN, lines
from search.experts import ExpertRanker, ExpertWeights
from search.feedback import Effect, Feedback, FeedbackSettings
from search.recency import Recency
from search.retrieval import DocScore, Searcher
from search.spelling import Speller
from search.subject import SUBJECT_DOCUMENTS, subject_unmet
from search.text import clean_query, question_language, terms

MAX_LIMIT = 100
RECENT_VECTORS = 256
READABLE_KEPT = 16  # callers' accesses whose readable passages are kept (``_readable``)
# Below this cosine between the query and the closest passage found, nothing is close in
# meaning: what was found only shares words with the query. The highest at which no
# corpus of four (SciFact, android, DBLP, the demo) had over 5% of its own tuning
# questions flagged (bench/weak_match.py, docs/benchmarks.md). Cosines are on the common
# scale (indexer.embedders.rescale): e5's line, 0.84 in its own cosines, is 0.40 there,
# as MiniLM's. (Run again in session 10, the rule chose 0.43 for e5; it stays at 0.40,
# because 0.43 flags 32% of MLQA-R's own questions instead of 23.5%, and e5 is the model
# for folders of several languages: docs/benchmarks.md.) Other embedders (the tests'
# hashing one) take WEAK_SIMILARITY.
WEAK_SIMILARITY = 0.3
WEAK_SIMILARITY_BY_EMBEDDER = {
    "all-MiniLM-L6-v2": 0.40,
    "all-MiniLM-L6-v2/onnx-fp32": 0.40,
    "all-MiniLM-L6-v2/onnx-int8": 0.40,
    "multilingual-e5-small/onnx-int8": 0.40,
    "multilingual-e5-small/onnx-fp32": 0.40,  # the same weights (cosine 0.995 to int8's)
}
# A question met by one passage just over the line and little else is only touched on: the
# 3 closest documents must then average at least the line less a slack, unless the closest
# is 0.1 over the line (or fewer than 20 documents were found: see ``weak``). MiniLM's
# slack was chosen on the same tuning halves with the line at 0.40 (the smallest that
# keeps every corpus's own questions at most 5% flagged; bench/weak_match.py): out of
# domain, 94.9% flagged there instead of 92.1%. e5 has none (the closest alone decides):
# the same slack would flag 31.1% of MLQA-R's questions over a pool that holds their
# answer, instead of 23.5% (bench/language_centres.py), the cost that kept e5's line at
# 0.40; nor has an uncalibrated embedder (docs/benchmarks.md).
SUPPORT = 3
SUPPORT_SLACK_BY_EMBEDDER = {
    "all-MiniLM-L6-v2": 0.015,
    "all-MiniLM-L6-v2/onnx-fp32": 0.015,
    "all-MiniLM-L6-v2/onnx-int8": 0.015,
}
CLEAR_MARGIN = 0.1


class Answerer:
    """Runs one query through retrieval and expert ranking; the model runs once per query."""

    def __init__(self, store: Store, indexes: DerivedIndexes, embedder: Embedder,
                 weights: ExpertWeights | None = None, recency: Recency | None = None,
                 feedback: FeedbackSettings | None = None) -> None:
        self.searcher = Searcher(store, indexes, embedder)
        # The model's weak-match line; a recommended document must pass it too. Expert
        # evidence keeps its own floor (ExpertWeights.close_similarity, 0.3): at 0.40
        # expert MAP fell to 0.0875 on android and 0.442 on DBLP papers
        # (docs/benchmarks.md, "Expert finding").
        self.weak_similarity = weak_similarity(embedder.name)
        self.support_slack = support_slack(embedder.name)
        self.asks_subject = asks_subject(embedder.name)
        # Readers' verdicts move documents and people (bounded, see search/feedback.py);
        # a verdict counts for questions close in meaning: above the model's weak line.
        feedback = feedback or FeedbackSettings()
        if feedback.similarity is None:
            feedback = replace(feedback, similarity=self.weak_similarity)
        self.feedback = Feedback(FeedbackLog(store), feedback, cosine_floor(embedder))
        self.ranker = ExpertRanker(store, embedder, weights, recency, self.feedback)
        self._recent: dict[str, Any] = {}  # query -> its vector, the newest last
        self._recent_lock = threading.Lock()
        self._readable_ids: dict[tuple, Any] = {}  # see _readable
        # The BM25 index as the last search left it: a server brings it up to date
        # before searches, never during one.
        self.speller = Speller(store, keywords=lambda: self.searcher.keywords)

    def close_line(self, text: str, vector: Any = None) -> float:
        """The cosine (common scale) a document needs to be close in meaning to ``text``
        (a question, a reading list's goal; ``vector``: its vector, when embedded): the
        weak-match line, and ``DOCUMENT_MARGIN`` above the text's cosine to the corpus as
        a whole (search/closeness.py)."""
        vector = self.embed(text) if vector is None else vector
        return float(lines(self.weak_similarity, DOCUMENT_MARGIN, self.ranker.corpus_centre(),
                           vector, cosine_floor(self.searcher.embedder)))

    def warm_up(self) -> None:
        """Make the first query as fast as the next ones: the expert ranker's vectors, the
        language detector a question's stop words may need (about 0.5 s to build), the
        pattern that reads words outside ASCII (0.13 s), and with a multilingual model
        where the corpus's languages sit (up to 4 s, indexer.language_centres)."""
        self.ranker.warm_up()
        detector()
        terms("café")
        if shifts_query_language(self.searcher.embedder):  # where the corpus's languages sit
            self.searcher.language_centres()

    def answer(self, query: str, limit: int = 10, offset: int = 0,
               filters: Filters | None = None, experts: int = 5,
               articles: bool = True, exact: bool = False) -> dict[str, Any]:
        """``{"query", "corrected_query", "articles", "experts", "weak_match"}``; with
        ``articles=False`` only experts. ``corrected_query``: the query searched, with the
        words the corpus does not know corrected (None when none was; ``exact`` searches
        the query as typed). ``weak_match``: nothing found is close in meaning."""
        typed = clean_query(query)
        _check_limits(limit, offset, experts)
        filters = filters or Filters()
        corrected = None if exact else self.speller.correct(typed)
        query = corrected or typed
        vector = self.embed(query)
        line = self.close_line(query, vector)  # nothing above it: a weak match
        result: dict[str, Any] = {"query": typed, "corrected_query": corrected,
                                  "articles": []}
        ranking = None
        if articles:
            ranking, said = self._retrieve(query, filters, vector)
            result["total_articles"] = len(ranking)
            result["articles"] = [_with_feedback(a.to_dict(), said) for a in
                                  self.searcher.articles(query, ranking, limit, offset)]
            result["weak_match"] = self._weak(query, ranking, line, filters.groups)  # shown
        # A department filter selects people, not their evidence: an expert's
        # documents may be co-written with another department.
        if ranking is None or filters.departments:
            ranking, _ = self._retrieve(query, replace(filters, departments=()), vector)
        result["best_similarity"] = round(max((d.similarity for d in ranking), default=0.0), 6)
        # the people's evidence
        if "weak_match" not in result:
            result["weak_match"] = self._weak(query, ranking, line, filters.groups)
        result["experts"] = [e.to_dict() for e in self.ranker.rank(
            query, ranking, vector, limit=experts if articles else limit,
            departments=filters.departments, locations=filters.locations,
            groups=filters.groups)]
        return result

    def _weak(self, query: str, ranking: Sequence[DocScore], line: float,
              groups: tuple[str, ...] | None) -> bool:
        return weak_match(ranking, line, self.support_slack, terms(query),
                          self.searcher.keywords if self.asks_subject else None,
                          question_language(query),
                          None if groups is None else lambda: self._readable(groups))

    def _readable(self, groups: tuple[str, ...]) -> Any:
        """The chunk ids a caller of ``groups`` may read, kept per access until the store
        changes (the last ``READABLE_KEPT``)."""
        key = (self.searcher.store.generation, tuple(sorted(g.casefold() for g in groups)))
        with self._recent_lock:
            found = self._readable_ids.get(key)
        if found is None:
            found = self.searcher.store.chunk_ids_matching(Filters(groups=groups))
            with self._recent_lock:
                self._readable_ids[key] = found
                while len(self._readable_ids) > READABLE_KEPT:
                    self._readable_ids.pop(next(iter(self._readable_ids)))
        return found

    def embed(self, query: str) -> Any:
        """The query's vector. The last ``RECENT_VECTORS`` are kept, so logging a search
        or a verdict on its results does not run the model again."""
        with self._recent_lock:
            found = self._recent.get(query)
        if found is not None:
            return found
        vector = self.searcher.embed_query(query)
        with self._recent_lock:
            self._recent[query] = vector
            while len(self._recent) > RECENT_VECTORS:
                self._recent.pop(next(iter(self._recent)))
        return vector

    def _retrieve(self, query: str, filters: Filters, vector: Any
                  ) -> tuple[list[DocScore], dict[str, Effect]]:
        """The ranking within ``filters`` (the caller's access among them), moved by the
        feedback on the documents in it: a verdict on a document outside it moves nothing."""
        ranking = self.searcher.retrieve(query, filters, query_vector=vector)
        return self.feedback.adjust(ranking, vector, query)


def _with_feedback(article: dict[str, Any], said: dict[str, Effect]) -> dict[str, Any]:
    """The article with what readers said of it ("3 colleagues said this helped")."""
    effect = said.get(article["id"])
    article["why"] = effect.why("document") if effect else ""
    return article


def people_know(result: dict[str, Any]) -> bool:
    """Whether an answer's people are "people who know" the question: what was found is
    clearly about it (not ``weak_match``), or one of them declares a skill that covers it
    (``covers``: close to it in meaning, or named by all its words). Otherwise they are the
    people nearest to it: they wrote what came nearest, or declare a skill that shares a
    word with it. The page and the CLI head them so."""
    return not result.get("weak_match") or any(
        skill.get("covers") for expert in result.get("experts", ())
        for skill in expert.get("skills", ()))


def weak_similarity(embedder_name: str) -> float:
    """The cosine under which ``weak_match`` flags a ranking, for the embedder's vectors."""
    return WEAK_SIMILARITY_BY_EMBEDDER.get(embedder_name, WEAK_SIMILARITY)


def asks_subject(embedder_name: str) -> bool:
    """Whether ``weak_match`` asks whether a short question's subject was met
    (search/subject.py): for a model whose line was calibrated, not for the tests'."""
    return embedder_name in WEAK_SIMILARITY_BY_EMBEDDER


def support_slack(embedder_name: str) -> float | None:
    """How far under the line the closest documents may average, for the embedder's
    vectors; None: the closest alone decides."""
    return SUPPORT_SLACK_BY_EMBEDDER.get(embedder_name)


def weak_match(ranking: Sequence[DocScore], threshold: float = WEAK_SIMILARITY,
               slack: float | None = None, question_terms: Sequence[str] = (),
               keywords: KeywordIndex | None = None, language: str | None = None,
               readable: Any = None) -> bool:
    """True when nothing found is clearly about the query (or nothing was found): the
    articles and the people's evidence then only share words with it or touch on it.
    ``threshold``: the query's line (``Answerer.close_line``); ``slack``: see ``weak``;
    ``question_terms``, ``keywords``, ``language`` and ``readable`` (the query's terms,
    the BM25 index, None: not asked; the query's language where told; the chunk ids the
    caller may read, None: all): whether the passages that met a short question's
    closest documents hold its subject (search/subject.py)."""
    def unmet() -> bool:  # asked only where the cosines leave it open (``weak``)
        if keywords is None:
            return False
        best = heapq.nlargest(SUBJECT_DOCUMENTS, ranking, key=lambda d: d.similarity)
        return subject_unmet(question_terms, [d.dense_chunk for d in best
                                              if d.dense_chunk is not None], keywords,
                             language, readable() if callable(readable) else readable)
    return weak((d.similarity for d in ranking), threshold, slack, unmet)


def weak(similarities: Iterable[float], line: float, slack: float | None,
         unmet: bool | Callable[[], bool] = False) -> bool:
    """The rule of ``weak_match`` on the cosines of the documents found (common scale):
    weak when the closest is under ``line``. Also, unless the closest is clearly close
    (``CLEAR_MARGIN`` over the line), when the question's subject is ``unmet`` (a short
    question whose rarest word none of the closest documents' passages holds:
    search/subject.py; a callable is asked only then), or, with a ``slack``
    (``support_slack``), when the ``SUPPORT`` closest average under the line less the
    slack: a corpus that covers a question meets it with several documents; one that
    only touches it, with one passage near the line and little else. Among fewer than
    ``CENTRE_MEMBERS`` documents found (a small folder, a narrow filter) the closest
    alone decides: there may be no second document on any subject."""
    found = list(similarities)
    closest = heapq.nlargest(SUPPORT, found)
    if not closest or closest[0] < line:
        return True
    if len(found) < CENTRE_MEMBERS or closest[0] >= line + CLEAR_MARGIN:
        return False
    if unmet() if callable(unmet) else unmet:
        return True
    return slack is not None and sum(closest) / len(closest) < line - slack


def _check_limits(limit: int, offset: int, experts: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise InvalidQuery(f"offset must be 0 or more, got {offset}")
    if not 0 <= experts <= MAX_LIMIT:
        raise InvalidQuery(f"the number of experts must be between 0 and {MAX_LIMIT}")
