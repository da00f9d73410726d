"""Stop words: a language's words too common to find anything by. They are left out of a
text's keyword terms (``search.text.terms``: what BM25 ranks by and what is highlighted),
never out of the index.

English's list always applies (the corpora are mostly English, and an English question is
often too short to be told). A question told as another language (``search.text``:
lingua sure of it, or leaning to it and the question holding two of its stop words), or
a stored document of another language, also loses that language's words: the Snowball
project's lists (``stoplists/``, 13 European languages; the lists PostgreSQL ships), and
the words that language asks "who knows" with, as English's list holds "who" and "know".
Without them, a German question to a mostly English corpus ranks by "sich" and "mit",
which are rare there, and so weigh more than the subject.

Only the detected language's list is used, never every language's: "ai", "eu" and "son"
are French stop words, "war", "hat" and "bin" German ones. A text that holds no word of
another language's list is not detected at all (``other_languages_stop_words``): it would
lose the same words whatever its language.
"""

from __future__ import annotations

import functools
from pathlib import Path

from indexer.language import ENGLISH

STOPLISTS = Path(__file__).with_name("stoplists")
# How a language asks "who knows about X", beside its Snowball list (English's is in en.txt).
ASKING = {
    "de": "wer kennt kennen weiß auskennt",
    "es": "quién sabe saben conoce conocen",
    "fr": "qui sait savent connaît connait connaissent",
    "it": "chi sa sanno conosce conoscono",
    "nl": "wie weet weten kent kennen",
    "pt": "quem sabe sabem conhece conhecem",
}


@functools.cache
def stop_words(language: str | None) -> frozenset[str]:
    """English's stop words, and ``language``'s (an ISO 639-1 code) where it has a list."""
    return _listed(ENGLISH) | own_stop_words(language)


@functools.cache
def own_stop_words(language: str | None) -> frozenset[str]:
    """``language``'s stop words that English's list does not hold (none for English, or
    for a language without a list)."""
    if not language or language == ENGLISH or not (STOPLISTS / f"{language}.txt").is_file():
        return frozenset()
    return (_listed(language) | frozenset(ASKING.get(language, "").split())) - _listed(ENGLISH)


@functools.cache
def other_languages_stop_words() -> frozenset[str]:
    """Every word some language but English stops: a text holding none of them loses the
    same words whatever its language, so its language need not be detected."""
    return frozenset().union(*map(own_stop_words, listed_languages()))


def listed_languages() -> list[str]:
    """The languages with a stop list of their own, English first."""
    others = sorted(p.stem for p in STOPLISTS.glob("*.txt") if p.stem != ENGLISH)
    return [ENGLISH, *others]


@functools.cache
def _listed(language: str) -> frozenset[str]:
    lines = (STOPLISTS / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))
