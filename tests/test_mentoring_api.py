"""The mentoring and analytics endpoints and commands: answers, roles, and bad input."""

import json

import pytest
from conftest import write
from test_mentoring import DOCS, PEOPLE
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing
from ingest.pipeline import Ingester


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    write(tmp_path / "c", "people.yaml", PEOPLE)
    write(tmp_path / "c", "docs.jsonl", "\n".join(DOCS))
    Ingester(rt.store, rt.embedder).ingest([tmp_path / "c"])
    return rt


def keys(runtime):
    ring = KeyRing(runtime.store)
    return {role: {"Authorization": f"Bearer {ring.add(role, ())[1]}"}
            for role in ("reader", "lms", "admin")}


def test_mentors_for_an_employee(client):
    r = client.get("/api/mentoring/mentors/me", params={"limit": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [m["id"] for m in body["mentors"]] == ["ana", "cy", "bo"]
    assert body["mentors"][0]["covers"][0]["skills"] == [{"name": "Kafka", "level": 5,
                                                          "match": 1.0}]
    r = client.get("/api/mentoring/mentors/me", params={"cross_functional": True,
                                                        "max_timezone_hours": 6,
                                                        "shared_language": True})
    assert [m["id"] for m in r.json()["mentors"]] == ["ana"]
    group = client.get("/api/mentoring/mentors/me", params={"mode": "group"}).json()
    assert group["mentors"][0]["group"]["members"][0]["id"] == "kim"


def test_mentors_for_an_inline_profile(client):
    r = client.post("/api/mentoring/mentors", json={
        "profile": {"name": "New", "goals": ["rust"], "timezone": "Asia/Singapore"},
        "constraints": {"max_timezone_hours": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["employee"] is None
    assert [m["id"] for m in r.json()["mentors"]] == ["dee"]  # the one in Singapore


@pytest.mark.parametrize("path, params, status, words", [
    ("/api/mentoring/mentors/nobody", {}, 404, "no employee with id 'nobody'"),
    ("/api/mentoring/mentors/me", {"mode": "sideways"}, 422, "mode"),
    ("/api/mentoring/mentors/me", {"max_timezone_hours": -1}, 422, "max_timezone_hours"),
    ("/api/mentoring/mentors/me", {"limit": 0}, 422, "limit"),
])
def test_bad_mentor_queries_are_clear_4xx(client, path, params, status, words):
    r = client.get(path, params=params)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error", "detail"}
    assert words in body["error"] + (body["detail"] or "")


def test_match_a_cohort(client):
    r = client.post("/api/mentoring/match", json={
        "mentees": ["me", "kim", {"id": "new", "name": "New", "goals": ["rust"],
                                  "languages": ["en"]}],
        "mentors": ["ana", "cy", "dee"],
        "capacities": {"ana": 1},
        "constraints": {"shared_language": True},
        "past_pairs": [{"mentee": "new", "mentor": "dee"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    # ana has one place; new (rust) may not have dee again, so the best total gives ana
    # to new and dee to me (her Rust gap). cy shares no language; kim has none at all.
    pairs = [(p["mentee"], p["mentor"]) for p in body["pairs"]]
    assert pairs == [("me", "dee"), ("new", "ana")]
    assert {u["mentee"]: u["reason"] for u in body["unmatched"]} == {
        "kim": "no_eligible_mentor"}
    assert body["summary"]["matched"] == 2
    assert body["pairs"][0]["why"] == "Rust (gap): lists Rust (level 5); not covered: kafka"


@pytest.mark.parametrize("constraints, words", [
    ({"same_location": True, "max_timezone_hours": 0, "min_seniority_gap": 20},
     "is outside the seniority gap window"),
    ({"min_seniority_gap": 3, "max_seniority_gap": 1},
     "the seniority gap window is empty (min 3 > max 1)"),
])
def test_impossible_constraints_answer_200_with_reasons(client, constraints, words):
    r = client.post("/api/mentoring/match", json={"mentees": ["me"],
                                                  "constraints": constraints})
    assert r.status_code == 200, r.text
    (unmatched,) = r.json()["unmatched"]
    assert unmatched["reason"] == "no_eligible_mentor"
    assert words in unmatched["detail"]
    r = client.get("/api/mentoring/mentors/me", params=constraints)
    assert r.status_code == 200 and r.json()["mentors"] == []
    assert words in r.json()["note"]


def test_no_mentors_at_all(client):
    r = client.post("/api/mentoring/match", json={"mentees": ["me"], "mentors": []})
    assert r.status_code == 200, r.text
    assert r.json()["unmatched"] == [{"mentee": "me", "mentee_name": "Me",
                                      "reason": "no_eligible_mentor",
                                      "detail": "there are no mentors"}]


@pytest.mark.parametrize("body, status, words", [
    ({"mentees": ["me", "ghost", "spook"]}, 404, "unknown mentee id(s): 'ghost', 'spook'"),
    ({"mentees": ["me"], "mentors": ["nope"]}, 404, "unknown mentor id(s): 'nope'"),
    ({"mentees": []}, 422, "mentees"),
    ({"mentees": ["me"], "objective": "fastest"}, 422, "objective"),
    ({"mentees": ["me"], "mode": "group"}, 422, "mode"),
    ({"mentees": ["me"], "constraint": {}}, 422, "constraint"),  # a misspelt field
    ({"mentees": ["me", "me"]}, 409, "the same person twice: me"),
    ({"mentees": ["me"], "capacities": {"ana": 5}}, 409, "ana offers 2 mentoring places"),
    ({"mentees": ["me"], "capacities": {"bo": 1}, "mentors": ["ana"]}, 409,
     "not among the mentors: bo"),
    ({"mentees": [{"id": "ana", "name": "Ana again"}]}, 409, "id of an indexed person"),
    ({"mentees": [{"id": "x", "name": "X", "timezone": "Mars/Base"}]}, 422,
     "unknown time zone 'Mars/Base'"),
])
def test_bad_match_requests_are_clear_4xx(client, body, status, words):
    r = client.post("/api/mentoring/match", json=body)
    assert r.status_code == status, r.text
    found = r.json()
    assert set(found) == {"error", "detail"}
    assert words in found["error"] + (found["detail"] or "")


def test_roles(runtime, client):
    key = keys(runtime)
    assert client.get("/api/mentoring/mentors/me", headers=key["reader"]).status_code == 403
    assert client.get("/api/mentoring/mentors/me", headers=key["lms"]).status_code == 200
    assert client.post("/api/mentoring/match", json={"mentees": ["me"]},
                       headers=key["reader"]).status_code == 403
    assert client.get("/api/analytics/expertise", headers=key["lms"]).status_code == 403
    assert client.get("/api/analytics/expertise", headers=key["admin"]).status_code == 200
    # An lms key without the security group: cy's restricted document gives no evidence.
    cy = next(m for m in client.get("/api/mentoring/mentors/me", headers=key["lms"])
              .json()["mentors"] if m["id"] == "cy")
    assert [d for t in cy["covers"] for d in t["documents"]] == []


def test_expertise_map_suppresses_small_groups(client):
    r = client.get("/api/analytics/expertise")
    assert r.status_code == 200, r.text
    body = r.json()
    # Eng has 5 people (boss, lead, me, report, bo): shown; Data (2) and the rest are not.
    assert [d["name"] for d in body["departments"]] == ["Eng"]
    assert body["departments"][0]["people"] == 5
    assert body["suppressed"]["departments"] == ["Data", "Ops", "Sales"]
    assert body["min_group_size"] == 5 and "at least 5 people" in body["note"]
    assert client.get("/api/analytics/expertise",
                      params={"min_group_size": 2}).status_code == 422


def test_cli_mentors_and_match(runtime, tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    runner = CliRunner()
    data = str(runtime.settings.data_dir)
    r = runner.invoke(cli_app, ["mentors", "me", "--data-dir", data, "--same-location"])
    assert r.exit_code == 0, r.output
    assert "1. Ana (ana)" in r.output and "kafka (goal): lists Kafka (level 5)" in r.output
    r = runner.invoke(cli_app, ["mentors", "me", "--data-dir", data, "--json", "-n", "2"])
    assert [m["id"] for m in json.loads(r.output)["mentors"]] == ["ana", "cy"]
    cohort = write(tmp_path, "cohort.yaml", """
        mentees: [me, kim]
        mentors: [ana, bo]
        objective: most_matched
        """)
    r = runner.invoke(cli_app, ["match", str(cohort), "--data-dir", data, "--json"])
    assert r.exit_code == 0, r.output
    assert [(p["mentee"], p["mentor"]) for p in json.loads(r.output)["pairs"]] == \
        [("me", "ana"), ("kim", "ana")]
    r = runner.invoke(cli_app, ["match", str(cohort), "--data-dir", data])
    assert "2 of 2 mentees matched" in r.output
    bad = write(tmp_path, "bad.yaml", "mentees: [me]\nobjective: fastest\n")
    r = runner.invoke(cli_app, ["match", str(bad), "--data-dir", data])
    assert r.exit_code != 0 and "not a valid match request" in str(r.exception)
