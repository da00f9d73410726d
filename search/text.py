"""Query text handling: terms (each one BM25 phrase) and a light stemmer for highlights."""

from __future__ import annotations

import functools

from indexer.errors import InvalidQuery
from indexer.tokenizer import words as written_words

MAX_TERMS = 64
_STOPWORD_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself know knows knew
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def clean_query(query: str | None) -> str:
    text = (query or "").strip()
    if not text:
        raise InvalidQuery("the query is empty",
                           "type what you are looking for, e.g. 'kafka retention'")
    if len(text) > 10_000:
        raise InvalidQuery("the query is longer than 10,000 characters", "shorten it")
    return text


def terms(text: str) -> list[str]:
    """Distinct lowercase content words, in order of first appearance (a word keeps its
    combining marks: Hindi and Thai words are not cut at their vowel signs)."""
    words = (w.lower() for w in written_words(text))
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1))


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Crude suffix stripping, used only to decide which words to highlight."""
    word = word.lower()
    for suffix in ("ations", "ation", "ingly", "ings", "ing", "edly", "ies", "ied", "es", "ed",
                   "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
