"""The learning loop below the API: feedback, evidence ageing, people's own choices."""

import datetime as dt
import math

import pytest
from conftest import answerer_for, write

from indexer.feedback import FeedbackLog
from indexer.profiles import ProfileBook
from indexer.records import Filters
from search.experts import ExpertRanker, ExpertWeights
from search.feedback import Feedback, FeedbackSettings
from search.profile import infer_skills
from search.recency import Recency, decay
from search.retrieval import DocScore

DAY = dt.date(2026, 1, 1)


def settings(**kw):
    return FeedbackSettings(half_life_days=0, reference=DAY, **kw)


@pytest.fixture
def log(store):
    return FeedbackLog(store)


def test_one_voter_counts_once_and_many_stay_under_the_bound(log, embedder):
    fb = Feedback(log, settings(bound=0.1, saturation=3.0))
    v = embedder.embed(["kafka lag"])[0]
    log.add("kafka lag", v, "helped", "d1", "u1")
    log.add("kafka lag", v, "helped", "d1", "u1")  # the same verdict again: one vote
    one = fb.effects(v, "document", "kafka lag")["d1"]
    assert (one.helped, one.net) == (1, 1.0)
    assert one.adjustment == pytest.approx(0.1 * math.tanh(1 / 3), abs=1e-6)
    for i in range(50):
        log.add("kafka lag", v, "helped", "d1", f"v{i}")
    many = fb.effects(v, "document", "kafka lag")["d1"]
    assert many.helped == 51 and 0.0999 < many.adjustment <= 0.1
    assert many.why("document") == "51 colleagues said this helped"


def test_a_new_verdict_replaces_the_voters_old_one(log, embedder):
    v = embedder.embed(["kafka lag"])[0]
    log.add("kafka lag", v, "helped", "d1", "u1")
    log.add("Kafka  LAG", v, "not_about", "d1", "u1")
    effect = Feedback(log, settings()).effects(v, "document")["d1"]
    assert (effect.helped, effect.not_about, effect.net) == (0, 1, -1.0)


def test_similar_questions_share_verdicts_unrelated_ones_do_not(log, embedder):
    asked = "kafka consumer lag alerts"
    log.add(asked, embedder.embed([asked])[0], "helped_me", "p1", "u1")
    fb = Feedback(log, settings(similarity=0.5))
    # hashing vectors: 3 of 4 words shared with 3 words -> cosine 3 / sqrt(12) = 0.866
    near = fb.effects(embedder.embed(["kafka consumer lag"])[0], "person")
    assert near["p1"].net == pytest.approx((3 / math.sqrt(12) - 0.5) / 0.5, abs=1e-3)
    assert fb.effects(embedder.embed(["rust borrow checker"])[0], "person") == {}


def test_a_question_near_every_question_shares_no_verdict(log, embedder):
    """With 20 or more questions voted on, a verdict counts for another question only
    0.2 above the new one's cosine to their centre (search/closeness.py): "data" meets
    each "data topicN" at 0.71, over the line of 0.4, and no closer than all of them."""
    for i in range(20):
        asked = f"data topic{i}"
        log.add(asked, embedder.embed([asked])[0], "helped", f"d{i}", "u1")
    fb = Feedback(log, settings())
    assert fb.effects(embedder.embed(["data"])[0], "document") == {}
    own = fb.effects(embedder.embed(["data topic3"])[0], "document", "data topic3")
    assert own["d3"].helped == 1 and own["d3"].net == pytest.approx(1.0)
    assert set(own) == {"d3"}  # the others are 0.5 from it, under its line


def test_verdicts_fade_with_their_half_life(log, embedder):
    v = embedder.embed(["x"])[0]
    log.add("x", v, "helped", "d1", "u1", at=(DAY - dt.timedelta(days=90)).isoformat())
    fb = Feedback(log, FeedbackSettings(half_life_days=90, reference=DAY))
    assert fb.effects(v, "document", "x")["d1"].net == pytest.approx(0.5)
    assert decay(0, 90) == 1.0 and decay(90, 0) == 1.0


def test_adjusting_moves_close_results_only_within_the_bound(log, embedder):
    v = embedder.embed(["q"])[0]
    for i in range(10):
        log.add("q", v, "helped", "d2", f"u{i}")
        log.add("q", v, "not_about", "d3", f"u{i}")
    ranking = [DocScore("d1", 0.95), DocScore("d2", 0.9), DocScore("d3", 0.05),
               DocScore("d4", 0.5)]
    moved, said = Feedback(log, settings(bound=0.1)).adjust(ranking, v, "q")
    assert [d.doc_id for d in moved] == ["d2", "d1", "d4", "d3"]
    assert moved[-1].score == 0.0  # never below 0
    assert set(said) == {"d2", "d3"}
    clear = [DocScore("d1", 0.95), DocScore("d2", 0.3)]
    assert [d.doc_id for d in Feedback(log, settings(bound=0.1)).adjust(clear, v, "q")[0]] \
        == ["d1", "d2"]  # a result clearly less about it is not lifted over one that is


@pytest.fixture
def team(tmp_path, ingester, store):
    write(tmp_path, "people.yaml", """
        - {id: old, type: person, name: Old, skills: [{name: kubernetes, level: 4}]}
        - {id: new, type: person, name: New}
        - {id: far, type: person, name: Far}
        """)
    write(tmp_path, "docs.jsonl", "\n".join([
        '{"id": "m1", "title": "Postgres migration", "body": "postgres migration plan",'
        ' "authors": ["old"], "updated_at": "2016-03-01", "tags": ["postgres"]}',
        '{"id": "m2", "title": "Postgres migration notes", "body": "postgres migration done",'
        ' "authors": ["new"], "updated_at": "2025-06-01", "tags": ["postgres"]}',
        '{"id": "k1", "title": "Rust", "body": "rust borrow checker", "authors": ["far"]}']))
    ingester.ingest([tmp_path])


EVIDENCE = ExpertWeights(evidence=1.0, focus=0.0, profile=0.0, activity=0.0)


def test_older_evidence_counts_less_with_a_half_life(team, store, embedder):
    ranking = [DocScore("m1", 1.0, dense=0.8), DocScore("m2", 0.9, dense=0.8)]
    v = embedder.embed(["postgres migration"])[0]
    flat = ExpertRanker(store, embedder, EVIDENCE).rank("postgres migration", ranking, v)
    assert [h.id for h in flat] == ["old", "new"]
    ageing = ExpertRanker(store, embedder, EVIDENCE, Recency(365, dt.date(2026, 1, 1)))
    hits = ageing.rank("postgres migration", ranking, v)
    # old: 1.0 * 0.5 ** (3593 / 365) = 0.0011; new: 0.9 * 0.5 ** (214 / 365) = 0.60
    assert [h.id for h in hits] == ["new", "old"]
    assert "latest evidence June 2025 (7 months ago)" in hits[0].why
    assert "latest evidence March 2016 (9 years ago)" in hits[1].why


def test_expert_feedback_reorders_people_with_evidence_only(team, store, embedder):
    log = FeedbackLog(store)
    q = "postgres migration"
    v = embedder.embed([q])[0]
    for i in range(5):
        log.add(q, v, "helped_me", "new", f"u{i}")
        log.add(q, v, "helped_me", "far", f"u{i}")  # no evidence about it: never shown
    ranker = ExpertRanker(store, embedder, EVIDENCE,
                          feedback=Feedback(log, FeedbackSettings(bound=0.1)))
    # far's document is far down and not about it (dense 0.1): far is never shown.
    ranking = [DocScore("m1", 1.0, dense=0.8), DocScore("m2", 0.98, dense=0.8),
               DocScore("k1", 0.0, dense=0.1)]
    hits = ranker.rank(q, ranking, v)
    # evidence over {old, new, far}: 1.0, 0.98, 0; new gains 0.1 * tanh(5 / 3) = 0.093
    assert [h.id for h in hits] == ["new", "old"]
    assert hits[0].signals["feedback"] == pytest.approx(0.1 * math.tanh(5 / 3), abs=1e-6)
    assert hits[0].why.endswith("5 colleagues said they helped")


def test_choices_change_a_running_rankers_results(team, store, embedder):
    ranker = ExpertRanker(store, embedder)
    book = ProfileBook(store)
    q = "kubernetes"
    v = embedder.embed([q])[0]
    assert [h.id for h in ranker.rank(q, [], v)] == ["old"]  # the declared skill
    book.choose("old", "hide", "Kubernetes")
    assert ranker.rank(q, [], v) == []  # hidden: never counts
    book.choose("far", "ask_me", "kubernetes")
    hits = ranker.rank(q, [], v)
    assert [h.id for h in hits] == ["far"] and hits[0].skills[0]["name"] == "kubernetes"
    book.choose("far", "opt_out")
    assert ranker.rank(q, [], v) == [] and not store.get_person("far").visible
    book.undo("far", "opt_out")
    assert [h.id for h in ranker.rank(q, [], v)] == ["far"]


def test_a_topic_opted_out_of_keeps_the_person_out_of_its_questions(team, store, embedder):
    ranker = ExpertRanker(store, embedder, EVIDENCE)
    ranking = [DocScore("m1", 1.0, dense=0.8), DocScore("m2", 0.9, dense=0.8)]
    v = embedder.embed(["postgres migration"])[0]
    ProfileBook(store).choose("old", "opt_out", "postgres")
    assert [h.id for h in ranker.rank("postgres migration", ranking, v)] == ["new"]


def test_inferred_skills_come_with_their_evidence(team, store):
    found = infer_skills(store, store.get_person("new"), Filters(groups=()),
                         known_skills={"postgres migration", "kubernetes"})
    by_name = {s.name: s for s in found}
    assert by_name["postgres"].source == "tag"
    assert [e["id"] for e in by_name["postgres migration"].evidence] == ["m2"]
    assert "kubernetes" not in by_name


def test_feedback_on_a_document_the_reader_cannot_read_never_moves_them(
        tmp_path, ingester, store, embedder):
    write(tmp_path, "d.jsonl", "\n".join([
        '{"id": "open", "title": "Kafka", "body": "kafka lag"}',
        '{"id": "secret", "title": "Kafka", "body": "kafka lag", "groups": ["sec"]}']))
    ingester.ingest([tmp_path])
    answerer = answerer_for(store, embedder)
    v = answerer.searcher.embed_query("kafka lag")
    for i in range(5):
        answerer.feedback.log.add("kafka lag", v, "helped", "secret", f"u{i}")
    outside = answerer.answer("kafka lag", filters=Filters(groups=()))
    assert [(a["id"], a["why"]) for a in outside["articles"]] == [("open", "")]
    inside = answerer.answer("kafka lag", filters=Filters(groups=("sec",)))
    assert inside["articles"][0]["id"] == "secret"
    assert inside["articles"][0]["why"] == "5 colleagues said this helped"


def test_logging_a_search_does_not_run_the_model_again(team, store, embedder):
    answerer = answerer_for(store, embedder)
    answerer.answer("postgres migration")
    calls = embedder.calls
    vector = answerer.embed("postgres migration")  # what the search log asks for
    assert embedder.calls == calls and vector.shape == (embedder.dim,)


def test_an_opt_out_holds_in_suggestions_when_an_import_shows_the_person_again(
        team, store, embedder):
    from dataclasses import replace
    ranker = ExpertRanker(store, embedder)
    ProfileBook(store).choose("old", "opt_out")
    again = replace(store.get_person("old"), visible=True, title="Staff engineer")
    store.write_person(again, None)  # the HR export changed her record
    assert ranker.rank("kubernetes", [], embedder.embed(["kubernetes"])[0]) == []


def test_an_hr_import_that_changes_an_opted_out_persons_record_keeps_them_hidden(
        team, store, ingester, tmp_path):
    ProfileBook(store).choose("old", "opt_out")
    write(tmp_path / "hr", "people.yaml", """
        - {id: old, type: person, name: Old, title: Staff engineer,
           skills: [{name: kubernetes, level: 4}]}
        """)
    first = ingester.ingest([tmp_path / "hr"])
    assert first.people.updated == ["old"]  # the title changed
    assert store.get_people(["old"])["old"].visible is False
    assert store.get_people(["old"])["old"].title == "Staff engineer"
    again = ingester.ingest([tmp_path / "hr"])
    assert again.people.unchanged == ["old"]  # not "updated" at every import
    ProfileBook(store).undo("old", "opt_out")  # only their own choice shows them again
    assert store.get_people(["old"])["old"].visible is True
