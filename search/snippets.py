"""Snippets: the window of a passage that holds the most query terms, with highlights."""

from __future__ import annotations

import re

from search.text import stem, terms

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def make_snippet(text: str, query: str, width: int = 40) -> tuple[str, list[tuple[int, int]]]:
    """(snippet, highlight spans within the snippet) for ``text`` against ``query``."""
    wanted = {stem(t) for t in terms(query)}
    tokens = [(m.start(), m.end(), stem(m.group())) for m in _TOKEN.finditer(text)]
    if not tokens:
        return text[:300], []
    hits = [(i, tok[2]) for i, tok in enumerate(tokens) if tok[2] in wanted]
    start = _best_window(hits, len(tokens), width)
    end = min(start + width, len(tokens))
    lo, hi = tokens[start][0], tokens[end - 1][1]
    snippet = " ".join(text[lo:hi].split())
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(tokens) else ""
    shown = prefix + snippet + suffix
    return shown, _highlights(shown, wanted)


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
