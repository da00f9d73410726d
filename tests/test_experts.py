import numpy as np
import pytest
from conftest import answerer_for, write

from search.answers import WEAK_SIMILARITY, people_know
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
    ranking = [DocScore("d1", 1.0, dense=0.8), DocScore("d2", 0.5, dense=0.6),
               DocScore("d3", 0.0, dense=0.4), DocScore("d4", 0.9, dense=0.7)]
    hits = ranker.rank("x", ranking, embedder.embed(["x"])[0], limit=10)
    # votes: a = 1.0 + 0.5 / 2 = 1.25, b = 0.5 / 2 = 0.25, c = 0.0 / 2 = 0 (h opted out)
    # min-max over {a, b, c}: a 1.0, b 0.2, c 0.0
    assert [(h.id, h.score) for h in hits] == [("a", 1.0), ("b", 0.2), ("c", 0.0)]
    assert [e.id for e in hits[0].evidence] == ["d1", "d2"]
    assert [e.rank for e in hits[0].evidence] == [1, 2]
    assert hits[0].evidence[0].contribution == pytest.approx(1.0 / 1.25)
    assert hits[2].evidence[0].contribution == 0.0
    assert hits[0].why == "wrote 'alpha' (result #1) and 1 more close to the question"


def test_a_vote_depth_limits_which_documents_count(store, embedder, ranker):
    shallow = ExpertRanker(store, embedder, ExpertWeights(
        evidence=1.0, focus=0.0, profile=0.0, activity=0.0, evidence_depth=1))
    ranking = [DocScore("d2", 1.0, dense=0.5), DocScore("d1", 0.9, dense=0.5)]
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
    ranking = [DocScore("x1", 1.0, dense=0.7), DocScore("x2", 0.5, dense=0.3)]
    hits = ranker.rank("kafka", ranking, embedder.embed(["kafka"])[0])
    # k's only document shares "kafka" with the query; r's shares nothing (cosine 0).
    assert [h.id for h in hits] == ["k", "r"]
    assert hits[0].signals["focus"] == 1.0 and hits[1].signals["focus"] == 0.0
    assert np.isclose(sum(hits[0].shares().values()), 1.0)


@pytest.fixture
def prolific(tmp_path, ingester, store, embedder):
    """e wrote one document; p wrote 40 (one on error budgets, with m)."""
    write(tmp_path, "people.yaml", """
        - {id: e, type: person, name: E}
        - {id: p, type: person, name: P}
        - {id: m, type: person, name: M}
        - {id: s, type: person, name: S, skills: [{name: dbt, level: 4}]}
        """)
    lines = ['{"id": "e1", "body": "dbt incremental models", "authors": ["e"]}',
             '{"id": "p0", "body": "error budgets", "authors": ["p", "m"]}']
    lines += [f'{{"id": "p{i}", "body": "release notes {i}", "authors": ["p"]}}'
              for i in range(1, 40)]
    write(tmp_path, "docs.jsonl", "\n".join(lines))
    ingester.ingest([tmp_path])
    return ExpertRanker(store, embedder)


def test_a_prolific_author_is_not_suggested_on_far_evidence(prolific, embedder):
    # e's document is result #1 and close to the question (cosine 0.7); p's 40 documents
    # share words only (cosine 0.1, results #2-#41), yet their votes add up to 40 x 0.2
    # = 8 against e's 1.0: deep voting alone would put p first.
    ranking = [DocScore("e1", 1.0, dense=0.7)]
    ranking += [DocScore(f"p{i}", 0.2, dense=0.1) for i in range(40)]
    vector = embedder.embed(["dbt incremental models"])[0]
    hits = prolific.rank("dbt incremental models", ranking, vector)
    assert [h.id for h in hits] == ["e", "s"]  # s lists dbt, named in the question
    assert hits[0].why == ("wrote 'dbt incremental models' (result #1); "
                           "most of what they write is about this")
    assert hits[1].why == "lists dbt (level 4)"
    # A benchmark ranks every candidate: the others follow, in the order of their score.
    everyone = prolific.rank("dbt incremental models", ranking, vector, rank_all=True)
    assert [h.id for h in everyone] == ["e", "s", "p", "m"]
    assert everyone[2].score > everyone[0].score  # p leads on the deep-voting score
    assert everyone[2].why == "nothing they wrote is close to the question"


def test_activity_alone_never_makes_an_expert(prolific, embedder):
    # p and m share p0, the one close document besides e1: their evidence ties (0.025
    # each, the lowest: 0 after min-max), and p wrote 40 documents to m's one (activity
    # 1 and 0). Uncapped, p's 0.08 of activity would be 94% of p's score (focus 0.005).
    ranking = [DocScore("e1", 1.0, dense=0.7), DocScore("p0", 0.05, dense=0.35)]
    hits = prolific.rank("error budgets", ranking, embedder.embed(["error budgets"])[0])
    assert [h.id for h in hits] == ["e", "m", "p"]  # s lists dbt, not asked about
    for hit in hits:
        rest = {k: v for k, v in hit.signals.items() if k != "activity"}
        assert hit.signals["activity"] <= max(rest.values())
    # m writes only on error budgets (focus 1), p mostly release notes: focus orders
    # them, and p's activity is capped at p's focus term.
    p = hits[2]
    assert 0 < p.signals["activity"] == p.signals["focus"] < 0.08
    assert p.why.startswith("wrote 'error budgets' (result #2)")


def test_no_confident_expert_list_without_evidence(tmp_path, ingester, store, embedder):
    write(tmp_path, "people.yaml", """
        - {id: a, type: person, name: A}
        - {id: k, type: person, name: K, skills: [{name: Kafka streams, level: 4}]}
        """)
    write(tmp_path, "docs.jsonl", '{"id": "d1", "title": "Q3 plan", "body": "quarterly budget'
          ' planning spreadsheet review", "authors": ["a"]}')
    ingester.ingest([tmp_path])
    answerer = answerer_for(store, embedder)
    # A document under the weak-match floor is never about the question, so a weak match
    # suggests people only on their declared skills.
    assert ExpertWeights().close_similarity >= WEAK_SIMILARITY
    # d1 shares "budget" with the question and nothing else: its cosine is at most
    # 1 / sqrt(4 x 5) = 0.22, under 0.3, so nothing found is close in meaning.
    result = answerer.answer("budget for the offsite", articles=False)
    assert result["weak_match"] is True
    assert result["experts"] == []
    # A declared skill the question names is evidence of its own.
    result = answerer.answer("kafka streams budget", articles=False)
    assert result["weak_match"] is True
    assert [e["id"] for e in result["experts"]] == ["k"]
    assert result["experts"][0]["why"] == "lists Kafka streams (level 4)"
    # The skill is close to the question in meaning (cosine 2 / sqrt(2 x 3) = 0.82, over
    # the skills' line of 0.5): it covers it, and K knows it though nothing written does.
    assert result["experts"][0]["skills"][0]["covers"] is True
    assert people_know(result) is True
    # Named among seven other words (cosine 2 / sqrt(2 x 9) = 0.47), the skill only
    # shares words with the question: K is the person nearest to it.
    result = answerer.answer("kafka streams offsite party agenda venue catering music games",
                             articles=False)
    assert result["weak_match"] is True and [e["id"] for e in result["experts"]] == ["k"]
    assert result["experts"][0]["skills"][0]["covers"] is False
    assert people_know(result) is False
    assert people_know({"weak_match": False, "experts": []}) is True


def test_evidence_must_stand_above_the_corpus_as_a_whole(tmp_path, ingester, store, embedder):
    """A model that puts every document near every question (e5) lifts the lines with
    the corpus: a document counts as about the question only 0.1 above the query's
    cosine to the corpus's centre, here about 0.7 (every document shares "alpha")."""
    write(tmp_path, "people.yaml", "- {id: e, type: person, name: E}\n"
          "- {id: p, type: person, name: P}\n")
    lines = ['{"id": "e1", "body": "alpha", "authors": ["e"]}']
    lines += [f'{{"id": "p{i}", "body": "alpha note{i}", "authors": ["p"]}}' for i in range(24)]
    write(tmp_path, "docs.jsonl", "\n".join(lines))
    ingester.ingest([tmp_path])
    ranker = ExpertRanker(store, embedder)
    vector = embedder.embed(["alpha"])[0]
    known = ranker._refresh()
    assert ranker.close_line(known, vector) == pytest.approx(0.1 + 24 / 25 * 0.5 ** 0.5
                                                            + 1 / 25, abs=0.01)
    # p's documents are at 0.71, well over the floor of 0.3, and no closer than the rest.
    ranking = [DocScore("e1", 1.0, dense=1.0)]
    ranking += [DocScore(f"p{i}", 0.9, dense=0.71) for i in range(24)]
    hits = ranker.rank("alpha", ranking, vector)
    assert [h.id for h in hits] == ["e"]
    everyone = ranker.rank("alpha", ranking, vector, rank_all=True)
    assert [h.id for h in everyone] == ["e", "p"]
    assert everyone[1].why == "nothing they wrote is close to the question"


def test_a_skill_must_stand_above_the_skills_as_a_whole(tmp_path, ingester, store, embedder):
    """With 20 or more skills declared, a skill matches only 0.2 above the query's cosine
    to them all; a skill the question names always matches."""
    people = [f"- {{id: s{i}, type: person, name: S{i}, skills: [{{name: data tool{i}, "
              "level: 3}]}" for i in range(20)]
    people.append("- {id: n, type: person, name: N, skills: [{name: data platform, level: 4}]}")
    write(tmp_path, "people.yaml", "\n".join(people))
    ingester.ingest([tmp_path])
    ranker = ExpertRanker(store, embedder)
    # "data" is 0.71 from each skill (one word of two shared): the threshold alone (0.5)
    # would list all 21 people; the skills' centre puts the line at about 0.9.
    hits = ranker.rank("data", [], embedder.embed(["data"])[0])
    assert hits == []
    hits = ranker.rank("data platform", [], embedder.embed(["data platform"])[0])
    assert [h.id for h in hits] == ["n"]
    assert hits[0].why == "lists data platform (level 4)"
