"""Hybrid document retrieval: dense (FAISS over chunk vectors) plus BM25, fused.

Both retrievers return chunks; each list is collapsed to documents by the best
chunk, then fused with a convex combination of min-max normalised scores (the
weight was chosen on SciFact's train queries, see docs/benchmarks.md). BM25 runs
on the in-memory keyword index, which scores as the store's FTS5 table does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.embedders import (
    Embedder,
    cosine_floor,
    embed_queries,
    reads_case,
    rescale,
    shifts_query_language,
)
from indexer.indexes import DerivedIndexes
from indexer.keywords import KeywordIndex
from indexer.language_centres import LanguageCentres
from indexer.records import ArticleHit, Filters
from indexer.store import Store
from indexer.vectors import VectorIndex
from search.casing import truecased
from search.fusion import collapse_max, convex, ranked, rrf
from search.markup import may_hold_markdown
from search.snippets import make_snippet
from search.text import MAX_TERMS, clean_query, terms

# A chunk search: (k, allowed chunk ids or None) -> [(chunk id, score)], best first.
ChunkSearch = Callable[[int, "np.ndarray | None"], list[tuple[int, float]]]

DENSE_WEIGHT = 0.5
# In a corpus of several languages, with queries moved between them (language_centres),
# BM25 finds the question's own language first. Chosen on MLQA-R (0.5 to 1.0); from 0.5
# to 0.8, hybrid nDCG@10 over the six non-English languages: -en 0.671 -> 0.666, -any
# 0.446 -> 0.572 (docs/benchmarks.md).
ACROSS_LANGUAGES_DENSE_WEIGHT = 0.8
CANDIDATE_CHUNKS = 500  # chunks each retriever returns before collapsing to documents
OVERSAMPLE = 4  # a filtered search first looks this many times deeper, unfiltered
# A document found only by the dense retriever must be at least this similar to the
# query: below it MiniLM pairs are unrelated, and a result list padded with them
# would never say "nothing found". It is a cosine on the model's own scale, not the
# common one (indexer.embedders.rescale): e5 puts a question and its answer in another
# language at the bottom of its scale (on MLQA-R, a third of them under 0.2 on the common
# scale, where this floor cut the cross-language nDCG@10 from 0.627 to 0.546), so for e5
# it drops nothing.
MIN_DENSE_SIMILARITY = 0.2


@dataclass
class DocScore:
    """One retrieved document with the evidence of both retrievers."""

    doc_id: str
    score: float
    dense: float = 0.0  # the best passage's cosine, on the common scale (MiniLM's)
    keyword: float = 0.0
    dense_chunk: int | None = None
    keyword_chunk: int | None = None
    # Where the question was moved across languages (``dense`` is then the moved
    # question's cosine): the closer of its cosines as asked and as moved.
    closest: float | None = None

    @property
    def similarity(self) -> float:
        """How close in meaning the document's best passage is to the question: the cosine
        every line reads (weak match, evidence about the question), on the common scale."""
        return self.dense if self.closest is None else self.closest

    @property
    def best_chunk(self) -> int | None:
        return self.keyword_chunk if self.keyword_chunk is not None else self.dense_chunk


class Searcher:
    """Finds documents for a query. ``mode`` is ``hybrid``, ``dense``, ``keyword`` or ``rrf``."""

    def __init__(self, store: Store, indexes: DerivedIndexes, embedder: Embedder,
                 dense_weight: float | None = None, depth: int = CANDIDATE_CHUNKS,
                 min_similarity: float = MIN_DENSE_SIMILARITY) -> None:
        self.store = store
        self.indexes = indexes
        self.embedder = embedder
        self.dense_weight = dense_weight  # None: the corpus's (fusion_weight)
        self.depth = depth
        self.min_similarity = min_similarity
        self.cosine_floor = cosine_floor(embedder)  # dense scores are on the common scale
        # A server turns this off: its queries run side by side over the indexes, and
        # one thread brings them up to date alone first (``ServerState.current``).
        self.sync_on_query = True
        self._centres: LanguageCentres | None = None

    @property
    def vectors(self) -> VectorIndex:
        return self.indexes.vectors

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 index as the last catch-up left it (no store read per use)."""
        return self.indexes.keywords

    def embed_query(self, query: str) -> np.ndarray:
        return self.embed_queries([query])[0]

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """The model's vectors of ``queries``, cleaned as ``retrieve`` cleans them (and, for
        a model that reads case, in the corpus's case: search/casing.py)."""
        cleaned = [clean_query(q) for q in queries]
        if reads_case(self.embedder):
            cleaned = [truecased(q, self.keywords, self.store) for q in cleaned]
        return embed_queries(self.embedder, cleaned)

    def moved(self, vector: np.ndarray) -> np.ndarray:
        """A question's vector as the dense retriever compares it with passages: out of
        its language's corner where the model asks for it (indexer.language_centres),
        else ``vector`` itself."""
        if not shifts_query_language(self.embedder):
            return vector
        return self.language_centres().shift(vector)

    def fusion_weight(self) -> float:
        """The dense side's weight in the hybrid fusion: as set, else ``DENSE_WEIGHT``, or
        ``ACROSS_LANGUAGES_DENSE_WEIGHT`` when queries move between the corpus's languages
        and two of them hold enough passages to have centres (a keyword matches within one
        language only; a handful of German notes in an English corpus, as in the demo,
        keep ``DENSE_WEIGHT``: an English question's keywords still find its answers)."""
        if self.dense_weight is not None:
            return self.dense_weight
        centres = self.language_centres() if shifts_query_language(self.embedder) else None
        if centres is not None and centres.from_corpus and len(centres.languages) > 1:
            return ACROSS_LANGUAGES_DENSE_WEIGHT
        return DENSE_WEIGHT

    def language_centres(self) -> LanguageCentres:
        """Where the corpus's languages sit, read again once the corpus has moved on."""
        centres = self._centres
        if centres is None or centres.stale(len(self.vectors)):
            centres = self._centres = LanguageCentres.of(self.store, self.embedder)
        return centres

    def retrieve(self, query: str, filters: Filters | None = None, mode: str = "hybrid",
                 query_vector: np.ndarray | None = None, depth: int | None = None
                 ) -> list[DocScore]:
        """Documents ranked for ``query``, best first, with per-retriever scores."""
        query = clean_query(query)
        filters = filters or Filters()
        depth = depth or self.depth
        if self.sync_on_query:
            self.indexes.catch_up()
        dense: dict[str, tuple[float, int]] = {}
        keyword: dict[str, tuple[float, int]] = {}
        closest: dict[str, float] = {}
        if mode != "keyword":
            vector = query_vector if query_vector is not None else self.embed_query(query)
            moved = self.moved(vector)
            dense = collapse_max(self._dense(moved, depth, filters))
            if moved is not vector:  # the question as asked may be the closer one
                asked = collapse_max(self._dense(vector, depth, filters))
                if not self.language_centres().from_corpus:  # see indexer.language_centres
                    dense = {k: max(dense.get(k, hit), asked.get(k, hit))
                             for k, hit in (asked | dense).items()}
                closest = {k: float(rescale(max(cos, asked.get(k, (cos,))[0]),
                                            self.cosine_floor)) for k, (cos, _) in dense.items()}
        if mode != "dense":
            keyword = collapse_max(self._keyword(query, depth, filters))
        dense = {k: (float(rescale(cos, self.cosine_floor)), chunk) for k, (cos, chunk)
                 in dense.items() if cos >= self.min_similarity or k in keyword}
        dense_scores = {k: v[0] for k, v in dense.items()}
        keyword_scores = {k: v[0] for k, v in keyword.items()}
        if mode == "dense":
            fused = dense_scores
        elif mode == "keyword":
            fused = keyword_scores
        elif mode == "rrf":
            fused = rrf([dense_scores, keyword_scores])
        else:
            fused = convex(dense_scores, keyword_scores, self.fusion_weight())
        return [DocScore(doc_id, score, dense_scores.get(doc_id, 0.0),
                         keyword_scores.get(doc_id, 0.0),
                         dense.get(doc_id, (0, None))[1], keyword.get(doc_id, (0, None))[1],
                         closest.get(doc_id, 0.0) if closest else None)
                for doc_id, score in ranked(fused)]

    def _dense(self, vector: np.ndarray, depth: int, filters: Filters
               ) -> list[tuple[int, str, float]]:
        """The nearest chunks as (chunk id, document id, cosine), within ``filters``."""
        def search(k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
            return self.vectors.search(vector, k, allowed)
        return self._within(search, depth, filters,
                            complete=lambda hits, _: len(hits) == len(self.vectors))

    def _keyword(self, query: str, depth: int, filters: Filters
                 ) -> list[tuple[int, str, float]]:
        """The best BM25 chunks for any of the query's terms, within ``filters``."""
        found = terms(query)[:MAX_TERMS]
        if not found:
            return []
        index = self.keywords

        def search(k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
            return index.search(found, k, allowed)
        return self._within(search, depth, filters,
                            complete=lambda hits, asked: len(hits) < asked)

    def _within(self, search: ChunkSearch, depth: int, filters: Filters,
                complete: Callable[[list, int], bool]) -> list[tuple[int, str, float]]:
        """The top ``depth`` chunks of ``search`` whose documents pass ``filters``.

        Most filters, access groups above all, let most chunks through: a search
        ``OVERSAMPLE`` times deeper, filtered afterwards, finds the same top chunks
        without listing every allowed chunk. It is exact when ``depth`` survive or
        the deeper search was ``complete`` (it returned every candidate). Otherwise
        the filter is selective and only the allowed chunks are searched.
        """
        if not filters.restricts_documents():
            return self._with_documents(search(depth, None))
        asked = depth * OVERSAMPLE
        deeper = search(asked, None)
        wide = self._with_documents(deeper, filters)
        if len(wide) >= depth or complete(deeper, asked):
            return wide[:depth]
        allowed = self.store.chunk_ids_matching(filters)
        return self._with_documents(search(depth, allowed))

    def _with_documents(self, hits: list[tuple[int, float]], filters: Filters | None = None
                        ) -> list[tuple[int, str, float]]:
        """(chunk id, document id, score) for the hits whose document passes ``filters``."""
        chunk_ids = (c for c, _ in hits)
        doc_of = (self.store.chunk_documents(chunk_ids, filters) if filters
                  else self.keywords.documents_of(chunk_ids))
        return [(c, doc_of[c], s) for c, s in hits if c in doc_of]

    def articles(self, query: str, ranking: list[DocScore], limit: int = 10,
                 offset: int = 0) -> list[ArticleHit]:
        """Shape the top of a ranking as articles with snippets."""
        page = ranking[offset:offset + limit]
        docs = self.store.get_documents(d.doc_id for d in page)
        chunks = self.store.get_chunks(d.best_chunk for d in page if d.best_chunk is not None)
        hits = []
        for scored in page:
            doc = docs.get(scored.doc_id)
            if doc is None:
                continue
            chunk = chunks.get(scored.best_chunk) if scored.best_chunk is not None else None
            snippet, highlights = make_snippet(chunk["text"] if chunk else doc.body, query,
                                               markdown=may_hold_markdown(doc.source))
            hits.append(ArticleHit(
                id=doc.id, title=doc.title, kind=doc.kind, score=round(scored.score, 6),
                snippet=snippet, source=doc.source, updated_at=doc.updated_at,
                tags=list(doc.tags), language=doc.language, authors=list(doc.authors),
                dense_score=round(scored.dense, 6), keyword_score=round(scored.keyword, 6),
                highlights=highlights))
        return hits
