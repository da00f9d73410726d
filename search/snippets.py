"""Snippets: the window of a passage that holds the most query terms, with highlights.

A snippet is plain text: Markdown markup is read away first (``search.markup``), so a
snippet shows what the rendered page shows, and highlights fall on that text.

Scripts written without spaces (Chinese, Japanese, Thai) count each character as a
token here, so a window is measured in characters there and a query's characters
are highlighted where they occur.
"""

from __future__ import annotations

import re

from indexer.tokenizer import UNSPACED, UNSPACED_CHAR
from search.markup import snippet_text
from search.text import stem, terms

_TOKEN = re.compile(f"[{UNSPACED}]|[^\\W_{UNSPACED}]+", re.UNICODE)
MARGIN = 6  # tokens read on each side of the window, so that it can move in plain text
LINE_SLACK = 120  # characters to the line's start or end still worth reading for context
MAX_PARSED = 20_000  # a short text is read whole, up to this


def make_snippet(text: str, query: str, width: int = 40, markdown: bool = True
                 ) -> tuple[str, list[tuple[int, int]]]:
    """(snippet, highlight spans within the snippet) for ``text`` against ``query``;
    ``markdown``: the text may carry Markdown markup, which the snippet leaves out."""
    wanted = _wanted(query)
    text, before, after = _plain(text, wanted, width) if markdown else (text, False, False)
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


def _plain(text: str, wanted: set[str], width: int) -> tuple[str, bool, bool]:
    """The part of ``text`` around its best window, without markup, and whether text was
    left out before and after it.

    Reading Markdown costs about a microsecond a character, and a query shows some 25
    snippets, so only the lines around the window are read: from the start of the line
    where the window (with a margin) starts to the end of the line where it ends. A
    line too long for that is cut at the margin itself.
    """
    tokens = list(_TOKEN.finditer(text))
    if len(tokens) <= width + 2 * MARGIN:
        return snippet_text(text[:MAX_PARSED]), False, len(text) > MAX_PARSED
    hits = [(i, s) for i, m in enumerate(tokens) if (s := stem(m.group())) in wanted]
    start = _best_window(hits, len(tokens), width)
    first = tokens[max(start - MARGIN, 0)].start()
    last = tokens[min(start + width + MARGIN, len(tokens)) - 1].end()
    lo = text.rfind("\n", 0, first) + 1
    hi = text.find("\n", last)
    hi = len(text) if hi < 0 else hi
    lo = lo if first - lo <= LINE_SLACK else first
    hi = hi if hi - last <= LINE_SLACK else last
    return snippet_text(text[lo:hi]), lo > 0, hi < len(text)


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
    return _highlights(text, _wanted(query))


def _wanted(query: str) -> set[str]:
    """The stems of the query's words, and its characters of unspaced scripts."""
    return {stem(t) for t in terms(query)} | set(UNSPACED_CHAR.findall(query))


def _highlights(snippet: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Spans of the tokens in ``wanted``; touching spans (characters of one unspaced
    word) are one."""
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(snippet):
        if stem(m.group()) in wanted:
            if spans and spans[-1][1] == m.start():
                spans[-1] = (spans[-1][0], m.end())
            else:
                spans.append((m.start(), m.end()))
    return spans
