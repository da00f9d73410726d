"""The model's word pieces: how many each word of a text costs, so passages fit its window.

MiniLM reads at most 256 word pieces and drops the rest before embedding. Scientific
or technical text splits into many pieces per word (SciFact: about 1.4), so a passage
sized in words alone can lose its tail from the dense vector. The chunker sizes
passages with these counts instead; BM25 sees every word either way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

SPECIAL_TOKENS = 2  # [CLS] and [SEP] take two places of the window


class WordPieceCounter:
    """Counts word pieces with the model's own ``tokenizer.json`` (loaded on first use)."""

    def __init__(self, tokenizer_file: Path, max_tokens: int = 256) -> None:
        self.tokenizer_file = tokenizer_file
        self.max_tokens = max_tokens
        self._tokenizer = None

    def _load(self):  # noqa: ANN202 - tokenizers.Tokenizer, imported lazily
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._tokenizer

    def count(self, text: str) -> int:
        """Word pieces in ``text``, special tokens not included."""
        return len(self._load().encode(text, add_special_tokens=False).ids)

    def word_costs(self, text: str, words: Sequence[tuple[int, int]]) -> list[int]:
        """Word pieces of each word, given as (start, end) character spans in order."""
        costs = [0] * len(words)
        if not words:
            return costs
        starts = [start for start, _ in words]
        for start, _ in self._load().encode(text, add_special_tokens=False).offsets:
            costs[max(0, bisect_right(starts, start) - 1)] += 1
        return [max(1, c) for c in costs]  # a word the model drops still takes a place

    def passage_budget(self, prefix: str) -> int:
        """Word pieces left for a passage's own text once ``prefix`` (its title line) and
        the special tokens are in; at least half the window, however long the title."""
        room = self.max_tokens - SPECIAL_TOKENS - (self.count(prefix) if prefix else 0)
        return max(room, self.max_tokens // 2)
