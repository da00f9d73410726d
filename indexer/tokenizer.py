"""How the BM25 index turns text into terms, in the language of the text.

English, and text whose language is unknown, is tokenised as the store's FTS5 table
does (``porter unicode61 remove_diacritics 2``): case folded, diacritics dropped, then
Porter's stemmer on tokens of 3 to 64 characters; a test holds the two together. (Over
SciFact's 26k terms they differ only on the word "eed".)

Other languages use the Snowball stemmer PyStemmer has for them (``SNOWBALL``: German,
Portuguese, Arabic, Russian, Hindi, ...) and no stemming where it has none (Vietnamese,
Hebrew, Ukrainian, ...). Their words are stemmed before diacritics are dropped, because
Snowball's rules name accented endings (Spanish "-ación"); the stem is then folded as an
English word is, so that "nacion" typed without its accent finds "naciones". (Folded,
Vietnamese loses its tones: kept, its questions on MLQA-R rose from 0.345 to 0.353, and
Spanish and German fell by as much; left folded, as every other language.) A word
keeps its combining marks while it is cut out (FTS5 does the same), so a Hindi or Tamil
word is not split at its vowel signs.

Scripts written without spaces between words (``UNSPACED``: Han, kana, Thai, Lao,
Khmer, Myanmar) are cut into overlapping pairs of characters in every language, as
Lucene's CJK analyzer does: "路线优化" gives 路线 线优 优化, and a lone character is a
term of its own. So is Hangul, as Lucene does too: Korean has spaces, but a word carries
its particles (회사에서, "at the company") and PyStemmer has no Korean. Single
characters beside the pairs were measured and left out: on MLQA-R
(bench/keywords_languages.py) Chinese questions scored nDCG@10 0.328 with them against
the mixed pool, 0.345 without (0.800 and 0.770 against Chinese paragraphs alone), and
every other language lost a little.

A query's language can seldom be told (two words), so ``query_tokens`` gives a word's
terms in each language asked for, and the index asks for those it holds passages in.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable

import Stemmer

# Bumped whenever a text's tokens change: an index saved with another version is rebuilt.
VERSION = 2
PORTER = "porter"  # English and unknown languages, as FTS5
PLAIN = "plain"  # a language without a stemmer: its words as written, folded
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "eo": "esperanto", "es": "spanish", "et": "estonian", "eu": "basque",
    "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian",
    "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "st": "sesotho", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}
# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, Han.
UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
            "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # spaced, but words carry particles
_RUNS = re.compile(f"([{UNSPACED}{_HANGUL}]+)")
UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")  # a text with one has runs, not words
_TOKEN = re.compile(r"[^\W_]+")
# Stemmers keep state while they stem, and PyStemmer holds the GIL throughout: threads
# never use one at once (a free-threaded Python would need one per thread).
_PORTER = Stemmer.Stemmer("porter")  # the 1980 paper's algorithm, in C
_PORTER_STEMS: dict[str, str] = {}  # word -> term
_STEMS: dict[str, dict[str, str]] = {}  # other analyzers: analyzer -> word -> term
_VOWELS = frozenset("aeiou")


@functools.lru_cache(maxsize=1024)
def analyzer_of(language: str | None) -> str:
    """The stemmer for a language code ("de", "pt-BR"), ``PLAIN`` when there is none,
    ``PORTER`` for English and an unknown language."""
    if not language:
        return PORTER
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    if code == "en":
        return PORTER
    name = SNOWBALL.get(code)
    return name if name in _stemmers() else PLAIN


def tokens(text: str, language: str | None = None) -> list[str]:
    """The terms of ``text`` written in ``language`` (None: unknown)."""
    return analyzed(text, analyzer_of(language))


def query_tokens(word: str, analyzers: Iterable[str]) -> list[str]:
    """The distinct terms of one query word as each of ``analyzers`` cuts it."""
    return list(dict.fromkeys(t for a in analyzers for t in analyzed(word, a)))


def analyzed(text: str, analyzer: str) -> list[str]:
    """The terms ``analyzer`` makes of ``text``: words, and pairs where words have no spaces."""
    if text.isascii() or not _RUNS.search(text):
        return _words(text, analyzer)
    found: list[str] = []
    for i, piece in enumerate(_RUNS.split(text)):
        if i % 2:
            found.extend(_pairs(piece))
        elif piece:
            found.extend(_words(piece, analyzer))
    return found


def words(text: str) -> list[str]:
    """The words of ``text`` as written: letters and digits with their combining marks."""
    return (_TOKEN if text.isascii() else _marked_words()).findall(text)


def _pairs(run: str) -> list[str]:
    return [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]


def _words(text: str, analyzer: str) -> list[str]:
    if analyzer == PORTER:
        return _porter_words(text)
    stems = _STEMS.setdefault(analyzer, {})
    return [stems.get(w) or _stem(w, analyzer, stems) for w in words(text)]


def _stem(word: str, analyzer: str, stems: dict[str, str]) -> str:
    """Stem with the language's Snowball stemmer (tokens of 3 to 64 characters, as FTS5
    stems English), then drop the diacritics."""
    lowered = "".join(_fold(c) for c in unicodedata.normalize("NFC", word))
    if analyzer != PLAIN and 3 <= len(lowered) <= 64:
        lowered = _stemmers()[analyzer].stemWord(lowered)
    term = _without_diacritics(lowered)
    if len(stems) < 1_000_000:
        stems[word] = term
    return term


def _porter_words(text: str) -> list[str]:
    """The tokens FTS5's ``porter unicode61 remove_diacritics 2`` tokenizer makes of ``text``."""
    if text.isascii():
        text = text.lower()
    else:  # simple case folding (the micro sign is mu), then diacritics dropped
        text = "".join(_fold(c) for c in unicodedata.normalize("NFD", text)
                       if not unicodedata.combining(c))
    return [_PORTER_STEMS.get(w) or _porter_stem(w) for w in words(text)]


def _without_diacritics(text: str) -> str:
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def _fold(char: str) -> str:
    folded = char.casefold()
    return folded if len(folded) == 1 else char.lower()


def _porter_stem(word: str) -> str:
    """FTS5 stems tokens of 3 to 64 characters and passes the others through."""
    stem = _porter(word) if 3 <= len(word) <= 64 else word
    if len(_PORTER_STEMS) < 1_000_000:
        _PORTER_STEMS[word] = stem
    return stem


def _porter(word: str) -> str:
    """Porter's stemmer as SQLite has it: Martin Porter's C version, which departs from
    the paper in step 2 with "bli" -> "ble" (for "abli" -> "able") and a new
    "logi" -> "log". Those endings survive the paper's later steps unchanged, so
    the paper's stem ends in them exactly when the C version rewrites it; the
    rewritten word then needs only steps 3 to 5 again, which the paper's stemmer
    runs (its steps 1 and 2 leave "-ble" and "-log" alone)."""
    stem = _PORTER.stemWord(word)
    for ending, replacement in (("bli", "ble"), ("logi", "log")):
        if (stem.endswith(ending) and not word.endswith(ending + "e")  # step 5's doing
                and _measure(stem[: -len(ending)]) > 0):
            return _PORTER.stemWord(stem[: -len(ending)] + replacement)
    return stem


def _measure(stem: str) -> int:
    """Porter's m: how many vowel-consonant sequences ``stem`` holds (y after a
    consonant is a vowel)."""
    m, previous_vowel = 0, False
    for i, char in enumerate(stem):
        vowel = char in _VOWELS or (char == "y" and i > 0 and not previous_vowel)
        if previous_vowel and not vowel:
            m += 1
        previous_vowel = vowel
    return m


@functools.cache
def _stemmers() -> dict[str, Stemmer.Stemmer]:
    """The Snowball stemmers of ``SNOWBALL`` this PyStemmer has (an older one lacks some)."""
    available = set(Stemmer.algorithms())
    return {name: Stemmer.Stemmer(name) for name in set(SNOWBALL.values()) & available}


@functools.cache
def _marked_words() -> re.Pattern[str]:
    """Words with their combining marks (every mark in Unicode; built on first use, 0.2 s)."""
    marks, start = [], None
    for point in range(sys.maxunicode + 2):
        is_mark = point <= sys.maxunicode and unicodedata.category(chr(point))[0] == "M"
        if is_mark and start is None:
            start = point
        elif not is_mark and start is not None:
            marks.append(f"{re.escape(chr(start))}-{re.escape(chr(point - 1))}")
            start = None
    mark = f"[{''.join(marks)}]"
    return re.compile(rf"[^\W_]+(?:{mark}+[^\W_]*)*")
