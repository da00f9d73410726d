"""Mentoring relationships over HTTP and the CLI: roles, the race for a last place, the
change feed, the report and its CSV, proposals from a cohort match."""

import csv
import io
import json
import threading

import pytest
import test_mentoring_api
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from indexer.keys import KeyRing
from search.mentoring import relationships as rel

runtime = test_mentoring_api.runtime  # the mentoring API tests' folder
BASE = "/api/mentoring/relationships"
PROPOSE = "/api/mentoring/proposals"


@pytest.fixture
def keys(runtime):
    ring = KeyRing(runtime.store)
    found = {role: ring.add(role)[1] for role in ("reader", "lms", "admin")}
    found |= {p: ring.add("reader", person_id=p)[1] for p in ("me", "bo", "kim")}
    return {name: {"Authorization": f"Bearer {secret}"} for name, secret in found.items()}


@pytest.fixture
def api(runtime, keys):
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        yield client


def test_two_lms_calls_racing_for_the_last_place_get_one_201_and_one_409(api, keys,
                                                                        monkeypatch):
    # Both requests pass every rule before either takes the place (the barrier holds
    # them there); bo's one place is then decided inside the write transaction.
    barrier = threading.Barrier(2, timeout=10)
    check = rel._check_rules

    def both_checked(*args, **kwargs):
        check(*args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(rel, "_check_rules", both_checked)
    answers = {}

    def ask(mentee):
        answers[mentee] = api.post(PROPOSE, json={"mentor": "bo", "mentees": [mentee]},
                                   headers=keys["lms"])

    threads = [threading.Thread(target=ask, args=(m,)) for m in ("me", "kim")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers.values()) == [201, 409]
    lost = next(r for r in answers.values() if r.status_code == 409)
    assert "bo has 0 free mentoring place(s) of 1" in lost.json()["error"]
    listed = api.get(BASE, headers=keys["lms"]).json()
    assert len(listed) == 1 and listed[0]["mentor"] == "bo"


@pytest.mark.parametrize("key, mentees, status", [
    ("me", ["me"], 201), ("me", ["kim"], 403), ("reader", ["me"], 403),
    ("lms", ["kim"], 201), ("admin", ["kim"], 201)])
def test_who_may_propose(api, keys, key, mentees, status):
    r = api.post(PROPOSE, json={"mentor": "ana", "mentees": mentees, "source": "request"},
                 headers=keys[key])
    assert r.status_code == status, r.text


def test_the_pair_works_through_the_api_and_notes_stay_with_them(api, keys):
    r = api.post(PROPOSE, headers=keys["me"], json={
        "mentor": "bo", "mentees": ["me"], "goals": ["kafka streams"],
        "requested_at": "2026-01-01T09:00:00"})
    assert r.status_code == 201, r.text
    rid, goal = r.json()["id"], r.json()["goals"][0]["id"]
    assert r.json()["requested_at"] == "2026-01-01T09:00:00+00:00"  # read as UTC
    assert api.post(f"{BASE}/{rid}/state", json={"state": "declined"},
                    headers=keys["bo"]).status_code == 400  # a reason is needed
    assert api.post(f"{BASE}/{rid}/state", json={"state": "active"},
                    headers=keys["kim"]).status_code == 404  # not hers to see
    assert api.post(f"{BASE}/{rid}/state", json={"state": "active"},
                    headers=keys["bo"]).json()["state"] == "active"
    r = api.post(f"{BASE}/{rid}/checkins", json={"date": "2026-01-20", "notes": "worried",
                                                  "goals": [goal]}, headers=keys["me"])
    assert r.status_code == 201, r.text
    m = api.post(f"{BASE}/{rid}/goals/{goal}/milestones",
                 json={"title": "first consumer", "due": "2026-02-01"}, headers=keys["lms"])
    assert m.status_code == 201
    assert api.post(f"{BASE}/{rid}/milestones/{m.json()['id']}/done",
                    headers=keys["bo"]).status_code == 204
    notes = {k: api.get(f"{BASE}/{rid}", headers=keys[k]).json()["checkins"][0]["notes"]
             for k in ("me", "bo", "admin", "lms")}
    assert notes == {"me": "worried", "bo": "worried", "admin": "worried", "lms": None}
    hidden = api.get(f"{BASE}/{rid}", headers=keys["reader"])
    absent = api.get(f"{BASE}/rel-nothing", headers=keys["reader"])
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"] == absent.json()["detail"]  # the same answer
    assert api.post(f"{BASE}/{rid}/state", json={"state": "completed"},
                    headers=keys["lms"]).status_code == 200
    r = api.post(f"{BASE}/{rid}/outcome", headers=keys["me"], json={
        "person": "me", "rating": 5, "confirm_skills": True,
        "reached": [{"goal": goal, "reached": True}]})
    assert r.status_code == 204, r.text
    assert api.post(f"{BASE}/{rid}/outcome", json={"person": "me", "rating": 5},
                    headers=keys["me"]).status_code == 409  # once
    skills = api.get("/api/mentoring/people/me/confirmed-skills", headers=keys["reader"])
    assert [s["skill"] for s in skills.json()] == ["kafka streams"]
    assert api.get("/api/mentoring/people/hidden/confirmed-skills",
                   headers=keys["reader"]).status_code == 404  # opted out
    kinds = [e["kind"] for e in api.get(f"{BASE}/{rid}", headers=keys["admin"]
                                        ).json()["history"]]
    assert kinds == ["created", "goal", "state", "checkin", "milestone", "milestone_done",
                     "state", "rating"]


def test_an_admin_swaps_a_proposed_mentor(api, keys):
    rid = api.post(PROPOSE, json={"mentor": "bo", "mentees": ["me"]}, headers=keys["lms"]
                   ).json()["id"]
    body = {"mentor": "lead", "reason": "closer"}
    assert api.post(f"{BASE}/{rid}/mentor", json=body, headers=keys["lms"]
                    ).status_code == 403
    r = api.post(f"{BASE}/{rid}/mentor", json=body, headers=keys["admin"])
    assert r.status_code == 409 and "manager chain" in r.json()["error"]
    r = api.post(f"{BASE}/{rid}/mentor", json={"mentor": "ana", "reason": "bo is away"},
                 headers=keys["admin"])
    assert r.status_code == 200 and r.json()["mentor"] == "ana"


def test_an_lms_follows_every_change_by_polling_with_a_cursor(api, keys):
    cursor, seen = 0, []
    rid = api.post(PROPOSE, json={"mentor": "ana", "mentees": ["kim"]}, headers=keys["lms"]
                   ).json()["id"]
    api.post(f"{BASE}/{rid}/state", json={"state": "active"}, headers=keys["lms"])
    while True:
        page = api.get("/api/mentoring/changes", params={"after": cursor, "limit": 2},
                       headers=keys["lms"]).json()
        seen += page["changes"]
        cursor = page["next"]
        if not page["more"]:
            break
    assert [(c["relationship"], c["kind"]) for c in seen] == [
        (rid, "created"), (rid, "goal"), (rid, "state")]
    assert [c["cursor"] for c in seen] == [1, 2, 3] and cursor == 3
    assert api.get("/api/mentoring/changes", params={"after": 3},
                   headers=keys["lms"]).json()["changes"] == []
    assert api.get("/api/mentoring/changes", headers=keys["me"]).status_code == 403


def test_a_cohort_match_proposes_its_pairs_and_the_next_match_sees_them(api, keys):
    body = {"mentees": ["me", "kim"], "mentors": ["bo", "dee"], "propose": True}
    first = api.post("/api/mentoring/match", json=body, headers=keys["lms"]).json()
    made = {p["mentee"]: p["mentor"] for p in first["relationships"] if p["relationship"]}
    assert made == {p["mentee"]: p["mentor"] for p in first["pairs"]} and made
    held = api.get(BASE, params={"state": "proposed"}, headers=keys["lms"]).json()
    assert {(r["mentees"][0], r["mentor"]) for r in held} == set(made.items())
    again = api.post("/api/mentoring/match", json={**body, "propose": False},
                     headers=keys["lms"]).json()
    assert again["pairs"] == [] and again["summary"]["places"] == 2 - len(made)


def test_the_report_and_its_csv_over_the_api_and_the_cli(api, keys, runtime):
    for mentor, mentee in [("ana", "me"), ("ana", "kim"), ("cy", "me"), ("cy", "kim"),
                           ("dee", "me")]:
        assert api.post(PROPOSE, json={"mentor": mentor, "mentees": [mentee]},
                        headers=keys["lms"]).status_code == 201
    r = api.get("/api/mentoring/report", headers=keys["lms"])
    assert r.json()["by_state"]["proposed"] == 5 and r.json()["mentor_load"]["full"] == 3
    assert api.get("/api/mentoring/report", headers=keys["reader"]).status_code == 403
    r = api.get("/api/mentoring/report", params={"format": "csv", "department": "Data"},
                headers=keys["admin"])
    assert r.headers["content-type"].startswith("text/csv")
    rows = {(s, n): v for s, n, v in csv.reader(io.StringIO(r.text))}
    assert rows[("relationships", "")] == "3" and rows[("suppressed", "")] == "True"
    cli = CliRunner().invoke(cli_app, ["mentoring", "report", "--csv", "--data-dir",
                                       str(runtime.settings.data_dir)])
    assert cli.exit_code == 0, cli.output
    assert "by_state,proposed,5" in cli.output.splitlines()
    cli = CliRunner().invoke(cli_app, ["mentoring", "relationships", "--state", "proposed",
                                       "--json", "--data-dir", str(runtime.settings.data_dir)])
    assert cli.exit_code == 0 and len(json.loads(cli.output)) == 5


def test_a_mentee_asks_from_the_mentors_page_and_sees_it_on_their_page(api, keys):
    secret = keys["me"]["Authorization"].split()[1]
    api.cookies.set("whoknows_key", secret)
    page = api.get("/mentors", params={"goals": "rust"})
    assert "Ask Ana to mentor me" in page.text
    r = api.post("/mentoring/request", data={"mentor": "ana", "goals": ["rust"]},
                 headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/mentoring?made=rel-")
    mine = api.get(r.headers["location"])
    assert "Your mentoring relationships" in mine.text
    row = mine.text.split("<tbody>")[1]
    assert ">Ana</a>" in row and ">Me</a>" in row and "proposed" in row and "rust" in row
    r = api.post("/mentoring/request", data={"mentor": "ana"},
                 headers={"Origin": "https://elsewhere.example"}, follow_redirects=False)
    assert r.status_code == 403  # a form posted from another site
    assert api.get("/mentoring/report").status_code == 403  # not for a reader


def test_the_report_page_and_its_csv_for_l_and_d(api, keys):
    api.cookies.set("whoknows_key", keys["lms"]["Authorization"].split()[1])
    for mentor in ("ana", "cy", "dee", "bo", "boss"):
        assert api.post(PROPOSE, json={"mentor": mentor, "mentees": ["kim"]},
                        headers=keys["lms"]).status_code == 201
    page = api.get("/mentoring/report")
    assert page.status_code == 200 and "<h2>5 relationships</h2>" in page.text
    assert "Kim" not in page.text  # aggregates only
    data = api.get("/mentoring/report.csv", params={"location": "Berlin"})
    assert data.headers["content-type"].startswith("text/csv")
    assert "relationships,,1" in data.text.splitlines()  # ana, in Berlin
