"""Whether what met a short question holds its subject: one half of ``weak_match``'s
"touched on, not about it" (search/answers.py, ``weak``).

A question of a word or two typed into the search box names its subject, and a
passage about it holds all its words. A corpus that does not cover the question may
still meet it close in meaning through one of them: DBLP's telecom papers meet
"on-call handbook" at 0.43, its agent-modelling papers "threat modeling" at 0.43, over
MiniLM's line (0.40), the 3 closest close enough on average. When no passage of the
closest documents holds every word, what was found rides on some of them. Words count
as BM25 counts them (their stems, in the index's languages: android's 325 passages with
"access" hold "accessibility").

Chosen on the tuning halves of bench/weak_match.py (docs/benchmarks.md), each the
widest reach that keeps every corpus's own questions at most 5% flagged: questions of at
most ``SHORT_QUESTION`` content words (the longest; 3 flag 6.5% of android's own
titles), asked of the ``SUBJECT_DOCUMENTS`` closest documents (the fewest; the 3 or 5
closest flag 5.2%). All the words in one passage (session 17) flags the same share of
every corpus's own tuning questions as the rarest word alone did (session 16), and more
of the others' (96.5% against 96.0%). The numbers count words and documents, not
cosines, and multilingual-e5 takes them as chosen for MiniLM (on its own tuning halves
the rule would take 3 words in 3 documents). Words tell nothing across languages, and
e5 meets a question in one language with passages in another ("Quem sabe de previsão
de demanda?" with the English forecasting lessons): the subject is asked only where
every closest passage is in the question's language, as its stop words tell it, or else
in a language its words are written in there (and not of a question none of whose words
the corpus writes), nor of one written without spaces between words (Chinese, whose
terms are runs of characters). Models whose line was not calibrated (the tests' hashing one) do not
ask it (search/answers.py, ``asks_subject``). The passages asked are those of the
caller's own ranking, so only documents the caller may read decide it.
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
                  most_words: int = SHORT_QUESTION, documents: int = SUBJECT_DOCUMENTS
                  ) -> bool:
    """Whether a question of 1 to ``most_words`` content words has no passage among the
    first ``documents`` of ``passages`` (chunk ids: the passages that met the closest
    documents, the closest first) that holds every one of its words. Not asked (False)
    where one of those passages is in another language than the question's:
    ``language``, where its stop words tell it (``search.text.question_language``),
    else those its words are written in. Nor of a question written in a script without
    spaces between words (Chinese, Japanese, Thai): its terms are runs of characters, and
    a run of a dozen is a whole question (over MLQA-R, 7 of 504 Chinese questions with
    their answer in the pool were flagged through the words rule alone)."""
    if not 0 < len(question_terms) <= most_words or any(
            UNSPACED_CHAR.search(term) for term in question_terms):
        return False  # long, or written without spaces (Chinese): no words to count
    held = [keywords.holding(term) for term in question_terms]
    met = np.asarray(list(passages[:documents]), np.int64)
    written_in = {language} if language else keywords.languages_of(np.concatenate(held))
    if not written_in or not keywords.languages_of(met) <= written_in:
        return False  # met across languages (or no word the corpus writes): not for words
    for chunks in held:
        met = met[np.isin(met, chunks)]
    return len(met) == 0
