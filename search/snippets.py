"""Snippets: the window of a passage that holds the most query terms, with highlights.

A snippet is plain text: Markdown markup is read away first (``search.markup``), so a
snippet shows what the rendered page shows, and highlights fall on that text.
"""

from __future__ import annotations

import re

from search.markup import markdown_text
from search.text import stem, terms

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Passages are far shorter; a whole body (a document with no passage to show) is read
# from the paragraph of its first hit on, so that a huge file costs no more than this.
MAX_PARSED = 20_000


def make_snippet(text: str, query: str, width: int = 40) -> tuple[str, list[tuple[int, int]]]:
    """(snippet, highlight spans within the snippet) for ``text`` against ``query``."""
    wanted = {stem(t) for t in terms(query)}
    text, before, after = _plain(text, wanted)
    tokens = [(m.start(), m.end(), stem(m.group())) for m in _TOKEN.finditer(text)]
    if not tokens:
        return text[:300], []
    hits = [(i, tok[2]) for i, tok in enumerate(tokens) if tok[2] in wanted]
    start = _best_window(hits, len(tokens), width)
    end = min(start + width, len(tokens))
    lo, hi = tokens[start][0], tokens[end - 1][1]
    snippet = " ".join(text[lo:hi].split())
    prefix = "… " if start > 0 or before else ""
    suffix = " …" if end < len(tokens) or after else ""
    shown = prefix + snippet + suffix
    return shown, _highlights(shown, wanted)


def _plain(text: str, wanted: set[str]) -> tuple[str, bool, bool]:
    """The text without markup, and whether text was left out before and after it."""
    if len(text) <= MAX_PARSED:
        return markdown_text(text), False, False
    first = next((m.start() for m in _TOKEN.finditer(text) if stem(m.group()) in wanted), 0)
    start = text.rfind("\n\n", 0, first) + 1  # 0 when there is no blank line before
    end = start + MAX_PARSED
    return markdown_text(text[start:end]), start > 0, end < len(text)


def _best_window(hits: list[tuple[int, str]], n: int, width: int) -> int:
    """Start of the ``width``-token window with the most distinct query terms, then the
    most hits (earliest among equals)."""
    if not hits:
        return 0
    best_start, best_key = 0, (0, 0)
    for i, (first, _) in enumerate(hits):
        inside = [term for at, term in hits[i:] if at < first + width]
        key = (len(set(inside)), len(inside))
        if key > best_key:
            best_key, best_start = key, first
    # Show a little context before the first hit rather than starting on it.
    return max(0, min(best_start - 5, n - width))


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where the query's terms (or words with the same stem) occur in ``text``."""
    return _highlights(text, {stem(t) for t in terms(query)})


def _highlights(snippet: str, wanted: set[str]) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _TOKEN.finditer(snippet) if stem(m.group()) in wanted]
