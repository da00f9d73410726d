"""Split long text into overlapping passages along headings, paragraphs and sentences.

MiniLM reads at most 256 word pieces (about 180 English words), so a long
document is cut into passages of at most ``max_words`` words and, given each word's
cost in word pieces (``word_costs``), at most ``budget`` pieces. A passage ends,
by preference, where a section starts, else at a paragraph end, else at a
sentence end; consecutive passages of one section share ``overlap`` words so a
sentence cut at a boundary is still whole in one of them. Passages are spans of
the original text, so a snippet can point back into the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\S+")
_HEADING = re.compile(r"^(#{1,6}\s|[A-Z][^\n]{0,80}\n[=-]{3,})", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?:;][\"')\]]*$")

# Break strengths: a section start beats a paragraph end beats a sentence end.
HEADING, PARAGRAPH, SENTENCE, NONE = 3, 2, 1, 0


@dataclass(frozen=True)
class Span:
    start: int
    end: int


WordCosts = Callable[[str, Sequence[tuple[int, int]]], list[int]]


def split_chunks(text: str, max_words: int = 180, overlap: int = 30,
                 min_words: int = 60, word_costs: WordCosts | None = None,
                 budget: int | None = None) -> list[Span]:
    """Character spans of the passages of ``text``, in order, covering every word.

    ``word_costs(text, words)`` gives each word's cost (the model's word pieces); no
    passage then costs more than ``budget`` unless a single word does."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    strength = _break_strengths(text, words)
    ends = _reach(word_costs(text, words), budget) if word_costs and budget else None
    spans: list[Span] = []
    i, n = 0, len(words)
    while i < n:
        limit = min(i + max_words, ends[i] if ends else n)
        if limit >= n:
            spans.append(Span(words[i][0], words[-1][1]))
            break
        cut = _best_break(strength, i + max(1, min(min_words, limit - i - 1)), limit)
        spans.append(Span(words[i][0], words[cut - 1][1]))
        # No overlap across a section start: the next section stands on its own.
        back = 0 if strength[cut] == HEADING else min(overlap, (cut - i) // 2)
        i = cut - back
    return spans


def _reach(costs: list[int], budget: int) -> list[int]:
    """ends[i]: the furthest end (exclusive) of a passage that starts at word i and costs
    at most ``budget``; always past i, so an over-long word gets a passage of its own."""
    ends, end, total = [0] * len(costs), 0, 0
    for i in range(len(costs)):
        if end < i + 1:
            end, total = i + 1, costs[i]
        while end < len(costs) and total + costs[end] <= budget:
            total += costs[end]
            end += 1
        ends[i] = end
        total -= costs[i]
    return ends


def _break_strengths(text: str, words: list[tuple[int, int]]) -> list[int]:
    """strength[k]: how good it is to start a passage at word k (k == len: the end)."""
    heading_starts = {m.start() for m in _HEADING.finditer(text)}
    strength = [NONE] * (len(words) + 1)
    strength[len(words)] = HEADING
    for k in range(1, len(words)):
        prev_end, start = words[k - 1][1], words[k][0]
        gap = text[prev_end:start]
        if start in heading_starts and "\n" in gap:
            strength[k] = HEADING
        elif gap.count("\n") >= 2:
            strength[k] = PARAGRAPH
        elif _SENTENCE_END.search(text[words[k - 1][0]:prev_end]):
            strength[k] = SENTENCE
    return strength


def _best_break(strength: list[int], lo: int, hi: int) -> int:
    """The strongest break in [lo, hi], the latest among equals."""
    best = hi
    for k in range(hi, lo - 1, -1):
        if strength[k] > strength[best]:
            best = k
    return best
