"""A BERT-style encoder exported to ONNX, run by onnxruntime: texts in, unit vectors out.

Shared by the ONNX embedders (MiniLM, multilingual-e5). Texts are tokenised
with the model's own ``tokenizer.json`` and cut at its window, sorted by
length and batched so that little is spent on padding; the token vectors are
mean-pooled over the real tokens and L2-normalised, as the sentence-transformers
pipeline does (Transformer, Pooling(mean), Normalize).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedders.protocol import normalise
from indexer.errors import WhoknowsError

BATCH_TOKENS = 8192  # padded tokens per batch: long texts go in small batches
MAX_BATCH = 64


class OnnxEncoder:
    """One loaded ONNX model and its tokenizer, on ``threads`` threads; ``window`` is
    where texts are cut (special tokens included), ``dim`` the width of its vectors."""

    def __init__(self, model_file: Path, tokenizer_file: Path, window: int, threads: int,
                 dim: int) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - an install problem
            raise WhoknowsError("onnxruntime is not installed",
                                "pip install -e . installs it") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_file), options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dim = dim
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(max_length=window)
        tokenizer.no_padding()
        self.tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        for batch in length_batches([len(ids) for ids in encodings]):
            out[batch] = self._pooled([encodings[i] for i in batch])
        return normalise(out)

    def _pooled(self, rows: list[list[int]]) -> np.ndarray:
        """The mean of each row's token vectors, padding left out."""
        ids = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for n, row in enumerate(rows):
            ids[n, :len(row)] = row
            mask[n, :len(row)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def length_batches(lengths: Sequence[int], budget: int = BATCH_TOKENS,
                   max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices grouped by similar length, each group's padded size within ``budget``."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:  # ascending, so the newest member is the widest
        if current and (len(current) + 1) * lengths[i] > budget or len(current) == max_batch:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
