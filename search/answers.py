"""The answer to "what do we know / who knows about X": articles and experts in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from indexer.embedder import Embedder
from indexer.errors import InvalidQuery
from indexer.keywords import KeywordIndex
from indexer.records import Filters
from indexer.store import Store
from indexer.vectors import VectorIndex
from search.experts import ExpertRanker, ExpertWeights
from search.retrieval import DocScore, Searcher
from search.text import clean_query

MAX_LIMIT = 100
# Below this cosine between the query and the closest passage found, nothing is close in
# meaning: what was found only shares words with the query. On SciFact's 809 train claims
# every query's closest passage was at 0.30 or more (its answer is in the corpus; 5th
# percentile 0.45), so the flag does not fire when an answer is there (docs/benchmarks.md).
WEAK_SIMILARITY = 0.3


class Answerer:
    """Runs one query through retrieval and expert ranking; the model runs once per query."""

    def __init__(self, store: Store, vectors: VectorIndex, embedder: Embedder,
                 weights: ExpertWeights | None = None,
                 keywords: KeywordIndex | None = None) -> None:
        self.searcher = Searcher(store, vectors, embedder, keywords=keywords)
        self.ranker = ExpertRanker(store, embedder, weights)

    def warm_up(self) -> None:
        """Make the first query as fast as the next ones."""
        self.searcher.keywords  # noqa: B018 - built or synced now, not on the first query
        self.ranker.warm_up()

    def answer(self, query: str, limit: int = 10, offset: int = 0,
               filters: Filters | None = None, experts: int = 5,
               articles: bool = True) -> dict[str, Any]:
        """``{"query", "articles", "experts", "weak_match"}``; with ``articles=False`` only
        experts. ``weak_match``: nothing found is close in meaning (see ``weak_match``)."""
        query = clean_query(query)
        _check_limits(limit, offset, experts)
        filters = filters or Filters()
        vector = self.searcher.embed_query(query)
        result: dict[str, Any] = {"query": query, "articles": []}
        ranking = None
        if articles:
            ranking = self.searcher.retrieve(query, filters, query_vector=vector)
            result["total_articles"] = len(ranking)
            result["articles"] = [a.to_dict() for a in
                                  self.searcher.articles(query, ranking, limit, offset)]
            result["weak_match"] = weak_match(ranking)  # of the articles shown
        # A department filter selects people, not their evidence: an expert's
        # documents may be co-written with another department.
        if ranking is None or filters.departments:
            ranking = self.searcher.retrieve(query, replace(filters, departments=()),
                                             query_vector=vector)
        result.setdefault("weak_match", weak_match(ranking))  # of the experts' evidence
        result["experts"] = [e.to_dict() for e in self.ranker.rank(
            query, ranking, vector, limit=experts if articles else limit,
            departments=filters.departments, locations=filters.locations,
            groups=filters.groups)]
        return result


def weak_match(ranking: Sequence[DocScore]) -> bool:
    """True when no document found is close in meaning to the query (or none was found):
    the articles and the people's evidence then rest on shared words alone."""
    return max((d.dense for d in ranking), default=0.0) < WEAK_SIMILARITY


def _check_limits(limit: int, offset: int, experts: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise InvalidQuery(f"offset must be 0 or more, got {offset}")
    if not 0 <= experts <= MAX_LIMIT:
        raise InvalidQuery(f"the number of experts must be between 0 and {MAX_LIMIT}")
