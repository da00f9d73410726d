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
Where fewer than two languages have that many passages (an English company with a few
notes in German and Portuguese, as the demo), a language's place is read from the model
instead (session 11): its offset is the mean vector of the same 20 sentences written in
that language, read as queries, minus their mean in English (``language_reference.json``:
28 languages, our own sentences on everyday and company subjects). Being translations of
each other, they differ by their language alone. The corpus's centre is then its held
languages' offsets weighed by their passages (``indexer.language.held``: stray guesses
are not held), and a question's language the held one whose
sentences lie nearest (on MLQA-R: right for 96.4% of the questions). On MLQA-R's whole pool the
corpus's own centres do better than the reference (-en 0.651 against 0.646, -any 0.578
against 0.551), so they come first where they exist. Moved, a question loses the few
passages written in its own language, so with the reference the dense retriever ranks
each passage by the closer of its cosines as asked and as moved. On a
mostly English pool (MLQA-R's English passages, and 2% as many of each other
language's), where no other language has a centre and questions stayed as asked until
session 11, nDCG@10 over the six non-English question languages goes from -en 0.631 to
0.651, -any 0.452 to 0.554, and the answer in the question's own language (-same) from
0.850 to 0.813 (moved alone: 0.639); English questions are unchanged
(bench/reference_offsets.py). On the whole pool the closer reading would cost -any
0.578 -> 0.496 (the question's own language's unrelated passages come back), so the
corpus's centres rank as moved.

A corpus with fewer than two languages (of either kind) leaves every query as it is,
so a one-language folder ranks exactly as before.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np

from indexer.embedders import Embedder, embed_queries
from indexer.language import ENGLISH, held
from indexer.store import Store

MIN_PASSAGES = 20  # fewer passages do not say where a language sits
SHIFT = 0.75
REFRESH = 0.10  # the centres are read again once the passages changed by this share
REFERENCE = "language_reference.json"

_reference: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
_embedding = threading.Lock()


@dataclass(frozen=True)
class LanguageCentres:
    languages: tuple[str, ...]
    centres: np.ndarray  # (languages, dim): the mean vector of each language's passages
    overall: np.ndarray  # (dim,): the mean vector of every passage
    passages: int  # how many passages they were read from
    # Read from the model's reference sentences instead: ``centres`` are then offsets
    # from English, ``overall`` the corpus's, and these name a question's language.
    names: np.ndarray | None = None

    @classmethod
    def of(cls, store: Store, embedder: Embedder) -> LanguageCentres:
        """The centres of the passages ``store`` holds now, else (fewer than two
        languages with ``MIN_PASSAGES``) the places ``embedder`` gives its languages.
        Every vector is read only when the corpus's centres are the ones used."""
        counts = store.passages_by_language()
        if sum(bool(language) and n >= MIN_PASSAGES for language, n in counts.items()) < 2:
            return cls.from_reference(counts, embedder)
        sums = store.vector_sums_by_language()
        passages = sum(count for count, _ in sums.values())
        kept = sorted((language, total / count) for language, (count, total) in sums.items()
                      if language and count >= MIN_PASSAGES)
        dim = next(len(total) for _, total in sums.values())
        return cls(tuple(language for language, _ in kept),
                   np.array([centre for _, centre in kept], np.float32).reshape(len(kept), dim),
                   np.asarray(sum(total for _, total in sums.values()) / passages, np.float32),
                   passages)

    @classmethod
    def from_reference(cls, counts: dict[str | None, int], embedder: Embedder
                       ) -> LanguageCentres:
        """The held languages of a corpus with ``counts`` passages per language, placed
        where ``embedder`` puts the reference sentences."""
        passages = sum(counts.values())
        languages = tuple(sorted(set(held(counts)) & set(reference_sentences())))
        dim = embedder.dim
        if len(languages) < 2:  # nothing moves: the model need not read the sentences
            return cls(languages, np.zeros((0, dim), np.float32), np.zeros(dim, np.float32),
                       passages, np.zeros((0, dim), np.float32))
        known, means = reference_means(embedder)
        row = {language: i for i, language in enumerate(known)}
        offsets = means[[row[language] for language in languages]] - means[row[ENGLISH]]
        overall = sum((counts[language] / passages * offset
                       for language, offset in zip(languages, offsets, strict=True)),
                      np.zeros(dim, np.float32))
        names = means[[row[language] for language in languages]]
        return cls(languages, offsets.astype(np.float32), np.asarray(overall, np.float32),
                   passages, names / np.linalg.norm(names, axis=1, keepdims=True))

    @property
    def from_corpus(self) -> bool:
        """Whether the corpus itself showed where its languages sit (else the reference:
        the dense retriever then ranks a passage by the closer of its cosines to the
        question as asked and as moved, see the module's notes)."""
        return self.names is None

    def stale(self, passages: int) -> bool:
        """Whether a corpus of ``passages`` passages has moved past these centres."""
        return abs(passages - self.passages) > REFRESH * max(self.passages, 1)

    @functools.cached_property
    def directions(self) -> np.ndarray:
        """Where each language lies, at unit length, to find the one nearest to a query."""
        if self.names is not None:
            return self.names
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


@functools.cache
def reference_sentences() -> dict[str, list[str]]:
    """The same sentences in each language of the reference, English first."""
    return json.loads((resources.files("indexer") / REFERENCE).read_text(encoding="utf-8"))


def reference_means(embedder: Embedder) -> tuple[tuple[str, ...], np.ndarray]:
    """(languages, each one's mean vector of the reference sentences read as queries) in
    ``embedder``'s space: embedded once per model and process (4 s for e5 on a busy
    two-core machine; a server's warm-up pays it, search.answers)."""
    with _embedding:
        found = _reference.get(embedder.name)
        if found is None:
            sentences = reference_sentences()
            means = np.vstack([embed_queries(embedder, texts).mean(axis=0)
                               for texts in sentences.values()]).astype(np.float32)
            found = _reference[embedder.name] = (tuple(sentences), means)
        return found
