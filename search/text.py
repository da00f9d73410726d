"""Query text handling: terms (each one BM25 phrase) and a light stemmer for highlights."""

from __future__ import annotations

import functools

from indexer.errors import InvalidQuery
from indexer.language import HEAD_CHARS, MIN_CONFIDENCE, likely_language
from indexer.stopwords import other_languages_stop_words, own_stop_words, stop_words
from indexer.tokenizer import words as written_words

MAX_TERMS = 64
# A question's language, for its stop words: lingua's guess when it is sure (as at
# ingest), or when it leans that way (at least LEANING) and the question also holds at
# least CORROBORATING stop words of that language. Short questions are seldom told for
# sure ("Quem sabe de previsão de demanda?": Portuguese at 0.83), and English ones are
# sometimes taken for another language ("kafka pentest secret appendix": French at
# 0.92, with no French stop word in it).
LEANING = 0.5
CORROBORATING = 2


def clean_query(query: str | None) -> str:
    text = (query or "").strip()
    if not text:
        raise InvalidQuery("the query is empty",
                           "type what you are looking for, e.g. 'kafka retention'")
    if len(text) > 10_000:
        raise InvalidQuery("the query is longer than 10,000 characters", "shorten it")
    return text


def terms(text: str) -> list[str]:
    """Distinct lowercase content words, in order of first appearance, without the stop
    words of English and of ``text``'s detected language (``indexer.stopwords``). A word
    keeps its combining marks: Hindi and Thai words are not cut at their vowel signs."""
    words = _lowered(text)
    return _content(words, _told_language(text, words))


def question_language(text: str) -> str | None:
    """The language ``terms`` takes a question for, when its stop words tell one besides
    English's (None: not told, English questions among them)."""
    return _told_language(text, _lowered(text))


def _told_language(text: str, words: list[str]) -> str | None:
    # Detected only when it could matter (most English questions never load the detector).
    could_stop = not other_languages_stop_words().isdisjoint(words)
    return _stop_language(text[:HEAD_CHARS], words) if could_stop else None


def document_terms(text: str, language: str | None) -> list[str]:
    """``terms`` of a text whose language is known (a stored document's; None: not told),
    without detecting it again (detection costs about 4 ms a document)."""
    return _content(_lowered(text), language)


def _lowered(text: str) -> list[str]:
    return [w.lower() for w in written_words(text)]


def _content(words: list[str], language: str | None) -> list[str]:
    stop = stop_words(language)
    return list(dict.fromkeys(w for w in words if w not in stop and len(w) > 1))


def _stop_language(head: str, words: list[str]) -> str | None:
    """The language whose stop words a question loses besides English's (see LEANING)."""
    language, confidence = _guess(head)
    if language is None or confidence < LEANING:
        return None
    if confidence >= MIN_CONFIDENCE:
        return language
    corroborating = own_stop_words(language).intersection(words)
    return language if len(corroborating) >= CORROBORATING else None


@functools.lru_cache(maxsize=4096)
def _guess(head: str) -> tuple[str | None, float]:
    return likely_language(head)


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Crude suffix stripping, used only to decide which words to highlight."""
    word = word.lower()
    for suffix in ("ations", "ation", "ingly", "ings", "ing", "edly", "ies", "ied", "es", "ed",
                   "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
