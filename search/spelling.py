"""Spelling correction of queries, drawn from the corpus's own words and people's skills.

A query word is corrected only when the corpus does not know it: no passage holds the
word, nor another word with its stem ("routers" is known where "router" is), and no
skill is named with it; nor is it an English word (symspellpy's list of 82,765), which
the corpus may simply not hold: "tax rules for company cars" over a corpus without cars
is a question it cannot answer, not a typo of "cards". Its correction is the known word
fewest edits away (a swapped pair of letters is one edit), the most common of them on a
tie; where no known word is close, the word stays as typed. Words of fewer than
``MIN_LENGTH`` letters have too many known words one letter away to guess from, so they
are neither corrected nor corrections. A word in mixed case (dLNs, PPARy, iPhone) names
something and is left alone, and so is a word in double quotes: ``"GDRP"`` searches
for GDRP.

The words and their counts (passages holding them, plus people listing a skill with
them) are read from the store when a query first needs them and again after the store
changed, like the expert ranker's profiles (docs/benchmarks.md, "Spelling", has the
figures). A query whose words are all English or in the BM25 index (which is kept up
to date anyway) needs neither: reading the words of 100k passages takes seconds.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from symspellpy import SymSpell, Verbosity

from indexer.keywords import KeywordIndex
from indexer.records import OPEN_TO_EVERYONE
from indexer.store import Store
from indexer.tokenizer import tokens

MIN_LENGTH = 4
# A word of up to SHORT_WORD letters is corrected only by swapping two neighbouring
# letters, or adding or removing one: with one letter changed it reads as another word
# ("gdpx" is not a typo of "gdpr"). Up to LONG_WORD letters one edit, beyond it two.
SHORT_WORD = 5
LONG_WORD = 8
MAX_EDITS = 2
_WORD = re.compile(r"[^\W\d_]+")  # letters only
# A query word (letters and digits; one with digits is a code, not a misspelt word).
QUERY_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class Vocabulary:
    """The words a store knows, built once per change of the store."""

    key: tuple[int, int]
    counts: Counter[str]  # lowercase word -> passages holding it + people listing it
    stems: frozenset[str]
    lookup: SymSpell

    def knows(self, word: str) -> bool:
        folded = word.lower()
        return (folded in self.counts or folded in english_words()
                or any(t in self.stems for t in tokens(folded)))

    def closest(self, word: str) -> str | None:
        """The known word fewest edits away from ``word`` (the most common on a tie), or
        None when none is close."""
        word = word.lower()
        edits = 1 if len(word) <= LONG_WORD else MAX_EDITS
        found = self.lookup.lookup(word, Verbosity.CLOSEST, edits)
        if len(word) <= SHORT_WORD:
            found = [f for f in found if not _substitution(word, f.term)]
        return found[0].term if found else None


def _substitution(word: str, other: str) -> bool:
    """Whether ``other`` differs from ``word`` by letters changed rather than swapped."""
    return len(word) == len(other) and sorted(word) != sorted(other)


def build_vocabulary(store: Store) -> Vocabulary:
    """Count the words of every passage open to everyone (once each) and of every skill
    name. A restricted document's words are no corrections: "showing results for" a word
    only it holds would tell a caller who may not read it that it exists."""
    counts: Counter[str] = Counter()
    for _, _, text, _ in store.iter_passages(store.chunk_ids_matching(OPEN_TO_EVERYONE)):
        counts.update(set(_WORD.findall(text.lower())))
    for person in store.get_people().values():
        counts.update({w for s in person.skills for w in _WORD.findall(s.name.lower())})
    lookup = SymSpell(max_dictionary_edit_distance=MAX_EDITS, prefix_length=7)
    for word, count in counts.items():
        if len(word) >= MIN_LENGTH and _latin(word):
            lookup.create_dictionary_entry(word, count)
    stems = frozenset(t for word in counts for t in tokens(word))
    return Vocabulary((store.generation, store.people_generation), counts, stems, lookup)


@functools.cache
def english_words() -> frozenset[str]:
    """The English words of symspellpy's frequency list (read once per process)."""
    listing = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return frozenset(line.split(" ", 1)[0] for line in listing.read_text().splitlines())


def _latin(word: str) -> bool:
    """Edits between letters mean typos in alphabetic scripts; other scripts are left alone."""
    return word.isascii() or all(unicodedata.name(c, "").startswith("LATIN") for c in word)


class Speller:
    """Corrects the words of queries that ``store``'s corpus does not know; ``keywords``
    gives the current BM25 index, if any, to tell most known words without the store."""

    def __init__(self, store: Store,
                 keywords: Callable[[], KeywordIndex] | None = None) -> None:
        self.store = store
        self.keywords = keywords
        self._vocabulary: Vocabulary | None = None
        self._building = threading.Lock()

    def vocabulary(self) -> Vocabulary:
        """The store's words, read again when passages or people changed since."""
        key = (self.store.generation, self.store.people_generation)
        current = self._vocabulary
        if current is not None and current.key == key:
            return current
        with self._building:
            if self._vocabulary is None or self._vocabulary.key != key:
                self._vocabulary = build_vocabulary(self.store)
            return self._vocabulary

    def correct(self, query: str) -> str | None:
        """``query`` with each unknown word replaced by its correction (the typed case
        kept), or None when no word was corrected."""
        index = self.keywords() if self.keywords is not None else None
        candidates = [(start, end, word) for start, end, word in _candidates(query)
                      if word.lower() not in english_words()
                      and not (index is not None and index.holds(word))]
        if not candidates:
            return None
        vocabulary = self.vocabulary()
        text, changed = query, False
        for start, end, word in reversed(candidates):
            if vocabulary.knows(word):
                continue
            fix = vocabulary.closest(word)
            if fix is not None and fix != word.lower():
                text, changed = text[:start] + _cased(fix, word) + text[end:], True
        return text if changed else None


def _candidates(query: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, word) for the words of ``query`` that may be corrected."""
    quoted = [m.span() for m in _QUOTED.finditer(query)]
    for match in QUERY_WORD.finditer(query):
        word = match.group()
        if (len(word) >= MIN_LENGTH and word.isalpha() and _latin(word)
                and (word.isupper() or word[1:].islower())
                and not any(a <= match.start() < b for a, b in quoted)):
            yield match.start(), match.end(), word


def _cased(word: str, typed: str) -> str:
    """``word`` in the case ``typed`` was written in: GDRP -> GDPR, Kuberentes -> Kubernetes."""
    if typed.isupper():
        return word.upper()
    if typed[0].isupper():
        return word[0].upper() + word[1:]
    return word
