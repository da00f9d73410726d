"""Where each language's passages sit in a multilingual model's space, and a query moved
out of its own language's corner before it meets the passages.

A multilingual model (multilingual-e5) places a text by its meaning and, less strongly,
by its language: every German passage shares a German direction. A German question is
then closer to German passages about something else than to the English paragraph that
answers it. Removing each language's mean vector makes the space more language-neutral
(Libovický et al., "On the Language Neutrality of Pre-trained Multilingual
Representations", 2020). Here only the query moves, and only where the dense retriever
ranks passages (search.retrieval), so stored vectors stay the model's own (one vector
space; nothing to re-embed when the corpus changes):

    query' = unit(query - SHIFT * (centre of the query's language - centre of the corpus))

The lines drawn on a cosine (weak match, evidence about the question) read the closer of
the question's cosines as asked and as moved: moved, a question is further from
passages in its own language, and on MLQA-R's pool weak match would flag 41.5% of the
questions instead of 24.6%; with the closer of the two it flags 23.5%, and 57.8% instead
of 71.5% when only English paragraphs answer (bench/language_centres.py).

The centres are the mean passage vectors of each document language the corpus holds at
least ``MIN_PASSAGES`` of, and of every passage. The query's language is the centre
nearest to its vector: on MLQA-R it names the question's language 99.95% of the time,
where lingua, at the confidence ingest asks of it, names none for 27% of the questions.
A corpus with fewer than two such languages leaves every query as it is, so a
one-language folder ranks exactly as before.

Measured on MLQA-R with multilingual-e5-small int8, dense (bench/language_centres.py,
docs/benchmarks.md): nDCG@10 averaged over the six non-English question languages,
``-any`` (one mixed pool) 0.448 -> 0.578, ``-en`` 0.627 -> 0.651, English questions
0.832 -> 0.827. ``SHIFT`` was chosen there (0.5, 0.75, 1.0, 1.5).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from indexer.store import Store

MIN_PASSAGES = 20  # fewer passages do not say where a language sits
SHIFT = 0.75
REFRESH = 0.10  # the centres are read again once the passages changed by this share


@dataclass(frozen=True)
class LanguageCentres:
    languages: tuple[str, ...]
    centres: np.ndarray  # (languages, dim): the mean vector of each language's passages
    overall: np.ndarray  # (dim,): the mean vector of every passage
    passages: int  # how many passages they were read from

    @classmethod
    def of(cls, store: Store) -> LanguageCentres:
        """The centres of the passages ``store`` holds now."""
        sums = store.vector_sums_by_language()
        passages = sum(count for count, _ in sums.values())
        kept = sorted((language, total / count) for language, (count, total) in sums.items()
                      if language and count >= MIN_PASSAGES)
        dim = next((len(total) for _, total in sums.values()), 0)
        overall = (sum(total for _, total in sums.values()) / passages if passages
                   else np.zeros(dim, np.float32))
        return cls(tuple(language for language, _ in kept),
                   np.array([centre for _, centre in kept], np.float32).reshape(len(kept), dim),
                   np.asarray(overall, np.float32), passages)

    def stale(self, passages: int) -> bool:
        """Whether a corpus of ``passages`` passages has moved past these centres."""
        return abs(passages - self.passages) > REFRESH * max(self.passages, 1)

    @functools.cached_property
    def directions(self) -> np.ndarray:
        """The centres at unit length, to find the one nearest to a query."""
        return self.centres / np.linalg.norm(self.centres, axis=1, keepdims=True)

    def language_of(self, vector: np.ndarray) -> str | None:
        """The corpus language whose centre is nearest to ``vector`` (None: fewer than two)."""
        nearest = self._nearest(vector)
        return None if nearest is None else self.languages[nearest]

    def shift(self, vector: np.ndarray, by: float = SHIFT) -> np.ndarray:
        """``vector`` (a query's, unit length) moved out of its language's corner."""
        nearest = self._nearest(vector)
        if nearest is None:
            return vector
        moved = np.asarray(vector, np.float32) - by * (self.centres[nearest] - self.overall)
        return (moved / np.linalg.norm(moved)).astype(np.float32)

    def _nearest(self, vector: np.ndarray) -> int | None:
        if len(self.languages) < 2:
            return None
        return int(np.argmax(self.directions @ vector))
