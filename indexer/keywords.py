"""The in-memory BM25 index: derived from the stored passages, never the truth.

The store's FTS5 table is the reference keyword search. Ranking a query there
costs a BM25 evaluation per matching row (16 ms for a common query at 100k
passages), so search runs on this index instead: term-by-passage frequencies in
a sparse matrix, scored for all passages at once with numpy. It scores with FTS5's
BM25 (k1 1.2, b 0.75, the same idf floor), and tokenises English as the FTS5 table
does, so over English its scores equal ``bm25()``'s; a test holds the two together.

Each passage is tokenised in its document's language (``indexer.tokenizer``: German
passages with German stems, Chinese in pairs of characters). A query's language is
seldom known (two words), so each query word stands for its terms in every language
the index holds passages in, the ``MAX_QUERY_LANGUAGES`` most common: "Routen" is
"routen" to English and "rout" to German, so it finds a German passage's "Route" and
an English one's "routes". A passage holding several of a word's terms counts each. A
language the index does not hold (``indexer.language.held``: a few passages, mostly
stray guesses) cuts query words for its own passages only: two of android's answers
taken for Dutch and Lithuanian add no Dutch or Lithuanian cut of an English question to
the English answers. This is safe for English: an index of English passages (and
passages of unknown language, tokenised as English) cuts a query word exactly as
before, so its rankings are those of FTS5, and SciFact's keyword run is unchanged to the
last score.

Measured on MLQA-R (bench/keywords_languages.py: 7 languages' questions against one
pool), the mean nDCG@10 rose from 0.284 to 0.358, Chinese from 0.04 to 0.35 and Hindi
from 0.14 to 0.29. English questions pay a little for the other languages' terms (0.834
to 0.822 on their own language's paragraphs; 0.838 with Porter's terms alone, where
Arabic and Spanish lose half). Counting a word's terms only in the passages of the
languages that cut them so moved no language by more than 0.006 (mean 0.356): it
is kept for the languages an index does not hold (session 13; docs/benchmarks.md,
"Expert finding").

Like the FAISS index it is saved to a temporary file and renamed into place,
records the store generation it reflects, and is brought up to date from the
store when that moves on: removed passages are masked (and dropped once they
are a quarter of the columns), added ones tokenised into a small segment of
their own, so that a batch of new passages costs time in proportion to the
batch; segments merge into one when their passages reach a tenth of the first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from indexer import tokenizer
from indexer.changes import Changes
from indexer.files import atomic_write
from indexer.language import held
from indexer.store import Store

INDEX_FILE = "keywords.npz"
K1, B = 1.2, 0.75
MIN_IDF = 1e-6  # FTS5's floor for terms in more than half the passages
COMPACT_DEAD_SHARE = 0.25
MERGE_SHARE = 0.1  # later segments are merged into the first at this share of its columns
MAX_SEGMENTS = 16
# A query word is cut by the stemmers of at most this many languages, those with the
# most passages: the terms of a query grow with them, and so does the chance that one
# language's stem is another's unrelated word.
MAX_QUERY_LANGUAGES = 8


class KeywordIndex:
    """BM25 over passages: term-by-column frequency matrices (segments of consecutive
    columns), columns ordered by chunk id."""

    def __init__(self, vocab: dict[str, int], matrix: sparse.csr_matrix, ids: np.ndarray,
                 lengths: np.ndarray, doc_index: np.ndarray, doc_names: list[str],
                 languages: np.ndarray, language_names: list[str],
                 alive: np.ndarray | None = None, generation: int = -1) -> None:
        self.vocab = vocab
        self.segments = [matrix]  # terms (as many as existed then) x columns, term frequency
        self.ids = ids  # chunk id per column, ascending
        self.lengths = lengths  # tokens per column
        self.doc_index = doc_index  # document (index into doc_names) per column
        self.doc_names = doc_names
        self._doc_numbers = {name: i for i, name in enumerate(doc_names)}
        self.languages = languages  # document language (index into language_names) per column
        self.language_names = language_names  # "" for an unknown language
        self.alive = alive if alive is not None else np.ones(len(ids), dtype=bool)
        self.generation = generation
        self._scoring: tuple[int, np.ndarray] | None = None  # see _length_norm
        self._analyzers: list[str] | None = None  # see query_analyzers
        self._cut_by: np.ndarray | None = None  # per column, its analyzer's place in them
        self._held: set[int] | None = None  # the places of the analyzers of held languages

    def _columns_changed(self) -> None:
        self._scoring = self._analyzers = self._cut_by = self._held = None

    def _length_norm(self) -> tuple[int, np.ndarray]:
        """(live passages, BM25's length normalisation per column), kept until the
        columns change rather than recomputed over every passage for each query."""
        if self._scoring is None:
            n_rows = len(self)
            avgdl = float(self.lengths[self.alive].sum()) / max(n_rows, 1)
            self._scoring = n_rows, K1 * (1 - B + B * self.lengths / max(avgdl, 1e-9))
        return self._scoring

    def __len__(self) -> int:
        return int(self.alive.sum())

    def query_analyzers(self) -> list[str]:
        """How query words are cut: the analyzers of the languages of the live passages,
        the most common first, at most ``MAX_QUERY_LANGUAGES``."""
        if self._analyzers is None:
            counts = np.bincount(self.languages[self.alive], minlength=len(self.language_names))
            common = sorted(np.flatnonzero(counts).tolist(), key=lambda i: -counts[i])
            analyzers = (tokenizer.analyzer_of(self.language_names[i] or None)
                         for i in common[:MAX_QUERY_LANGUAGES])
            self._analyzers = list(dict.fromkeys(analyzers))
            passages: dict[str, int] = {}  # per analyzer (unknown languages cut as English)
            for i in common:
                analyzer = tokenizer.analyzer_of(self.language_names[i] or None)
                passages[analyzer] = passages.get(analyzer, 0) + int(counts[i])
            kept = {*held(passages), *list(passages)[:1]}  # and its main language, however few
            self._held = {place for place, a in enumerate(self._analyzers) if a in kept}
        return self._analyzers

    def _column_analyzers(self) -> np.ndarray:
        """Per column, the place of its passage's analyzer in ``query_analyzers`` (-1
        when its language is not among them)."""
        if self._cut_by is None:
            places = {a: i for i, a in enumerate(self.query_analyzers())}
            by_language = np.asarray([places.get(tokenizer.analyzer_of(name or None), -1)
                                      for name in self.language_names] or [-1], np.int16)
            self._cut_by = by_language[self.languages]
        return self._cut_by

    # -- searching -----------------------------------------------------------

    def search(self, query_terms: Sequence[str], k: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25) for passages holding any of ``query_terms``, best
        first; each term is one FTS5 phrase, tokenised like the passages. With
        ``allowed`` (chunk ids), only those passages are ranked. A term stands for its
        tokens in each language of the index (``query_analyzers``)."""
        live = self.alive if allowed is None else self.alive & np.isin(self.ids, allowed)
        n_rows, norm = self._length_norm()
        if n_rows == 0 or k <= 0:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float64)
        matched = np.zeros(len(self.ids), dtype=bool)
        for row, cut_by in (r for term in query_terms for r in self._cut_rows(term)):
            cols, tf = self._counted(row, cut_by)
            hits = int(self.alive[cols].sum())
            idf = math.log((n_rows - hits + 0.5) / (hits + 0.5))
            scores[cols] += max(idf, MIN_IDF) * tf * (K1 + 1) / (tf + norm[cols])
            matched[cols] = True
        candidates = np.flatnonzero(matched & live)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = sorted(candidates.tolist(), key=lambda c: (-scores[c], self.ids[c]))
        return [(int(self.ids[c]), float(scores[c])) for c in order]

    def holding(self, term: str) -> np.ndarray:
        """The chunk ids of the live passages that hold ``term`` as ``search`` counts it
        (any of its tokens, in the languages that cut it so)."""
        cols = [self._counted(row, cut_by)[0] for row, cut_by in self._cut_rows(term)]
        found = np.unique(np.concatenate(cols)) if cols else np.zeros(0, np.int64)
        return self.ids[found[self.alive[found]]]

    def _counted(self, row: int, cut_by: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(columns, term frequencies) of one vocabulary row where it counts: every
        passage (``cut_by`` None), or only those of the languages that cut the term so."""
        cols, tf = self._postings(row)
        if cut_by is not None:
            keep = np.isin(self._column_analyzers()[cols], cut_by)
            cols, tf = cols[keep], tf[keep]
        return cols, tf

    def _postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, term frequencies) of one vocabulary row, over every segment."""
        cols, tfs, offset = [], [], 0
        for matrix in self.segments:
            if row < matrix.shape[0]:
                start, end = matrix.indptr[row], matrix.indptr[row + 1]
                cols.append(matrix.indices[start:end] + offset)
                tfs.append(matrix.data[start:end])
            offset += matrix.shape[1]
        if len(cols) == 1:
            return cols[0], tfs[0]
        return (np.concatenate(cols) if cols else np.zeros(0, np.int64),
                np.concatenate(tfs) if tfs else np.zeros(0, np.float32))

    def _merged(self) -> sparse.csr_matrix:
        """All segments as one matrix (and the index holds it so from now on)."""
        if len(self.segments) > 1:
            rows = len(self.vocab)
            for matrix in self.segments:
                matrix.resize((rows, matrix.shape[1]))
            self.segments = [sparse.hstack(self.segments, format="csr", dtype=np.float32)]
        return self.segments[0]

    def holds(self, word: str) -> bool:
        """Whether a passage holds (or held, until the index is rebuilt) a word with
        ``word``'s stem in one of the index's languages."""
        return bool(self._rows(word))

    def _rows(self, term: str) -> list[int]:
        """The vocabulary rows of one query term's tokens (none when no passage holds them)."""
        return [row for row, _ in self._cut_rows(term)]

    def _cut_rows(self, term: str) -> list[tuple[int, np.ndarray | None]]:
        """The vocabulary rows of one query term's tokens, each with None when a held
        language's analyzer cuts the term so (it counts in every passage), else the
        places (in ``query_analyzers``) of those that do (it counts in their passages)."""
        analyzers = self.query_analyzers()
        assert self._held is not None
        cut_by: dict[str, list[int]] = {}
        for place, analyzer in enumerate(analyzers):
            for token in dict.fromkeys(tokenizer.analyzed(term, analyzer)):
                cut_by.setdefault(token, []).append(place)
        return [(self.vocab[token], None if self._held.intersection(places)
                 else np.asarray(places, np.int16))
                for token, places in cut_by.items() if token in self.vocab]

    def documents_of(self, chunk_ids: Iterable[int]) -> dict[int, str]:
        """chunk id -> document id for the live passages among ``chunk_ids``."""
        wanted, cols = self._live_columns(chunk_ids)
        return {int(c): self.doc_names[d]
                for c, d in zip(wanted, self.doc_index[cols], strict=True)}

    def languages_of(self, chunk_ids: Iterable[int]) -> set[str]:
        """The languages ("" for unknown) of the live passages among ``chunk_ids``."""
        _, cols = self._live_columns(chunk_ids)
        return {self.language_names[i] for i in np.unique(self.languages[cols])}

    def _live_columns(self, chunk_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, their columns) of the live passages among ``chunk_ids``."""
        wanted = np.fromiter(chunk_ids, dtype=np.int64)
        if not len(wanted) or not len(self.ids):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        cols = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = (self.ids[cols] == wanted) & self.alive[cols]
        return wanted[found], cols[found]

    # -- building and keeping it in step with the store ------------------------

    @classmethod
    def empty(cls) -> KeywordIndex:
        return cls({}, sparse.csr_matrix((0, 0), dtype=np.float32), np.zeros(0, np.int64),
                   np.zeros(0, np.float32), np.zeros(0, np.int32), [], np.zeros(0, np.int32),
                   [])

    @classmethod
    def build(cls, store: Store) -> KeywordIndex:
        """A fresh index from every stored passage (title and text, as FTS5 holds them,
        in its document's language)."""
        index = cls.empty()
        with store.reading():  # one snapshot: the index is exactly that generation's
            generation = store.generation
            index._append(store.iter_passages())
        index.generation = generation
        return index

    def sync(self, store: Store) -> None:
        """Mask the passages the store no longer has and append those it added (by
        comparing id sets: for an index older than the change log)."""
        generation, stored = store.chunk_ids_now()
        self.alive &= np.isin(self.ids, stored)
        missing = np.setdiff1d(stored, self.ids[self.alive], assume_unique=True)
        if len(missing) and len(self.ids) and missing.min() <= self.ids.max():
            self._compact(keep=self.alive & ~np.isin(self.ids, missing))
        elif (~self.alive).sum() > COMPACT_DEAD_SHARE * max(len(self.ids), 1):
            self._compact(keep=self.alive)
        if len(missing):
            self._append(store.iter_passages(missing))
        self.generation = generation
        self._columns_changed()

    def apply(self, changes: Changes, store: Store) -> None:
        """Mask the removed passages and append the added ones (those deleted since are
        skipped: the next changes remove them anyway)."""
        if len(changes.added) and len(self.ids) and changes.added.min() <= self.ids.max():
            self.sync(store)  # ids out of order: cannot happen while ids are never reused
            return
        self.alive &= ~np.isin(self.ids, changes.removed)
        if (~self.alive).sum() > COMPACT_DEAD_SHARE * max(len(self.ids), 1):
            self._compact(keep=self.alive)
        if len(changes.added):
            self._append(store.iter_passages(changes.added))
        self.generation = changes.generation
        self._columns_changed()

    def _compact(self, keep: np.ndarray) -> None:
        """Drop the columns not in ``keep`` (chunk ids stay ascending)."""
        self.segments = [self._merged()[:, np.flatnonzero(keep)].tocsr()]
        self.ids, self.lengths = self.ids[keep], self.lengths[keep]
        self.doc_index, self.alive = self.doc_index[keep], self.alive[keep]
        self.languages = self.languages[keep]
        self._columns_changed()

    def _append(self, passages: Iterable[tuple[int, str, str, str | None]]) -> None:
        """Tokenise passages (chunk id, document id, text, language), ascending ids, as
        new columns."""
        rows: list[int] = []
        cols: list[int] = []
        ids, lengths, docs, languages = [], [], [], []
        for col, (chunk_id, doc_id, text, language) in enumerate(passages):
            found = tokenizer.tokens(text, language)
            rows.extend(self.vocab.setdefault(t, len(self.vocab)) for t in found)
            cols.extend([col] * len(found))
            ids.append(chunk_id)
            lengths.append(len(found))
            docs.append(self._doc_number(doc_id))
            languages.append(self._language_number(language or ""))
        if not ids:
            return
        added = sparse.coo_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                  shape=(len(self.vocab), len(ids))).tocsr()
        added.sum_duplicates()
        self.segments.append(added)
        later = sum(m.shape[1] for m in self.segments[1:])
        if later > MERGE_SHARE * self.segments[0].shape[1] or len(self.segments) > MAX_SEGMENTS:
            self._merged()
        self.ids = np.concatenate([self.ids, np.asarray(ids, np.int64)])
        self.lengths = np.concatenate([self.lengths, np.asarray(lengths, np.float32)])
        self.doc_index = np.concatenate([self.doc_index, np.asarray(docs, np.int32)])
        self.languages = np.concatenate([self.languages, np.asarray(languages, np.int32)])
        self.alive = np.concatenate([self.alive, np.ones(len(ids), dtype=bool)])
        self._columns_changed()

    def _doc_number(self, doc_id: str) -> int:
        number = self._doc_numbers.get(doc_id)
        if number is None:
            number = self._doc_numbers[doc_id] = len(self.doc_names)
            self.doc_names.append(doc_id)
        return number

    def _language_number(self, language: str) -> int:
        if language not in self.language_names:  # a handful: a list is quicker than a dict
            self.language_names.append(language)
        return self.language_names.index(language)

    # -- files -------------------------------------------------------------------

    def save(self, data_dir: str | Path) -> None:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        matrix = self._merged()
        with atomic_write(Path(data_dir) / INDEX_FILE) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, indptr=matrix.indptr, indices=matrix.indices,
                     data=matrix.data, shape=np.asarray(matrix.shape),
                     ids=self.ids, lengths=self.lengths, doc_index=self.doc_index,
                     alive=self.alive, terms=np.asarray(terms, dtype=str),
                     doc_names=np.asarray(self.doc_names, dtype=str),
                     languages=self.languages,
                     language_names=np.asarray(self.language_names, dtype=str),
                     tokenizer=np.asarray(tokenizer.VERSION),
                     generation=np.asarray(self.generation))

    @classmethod
    def read(cls, path: Path) -> KeywordIndex:
        """The index saved at ``path`` as it is; KeyError for a file saved before the
        tokenizer's current version (its terms would not match a query's)."""
        with np.load(path) as saved:
            if int(saved["tokenizer"]) != tokenizer.VERSION:
                raise KeyError("tokenizer")
            matrix = sparse.csr_matrix((saved["data"], saved["indices"], saved["indptr"]),
                                       shape=tuple(int(n) for n in saved["shape"]))
            return cls({t: i for i, t in enumerate(saved["terms"].tolist())}, matrix,
                       saved["ids"], saved["lengths"], saved["doc_index"],
                       saved["doc_names"].tolist(), saved["languages"],
                       saved["language_names"].tolist(), saved["alive"],
                       int(saved["generation"]))

    @classmethod
    def read_saved(cls, data_dir: str | Path) -> KeywordIndex | None:
        """The index saved in ``data_dir``, or None when there is none, it is damaged, or
        its terms were cut by another version of the tokenizer."""
        try:
            return cls.read(Path(data_dir) / INDEX_FILE)
        except (OSError, ValueError, KeyError):
            return None


def saved_generation(data_dir: str | Path) -> int | None:
    """The store generation of the index saved in ``data_dir`` (read without its matrix)."""
    try:
        with np.load(Path(data_dir) / INDEX_FILE) as saved:
            return int(saved["generation"])
    except (OSError, ValueError, KeyError):
        return None
