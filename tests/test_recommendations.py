import pytest
from conftest import answerer_for, write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing
from ingest.pipeline import Ingester

PEOPLE = """
- {id: boss, type: person, name: Boss, mentoring: {available: true, capacity: 2},
   skills: [{name: Kafka, level: 5}]}
- {id: lead, type: person, name: Lead, manager_id: boss, mentoring: {available: true, capacity: 1},
   skills: [{name: Kafka, level: 4}]}
- {id: me, type: person, name: Me, email: me@x.example, manager_id: lead, goals: [kafka],
   skills: [{name: Rust, level: 1}, {name: Python, level: 4}]}
- {id: ana, type: person, name: Ana, mentoring: {available: true, capacity: 2},
   skills: [{name: Kafka, level: 5}, {name: Rust, level: 4}]}
- {id: full, type: person, name: Full, mentoring: {available: true, capacity: 0},
   skills: [{name: Kafka, level: 5}]}
- {id: busy, type: person, name: Busy, skills: [{name: Kafka, level: 5}]}
- {id: shy, type: person, name: Shy, visible: false, mentoring: {available: true, capacity: 3},
   skills: [{name: Kafka, level: 5}]}
"""


@pytest.fixture
def client(tmp_path):
    runtime = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    write(tmp_path / "c", "people.yaml", PEOPLE)
    write(tmp_path / "c", "docs.jsonl", "\n".join([
        '{"id": "k1", "title": "Kafka basics", "body": "kafka topics and partitions",'
        ' "authors": ["ana"]}',
        '{"id": "k2", "title": "My kafka notes", "body": "kafka notes",'
        ' "authors": ["me@x.example"]}',
        '{"id": "l1", "kind": "lesson", "title": "Kafka rebalance", "lesson": "kafka rebalancing'
        ' hurts", "authors": ["busy"]}',
        '{"id": "r1", "title": "Rust ownership", "body": "rust borrow checker",'
        ' "authors": ["ana"]}',
    ]))
    Ingester(runtime.store, runtime.embedder).ingest([tmp_path / "c"])
    with TestClient(create_app(runtime=runtime)) as c:
        c.app.state.whoknows.warm_up()
        yield c


def test_recommendations_for_an_employee_follow_the_hard_rules(client):
    r = client.get("/api/recommendations/me")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["topics"] == ["kafka", "Rust"]  # the goal, then the level-1 skill (a gap)
    mentors = [m["id"] for m in body["mentors"]]
    # Not herself, not her manager chain (lead, boss), not at capacity 0 (full), not
    # unavailable (busy), not opted out (shy): only Ana is left.
    assert mentors == ["ana"]
    assert [r["topic"] for r in body["mentors"][0]["reasons"]] == ["kafka", "Rust"]
    assert [a["id"] for a in body["articles"]] == ["k1", "r1"]  # not her own k2
    assert [a["id"] for a in body["lessons"]] == ["l1"]
    assert body["articles"][0]["reason"] == "matches your goal 'kafka'"


def test_inline_profile(client):
    r = client.post("/api/recommendations", json={"name": "New", "goals": ["rust"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["employee"] is None and [m["id"] for m in body["mentors"]] == ["ana"]
    assert body["articles"][0]["id"] == "r1"


def test_bad_input(client):
    assert client.get("/api/recommendations/nobody").status_code == 404
    empty = client.post("/api/recommendations", json={"name": "X"}).json()
    assert empty["topics"] == [] and empty["mentors"] == [] and empty["articles"] == []
    r = client.post("/api/recommendations", json={"goals": ["x"], "skills": [{"name": "a",
                                                                              "level": 9}]})
    assert r.status_code == 422


def test_readers_may_not_ask_for_any_employee(client):
    ring = KeyRing(client.app.state.whoknows.runtime.store)
    _, reader = ring.add("reader")
    _, lms = ring.add("lms")
    assert client.get("/api/recommendations/me",
                      headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.get("/api/recommendations/me",
                      headers={"Authorization": f"Bearer {lms}"}).status_code == 200
    assert client.post("/api/recommendations", json={"goals": ["rust"]},
                       headers={"Authorization": f"Bearer {reader}"}).status_code == 200


def test_recommendations_mentoring_and_the_page_name_the_same_mentors_for_the_same_reasons(
        client):
    """"Who can mentor me in X" has one answer: the recommendation's mentors are the
    mentoring endpoint's, in its order, with its reasons, one per goal covered."""
    recommended = client.get("/api/recommendations/me").json()["mentors"]
    mentoring = client.get("/api/mentoring/mentors/me").json()["mentors"]
    assert [m["id"] for m in recommended] == [m["id"] for m in mentoring]
    for rec, men in zip(recommended, mentoring, strict=True):
        assert rec["score"] == men["fit"]
        assert [r["topic"] for r in rec["reasons"]] == [c["topic"] for c in men["covers"]]
        for reason in rec["reasons"]:
            assert reason["why"] in men["why"]  # the same words, goal by goal
    page = client.get("/mentors", params={"employee": "me"}).text
    assert all(m["name"] in page for m in mentoring)


def test_reading_keeps_only_documents_close_in_meaning_to_the_goal():
    """The best a corpus has for a goal is not recommended when it is not close in
    meaning to it (the floor weak_match uses): no forecasting paper for public speaking."""
    from indexer.records import Person
    from search.recommendations import reading_list

    WEAK_SIMILARITY = 0.4  # the model's line for "close in meaning"

    class Answers:  # what hybrid search would rank for each goal
        def close_line(self, topic):  # the line for a goal (Answerer.close_line)
            return WEAK_SIMILARITY

        def answer(self, topic, **_):
            return {"articles": [
                {"id": "near", "authors": [], "kind": "article",
                 "dense_score": WEAK_SIMILARITY + 0.01},
                {"id": "far", "authors": [], "kind": "article",
                 "dense_score": WEAK_SIMILARITY - 0.01}]}

    found = reading_list(Answers(), Person(id="me", name="Me"), ["public speaking"])
    assert [a["id"] for a in found] == ["near"]


def test_the_line_for_a_goal_stands_above_the_corpus_as_a_whole(tmp_path, ingester, store,
                                                                 embedder):
    """A goal's line is the weak-match line, or 0.1 above the goal's cosine to the corpus's
    centre where that is higher (search/closeness.py): a corpus whose 25 documents all
    share "data" with the goal "data" (0.71 each) lifts it to about 0.81."""
    write(tmp_path, "docs.jsonl", "\n".join(
        f'{{"id": "d{i}", "body": "data note{i}"}}' for i in range(25)))
    ingester.ingest([tmp_path])
    answerer = answerer_for(store, embedder)
    assert answerer.close_line("data") == pytest.approx(0.5 ** 0.5 + 0.1, abs=0.01)
    assert answerer.close_line("nothing shared") == answerer.weak_similarity
