"""Whether what met a short question holds its subject: one half of ``weak_match``'s
"touched on, not about it" (search/answers.py, ``weak``).

A question of a word or two typed into the search box names its subject, and its
rarest word is the one that says which: over DBLP's papers "on-call handbook" is about
handbooks (2 passages hold "handbook", 99 "call") and "threat modeling" about threats
(5 against 477). A corpus that does not cover the question may still meet it close in
meaning through the common word: DBLP's telecom papers meet "on-call handbook" at 0.43,
its agent-modelling papers "threat modeling" at 0.43, over MiniLM's line (0.40), the 3
closest close enough on average. When none of the closest documents' passages holds the
rarest word, what was found rides on the other one. Words count as BM25 counts them
(their stems, in the index's languages: android's 325 passages with "access" hold
"accessibility").

Chosen on the tuning halves of bench/weak_match.py (docs/benchmarks.md), each the
widest reach that keeps every corpus's own questions at most 5% flagged: questions of at
most ``SHORT_QUESTION`` content words (the longest; 3 flag 5.9% of android's own
titles), asked of the ``SUBJECT_DOCUMENTS`` closest documents (the fewest; the 3 or 5
closest flag 5.04%). They count words and documents, not cosines, and multilingual-e5
takes them as chosen for MiniLM (on its own tuning halves the rule would take 4 words
in 3 documents, which flags 8.0% of android's reported own titles). Words tell nothing
across languages, and e5 meets a question in one language with passages in another
("Quem sabe de previsão de demanda?" with the English forecasting lessons): the subject
is asked only where every closest passage is in the question's language, as its stop
words tell it, or else in a language its words are written in there (and not of a
question none of whose words the corpus writes, nor of one written without spaces
between words: Chinese terms are runs of characters). Models whose line was not
calibrated (the tests' hashing one) do not ask it (search/answers.py, ``asks_subject``). Only the
passages the caller may read are counted (``readable``): no restricted document decides
a reader's subject.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.keywords import KeywordIndex
from indexer.tokenizer import UNSPACED_CHAR

SHORT_QUESTION = 2  # content words (search.text.terms)
SUBJECT_DOCUMENTS = 10  # the closest documents, a page of results, that must hold it


def subject_unmet(question_terms: Sequence[str], passages: Sequence[int],
                  keywords: KeywordIndex, language: str | None = None,
                  readable: np.ndarray | None = None, most_words: int = SHORT_QUESTION,
                  documents: int = SUBJECT_DOCUMENTS) -> bool:
    """Whether a question of 1 to ``most_words`` content words has a rarest word (held by
    the fewest passages of ``keywords``; any of them, when several tie) that none of the
    first ``documents`` of ``passages`` holds (chunk ids: the passages that met the
    closest documents, the closest first). Not asked (False) where one of those passages
    is in another language than the question's: ``language``, where its stop words tell
    it (``search.text.question_language``), else those its words are written in.
    ``readable``: the chunk ids the caller may read (None: every passage), the only ones
    counted, so that no document the caller may not read decides the subject. Not asked
    of a question written in a script without spaces between words (Chinese, Japanese,
    Thai): its terms are runs of characters, and a run of a dozen is a whole question
    (over MLQA-R, 5 of 504 Chinese questions with their answer in the pool were flagged
    through their subject alone)."""
    if not 0 < len(question_terms) <= most_words or any(
            UNSPACED_CHAR.search(term) for term in question_terms):
        return False  # long, or written without spaces (Chinese): no words to count
    held = {term: keywords.holding(term) for term in question_terms}
    if readable is not None:
        held = {term: chunks[np.isin(chunks, readable, assume_unique=True)]
                for term, chunks in held.items()}
    met = np.asarray(list(passages[:documents]), np.int64)
    written_in = ({language} if language
                  else keywords.languages_of(np.concatenate(list(held.values()))))
    if not written_in or not keywords.languages_of(met) <= written_in:
        return False  # met across languages (or no word the corpus writes): not for words
    fewest = min(len(chunks) for chunks in held.values())
    return any(not np.isin(met, chunks).any()
               for chunks in held.values() if len(chunks) == fewest)
