"""Embedders: the onnxruntime paths against the sentence-transformers reference,
length batching, and which embedder a data folder gets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.runtime import Runtime
from api.settings import Settings
from indexer.embedder import HashingEmbedder, kind_of, make_embedder
from indexer.errors import IndexMismatch, WhoknowsError
from indexer.onnx_embedder import OnnxEmbedder, length_batches

TEXTS = [
    "Kafka consumer lag grows when a partition rebalances during a deploy.",
    "Route optimisation for last-mile delivery vans",
    "gdpr",
    "A much longer passage about incident response. " * 40,  # past 256 tokens: truncated
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return make_embedder("minilm").embed(TEXTS)


@pytest.mark.integration
@pytest.mark.parametrize(("quantised", "floor"), [(False, 0.9999), (True, 0.98)])
def test_onnx_matches_the_reference_model(tmp_path_factory, reference, quantised, floor):
    embedder = OnnxEmbedder(tmp_path_factory.getbasetemp() / "models", quantised=quantised)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() > floor, cosines
    # One text alone and inside a padded batch: the same vector in fp32. In int8 the
    # activations' scale is taken over the whole batch, so batch mates move it a little.
    alone = embedder.embed([TEXTS[1]])[0]
    assert float(alone @ vectors[1]) > floor


@pytest.mark.integration
def test_the_export_is_cached_and_reused(tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "models"
    OnnxEmbedder(cache).embed(["warm"])
    files = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")}
    assert any(name.endswith("-int8.onnx") for name in files)
    OnnxEmbedder(cache).embed(["again"])
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")} == files
    assert not list(cache.glob("*.part"))  # no temporary files left behind


@pytest.mark.integration
def test_an_int8_export_keeps_only_the_int8_file(tmp_path):
    OnnxEmbedder(tmp_path).embed(["warm"])
    assert [p.name.rsplit("-", 1)[1] for p in tmp_path.iterdir()] == ["int8.onnx"]


@given(st.lists(st.integers(1, 256), max_size=300), st.integers(256, 4096))
def test_length_batches_cover_every_text_once_within_budget(lengths, budget):
    batches = length_batches(lengths, budget=budget, max_batch=32)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= 32
        width = max(lengths[i] for i in batch)
        # A batch over budget is only ever a single text.
        assert len(batch) * width <= budget or len(batch) == 1


def test_length_batches_group_similar_lengths():
    lengths = [200, 3, 190, 4, 5, 210]
    assert length_batches(lengths, budget=600) == [[1, 3, 4], [2, 0], [5]]
    # 3 texts of width 5 = 15 tokens; 190 then 200 wide: 2 x 200 = 400; 210 alone.


@pytest.mark.parametrize(("name", "kind"), [
    ("all-MiniLM-L6-v2", "minilm"), ("all-MiniLM-L6-v2/onnx-int8", "onnx-int8"),
    ("all-MiniLM-L6-v2/onnx-fp32", "onnx-fp32"), ("hashing-64", "hashing-64")])
def test_a_recorded_name_gives_back_its_embedder(name, kind):
    assert kind_of(name) == kind
    if not kind.startswith("hashing"):
        assert make_embedder(kind).name == name  # cheap: models load lazily


@pytest.mark.parametrize("kind", ["bert", "hashing-x", ""])
def test_an_unknown_embedder_is_a_clear_error(kind):
    with pytest.raises(WhoknowsError, match="unknown embedder"):
        make_embedder(kind)


def test_a_data_folder_keeps_the_embedder_it_was_built_with(tmp_path):
    built = Runtime.open(Settings(data_dir=tmp_path, embedder="hashing-64"))
    built.store.bind_embedder("hashing-64", 64)
    # No setting: the recorded embedder, not the default.
    again = Runtime.open(Settings(data_dir=tmp_path))
    assert isinstance(again.embedder, HashingEmbedder) and again.embedder.dim == 64
    with pytest.raises(IndexMismatch, match="hashing-64") as error:
        Runtime.open(Settings(data_dir=tmp_path, embedder="onnx-int8"))
    assert "hashing-64" in error.value.hint


def test_a_new_data_folder_gets_the_default_embedder(tmp_path):
    runtime = Runtime.open(Settings(data_dir=tmp_path / "fresh"))
    assert runtime.embedder.name == "all-MiniLM-L6-v2/onnx-int8"
