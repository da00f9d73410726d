import numpy as np
import pytest
from conftest import write

from search.experts import ExpertRanker, ExpertWeights, _min_max
from search.retrieval import DocScore


@pytest.fixture
def ranker(tmp_path, ingester, store, embedder):
    write(tmp_path, "people.yaml", """
        - {id: a, type: person, name: A}
        - {id: b, type: person, name: B}
        - {id: c, type: person, name: C}
        - {id: h, type: person, name: H, visible: false}
        """)
    write(tmp_path, "docs.jsonl", "\n".join([
        '{"id": "d1", "body": "alpha", "authors": ["a"]}',
        '{"id": "d2", "body": "beta", "authors": ["a", "b"]}',
        '{"id": "d3", "body": "gamma", "authors": ["c", "h"]}',
        '{"id": "d4", "body": "delta", "authors": ["h"]}']))
    ingester.ingest([tmp_path])
    only_evidence = ExpertWeights(evidence=1.0, focus=0.0, profile=0.0, activity=0.0)
    return ExpertRanker(store, embedder, only_evidence)


def test_votes_are_shared_among_authors_and_scaled_over_candidates(ranker, embedder):
    ranking = [DocScore("d1", 1.0), DocScore("d2", 0.5), DocScore("d3", 0.0),
               DocScore("d4", 0.9)]
    hits = ranker.rank("x", ranking, embedder.embed(["x"])[0], limit=10)
    # votes: a = 1.0 + 0.5 / 2 = 1.25, b = 0.5 / 2 = 0.25, c = 0.0 / 2 = 0 (h opted out)
    # min-max over {a, b, c}: a 1.0, b 0.2, c 0.0
    assert [(h.id, h.score) for h in hits] == [("a", 1.0), ("b", 0.2), ("c", 0.0)]
    assert [e.id for e in hits[0].evidence] == ["d1", "d2"]
    assert [e.rank for e in hits[0].evidence] == [1, 2]
    assert hits[0].evidence[0].contribution == pytest.approx(1.0 / 1.25)
    assert hits[2].evidence[0].contribution == 0.0
    assert hits[0].why.startswith("wrote 2 of the top 10 results")


def test_a_vote_depth_limits_which_documents_count(store, embedder, ranker):
    shallow = ExpertRanker(store, embedder, ExpertWeights(
        evidence=1.0, focus=0.0, profile=0.0, activity=0.0, evidence_depth=1))
    ranking = [DocScore("d2", 1.0), DocScore("d1", 0.9)]
    hits = shallow.rank("x", ranking, embedder.embed(["x"])[0])
    assert [(h.id, h.score) for h in hits] == [("a", 1.0), ("b", 1.0)]


def test_min_max_over_candidates():
    assert _min_max({"a": 3.0, "b": 1.0}, ["a", "b", "c"]) == {"a": 1.0, "b": 1 / 3, "c": 0.0}
    assert _min_max({"a": 2.0}, ["a"]) == {"a": 1.0}
    assert _min_max({}, ["a"]) == {"a": 0.0}
    assert _min_max({"a": 1.0}, []) == {}


def test_focus_follows_what_people_wrote(tmp_path, ingester, store, embedder):
    write(tmp_path, "p.yaml", "- {id: k, type: person, name: K}\n"
          "- {id: r, type: person, name: R}\n")
    write(tmp_path, "d.jsonl", '{"id": "x1", "body": "kafka streams", "authors": ["k"]}\n'
          '{"id": "x2", "body": "rust borrow checker", "authors": ["r"]}\n')
    ingester.ingest([tmp_path])
    ranker = ExpertRanker(store, embedder, ExpertWeights(evidence=0, focus=1, profile=0,
                                                         activity=0))
    ranking = [DocScore("x1", 1.0), DocScore("x2", 0.5)]
    hits = ranker.rank("kafka", ranking, embedder.embed(["kafka"])[0])
    # k's only document shares "kafka" with the query; r's shares nothing (cosine 0).
    assert [h.id for h in hits] == ["k", "r"]
    assert hits[0].signals["focus"] == 1.0 and hits[1].signals["focus"] == 0.0
    assert np.isclose(sum(hits[0].shares().values()), 1.0)
