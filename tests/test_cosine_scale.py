"""Cosines on one scale: a model whose cosines run high declares a floor, and the lines
drawn on a cosine (weak match, evidence about the question, skill matches) read its
cosines rescaled onto MiniLM's scale; the dense retriever's floor reads the model's own."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CountingEmbedder, write

from indexer.embedders import E5Embedder, cosine_floor, rescale
from indexer.indexes import DerivedIndexes
from indexer.store import Store
from ingest.pipeline import Ingester
from search.experts import ExpertRanker
from search.retrieval import Searcher


class HighCosines(CountingEmbedder):
    """The hashing embedder with every vector pulled towards one shared direction, as
    e5's are: unrelated texts get a cosine of about ``floor``, and it says so."""

    def __init__(self, floor: float) -> None:
        super().__init__(64)
        self.name = "high-cosines"
        self.cosine_floor = floor
        self.shared = np.zeros(64, dtype=np.float32)
        self.shared[0] = 1.0

    def embed(self, texts):
        words = super().embed(texts)
        words[:, 0] = 0.0  # the shared direction is theirs alone
        words /= np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-9)
        # cos(a, b) = floor + (1 - floor) * cos_words(a, b) for unit a, b
        out = np.sqrt(self.cosine_floor) * self.shared + np.sqrt(1 - self.cosine_floor) * words
        return out.astype(np.float32)


def test_a_floor_of_zero_leaves_cosines_as_they_are():
    cosines = np.array([-0.2, 0.0, 0.4, 1.0])
    assert rescale(cosines, 0.0) is cosines
    assert cosine_floor(CountingEmbedder()) == 0.0


def test_e5s_weak_match_line_is_minilms_on_the_common_scale():
    floor = cosine_floor(E5Embedder())
    assert rescale(0.84, floor) == pytest.approx(0.40, abs=1e-3)
    assert rescale(1.0, floor) == pytest.approx(1.0)


@pytest.fixture
def high(tmp_path):
    write(tmp_path, "docs.jsonl", "\n".join([
        '{"id": "d1", "title": "Kafka retention", "body": "kafka retention audit",'
        ' "authors": ["p-ana"]}',
        '{"id": "d2", "title": "Payroll", "body": "payroll calendar finance",'
        ' "authors": ["p-cy"]}',
    ]))
    write(tmp_path, "people.yaml", """
        - {id: p-ana, type: person, name: Ana, skills: [{name: Kafka, level: 5}]}
        - {id: p-cy, type: person, name: Cy, skills: [{name: Payroll, level: 5}]}
        """)
    embedder = HighCosines(floor=0.75)
    store = Store.memory()
    Ingester(store, embedder).ingest([tmp_path])
    return store, embedder


def test_dense_scores_are_rescaled_and_the_retrievers_floor_reads_the_models_own(high):
    store, embedder = high
    searcher = Searcher(store, DerivedIndexes.build(store, embedder.dim), embedder)
    ranking = searcher.retrieve("kafka retention", mode="dense")
    raw = float(embedder.embed(["kafka retention"])[0] @ embedder.embed(
        ["Kafka retention\nkafka retention audit"])[0])
    assert ranking[0].doc_id == "d1"
    assert ranking[0].dense == pytest.approx((raw - 0.75) / 0.25, abs=1e-5)
    # Payroll shares no word: its raw cosine is the floor, 0.75, over the retriever's
    # 0.2 on the model's own scale (where e5 keeps answers in another language), and 0
    # on the common scale, which weak match reads.
    assert ranking[1].doc_id == "d2" and ranking[1].dense == pytest.approx(0.0, abs=1e-5)


def test_skills_match_on_the_common_scale(high):
    store, embedder = high
    ranker = ExpertRanker(store, embedder)
    query = "kafka"
    vector = embedder.embed([query])[0]
    searcher = Searcher(store, DerivedIndexes.build(store, embedder.dim), embedder)
    experts = ranker.rank(query, searcher.retrieve(query), vector, limit=5)
    # Cy's Payroll skill has a raw cosine of 0.75 with "kafka": over the 0.5 skill line
    # unscaled, nothing at all once rescaled. Ana's Kafka skill is named in the query.
    assert [e.id for e in experts] == ["p-ana"]
    assert [s["name"] for s in experts[0].skills] == ["Kafka"]


def test_similar_questions_share_verdicts_on_the_common_scale():
    from indexer.feedback import FeedbackLog
    from search.feedback import Feedback, FeedbackSettings

    embedder = HighCosines(floor=0.75)
    log = FeedbackLog(Store.memory())
    log.add("kafka consumer lag", embedder.embed(["kafka consumer lag"])[0], "helped", "d1",
            "u1")
    line = FeedbackSettings(similarity=0.4, half_life_days=0)
    unrelated = embedder.embed(["payroll calendar"])[0]  # raw cosine 0.75, over the line
    assert Feedback(log, line).effects(unrelated, "document") != {}
    assert Feedback(log, line, cosine_floor(embedder)).effects(unrelated, "document") == {}
    near = embedder.embed(["kafka consumer lag alerts"])[0]
    assert Feedback(log, line, cosine_floor(embedder)).effects(near, "document")["d1"].helped


def test_search_topics_group_questions_on_the_common_scale():
    from indexer.query_log import LoggedQuery
    from search.analytics import search_topics

    embedder = HighCosines(floor=0.75)
    texts = ["kafka consumer lag", "kafka consumer lag alerts", "payroll calendar"]
    entries = [LoggedQuery(i, text, vector, "2026-11-30", f"u{i}", 0.5, False, 3, ())
               for i, (text, vector) in enumerate(zip(texts, embedder.embed(texts), strict=True))]
    # Unscaled, "payroll calendar" (0.75 with either) joins the kafka topic; rescaled,
    # the two kafka questions (0.97, 0.87 rescaled) are one topic and payroll its own.
    assert len(search_topics(entries, [], min_askers=1)) == 1
    topics = search_topics(entries, [], min_askers=1, cosine_floor=0.75)
    assert sorted(t["searches"] for t in topics) == [1, 2]
