"""A question's words in the case its corpus writes them, for a model that reads case.

multilingual-e5 keeps case: to its tokenizer "gdpr" and "GDPR" are different word
pieces, and people type in lowercase. Over the demo company, "gdpr" met its closest
passage at 0.33 (a page on EDIFACT messages: "nothing here is clearly about it") and
"GDPR" the GDPR guides at 0.57 and 0.53 (docs/benchmarks.md, "A question in the
corpus's case"). So before such a model reads a question, each word typed all in
lowercase takes the form the corpus writes it in: among the passages that hold the word
(BM25's best ``SAMPLE``, of documents open to everyone, so that no restricted document
shapes anyone's question), the most common form inside a sentence, where it is seen at
least ``MIN_SEEN`` times and none of them writes the word in lowercase ("gdpr" ->
"GDPR", "kubernetes" -> "Kubernetes", "lgpd" -> "LGPD").

A word written both ways has two readings, and stays as typed (German "macht" and
"Macht", "leben" and "Leben"); so does an English word (symspellpy's list, as the speller
reads it): the passages that hold "air" or "act" most are often those that write AIR or
ACT, an acronym of something else. So does a word the user wrote with a capital. A word
in lowercase in code is not a second reading of it (``in_code``: "```sql" opening a code
block, the service "edi-gateway", the path "/edi/outbound"), so the demo's "sql" and "edi"
take the case its prose writes them in, "SQL" and "EDI". (Only the lowercase form is
read so: "HIV-1" still counts for "hiv".)

MiniLM lowercases every text itself: for it nothing changes, and nothing is read.
"""

from __future__ import annotations

import re
from collections import Counter

from indexer.keywords import KeywordIndex
from indexer.records import OPEN_TO_EVERYONE
from indexer.store import Store
from search.spelling import QUERY_WORD, english_words
from search.text import MAX_TERMS, terms

SAMPLE = 100  # passages read per word
MIN_SEEN = 3  # times a form must be seen to stand for the word
_SENTENCE_END = (".", "!", "?", ":", "#", "\n")
_CODE_BEFORE = frozenset("`/-_.@$")  # a word right after one of these is in code
_CODE_JOINS = frozenset("-/_@")  # and one joined by one of these to what follows


def truecased(query: str, keywords: KeywordIndex, store: Store) -> str:
    """``query`` with each word typed in lowercase in the case the corpus writes it."""
    typed = {m.group() for m in QUERY_WORD.finditer(query)}
    forms: dict[str, str] = {}
    for word in typed.intersection(terms(query)[:MAX_TERMS]):  # no stop words
        if word.islower() and not word.isdigit() and word not in english_words():
            form = written_as(word, keywords, store)
            if form != word:
                forms[word] = form
    if not forms:
        return query
    return QUERY_WORD.sub(lambda m: forms.get(m.group(), m.group()), query)


def written_as(word: str, keywords: KeywordIndex, store: Store) -> str:
    """The form of ``word`` (lowercase) that the open passages holding it use most inside a
    sentence, where it is seen ``MIN_SEEN`` times and never in lowercase; else ``word``."""
    hits = keywords.search([word], SAMPLE)
    readable = store.chunk_documents((c for c, _ in hits), OPEN_TO_EVERYONE)
    pattern = re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", re.IGNORECASE)
    seen: Counter[str] = Counter()
    for chunk in store.get_chunks(readable).values():
        text = chunk["text"]
        for match in pattern.finditer(text):
            form = match.group()
            if not (_starts_sentence(text, match.start())
                    or form == word and in_code(text, match)):
                seen[form] += 1
    if not seen:
        return word
    form, count = seen.most_common(1)[0]
    # Written in lowercase too, the word has two readings (macht, Macht); seen once or
    # twice, it may be a name that borrows it ("das Zerstören").
    return word if seen[word] or count < MIN_SEEN else form


def in_code(text: str, match: re.Match[str]) -> bool:
    """Whether the word ``match`` found is part of code rather than prose: it follows a
    backtick, a slash, a hyphen, an underscore, a dot, "@" or "$" (a code block's language,
    inline code, a path, an identifier), or is joined to what follows by a hyphen, a slash,
    an underscore, "@" or a dot before a letter or digit ("edi-gateway", "schema.sql")."""
    before = text[match.start() - 1:match.start()]
    after = text[match.end():match.end() + 2]
    return (before in _CODE_BEFORE or after[:1] in _CODE_JOINS
            or after[:1] == "." and after[1:].isalnum())


def _starts_sentence(text: str, at: int) -> bool:
    """Whether the word at ``at`` opens the text, a sentence, a heading or a line (where
    a capital says nothing about the word)."""
    before = text[:at].rstrip(" \t*-_\"'(¿¡")
    return not before or before.endswith(_SENTENCE_END)
