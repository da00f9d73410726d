"""The language a text is written in: a document's at ingest, when its record does not
say, and a question's, for its stop words (indexer.stopwords). An ISO 639-1 code ("de",
"pt", "zh") or None, because a wrong guess costs more than none (the document is then
filtered out of its own language, and stemmed by another's rules).

Lingua (``lingua-language-detector``) detects it, over its 75 languages but Latin, in
its low accuracy mode, and a guess is kept only when lingua's confidence in it is at
least ``MIN_CONFIDENCE``. Measured by bench/language_detection.py (right: of the texts
given a guess):

    lingua mode,       MLQA-R paragraphs   MLQA-R questions    SciFact titles
    confidence         (3,646; 7 langs)    (4,199; 7 langs)    (5,183; English)
                       right   no guess    right   no guess    right   no guess
    low, >= 0.99 *     99.1%   1.5%        99.2%   26.9%       97.7%   30.4%
    low, >= 0.9        98.9%   0.7%        97.7%   16.2%       94.2%   17.7%
    low, any           98.5%   0           91.3%   0           85.9%   0
    high, any          98.7%   0           96.6%   0           96.3%   0
    high, >= 0.5       99.0%   0.7%        98.1%   19.3%       99.3%   18.9%

Most paragraphs "wrong" are labelled wrongly (an English bibliography in the Arabic
Wikipedia). Short technical English is what lingua takes for another language: a
SciFact title for Esperanto, French or Tagalog, "kafka pentest secret appendix" for
French (confidence 0.92). Length does not tell those apart (at 0.9, titles of 40
letters or more are as often wrong as shorter ones, 5.6% against 5.8%), the
confidence does; "Die neue Tourenplanung" is German at 1.0. SciFact's abstracts are
all English at any threshold.

The high accuracy mode is right more often on short texts, but holds 1.2 GB of models
once every script has been seen (lingua loads a language's models on first need) and
takes 9 to 15 s to load them all. The low mode's models for every language are loaded
when the detector is built, in about 0.5 s and 75 MB (loaded on first need instead, a
question's stop words would wait for them inside a search); it detects a paragraph in
1.5 to 3 ms, a question in 0.2 ms, a SciFact abstract (its first 1,000 characters) in 3.5 to 7 ms,
where embedding one takes 34 ms (ONNX int8 MiniLM, bench/results/embed_throughput.json).

Only the first ``HEAD_CHARS`` characters are read: a document states its language early
(MLQA-R's paragraphs are told as well from 500 characters as from 3,000; SciFact's
abstracts are all English from 500, 11 of 5,183 are not at 300). A mixed document is
the language of most of those letters: the head is cut into blocks of lines of about
``BLOCK_CHARS`` characters, each block detected alone, and a language needs more than
half the letters of the blocks told with confidence. (Lingua over the whole of a text
four fifths English and one fifth Chinese confidently answers Chinese 24 times in 40.
By blocks, two MLQA-R paragraphs of two languages one after the other are the language
with more letters 51 to 58 times in 60, for English with German, Chinese, Arabic or
Spanish.) Keyword search then stems the whole document by that language's rules: its
passages in the other language are found by their words as written, or by a stem the
two languages share.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

ENGLISH = "en"  # the code of the language the default model reads, and most corpora use
HEAD_CHARS = 1000
BLOCK_CHARS = 200
MIN_CONFIDENCE = 0.99
# No company writes in Latin, and lingua finds it in scientific English (5 of SciFact's
# abstracts at confidence 0.9).
LEFT_OUT = (Language.LATIN,)

# A language a corpus holds: at least this share of its passages, and this many of them.
# Stray guesses stay under both (DBLP's 4 French and 4 German passages, 0.19% each;
# android's one Dutch and one Lithuanian); the demo's German and Portuguese notes
# (6 and 5 of 531 passages) are held.
MIN_SHARE = 0.005
MIN_HELD = 5

_detector: LanguageDetector | None = None
_building = threading.Lock()


def held(counts: Mapping[str | None, int]) -> list[str]:
    """The languages a corpus holds, from its passages per language (None: not told),
    in the order of ``counts``."""
    total = sum(counts.values())
    return [language for language, n in counts.items()
            if language and n >= MIN_HELD and n >= MIN_SHARE * total]


def document_language(given: str | None, body: str) -> str | None:
    """The language a record gives (lowercased), else the one detected in ``body``."""
    given = (given or "").strip().lower()
    return given or detect_language(body)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language of most of ``text``'s head, or None when no
    language is told with confidence."""
    letters: Counter[str] = Counter()
    for block in _blocks(text[:HEAD_CHARS]):
        language = _confident_language(block)
        if language is not None:
            letters[language] += sum(c.isalpha() for c in block)
    if not letters:
        return None
    language, count = letters.most_common(1)[0]
    return language if 2 * count > sum(letters.values()) else None


def likely_language(text: str) -> tuple[str | None, float]:
    """Lingua's most likely language for a short text (a question) and its confidence,
    however low; (None, 0.0) when it tells none. A question's stop words use it
    (search.text), with their own rule for a guess under ``MIN_CONFIDENCE``."""
    found = detector().compute_language_confidence_values(text)
    if not found:
        return None, 0.0
    return found[0].language.iso_code_639_1.name.lower(), float(found[0].value)


def detector() -> LanguageDetector:
    """The detector, built once per process by the first thread that needs it."""
    global _detector
    if _detector is None:
        with _building:
            if _detector is None:
                _detector = (LanguageDetectorBuilder.from_all_languages_without(*LEFT_OUT)
                             .with_low_accuracy_mode().with_preloaded_language_models()
                             .build())
    return _detector


def _confident_language(text: str) -> str | None:
    found = detector().compute_language_confidence_values(text)
    if not found or found[0].value < MIN_CONFIDENCE:
        return None
    return found[0].language.iso_code_639_1.name.lower()


def _blocks(text: str) -> Iterator[str]:
    """Consecutive lines joined until they reach ``BLOCK_CHARS`` characters."""
    block = ""
    for line in text.splitlines():
        block = f"{block}\n{line}" if block else line
        if len(block) >= BLOCK_CHARS:
            yield block
            block = ""
    if block.strip():
        yield block
