"""A simulated year of a mentoring programme on the demo company at 10x its size.

    python bench/mentoring.py --year                      # MiniLM (the product's model)
    python bench/mentoring.py --year --embedder hashing   # no model

The demo company's people (corpus/people/people.yaml) are copied ``--scale`` times (ids,
emails and managers suffixed per copy, so each copy is its own org chart) into a data
folder; documents are left out (the fit then rests on skills). Then 52 weeks, with a
fixed seed, through the library with a simulated clock:

- requests: each week about 1 % of the people with goals ask; the first suggested mentor
  who still has a place is proposed 0-6 days later (5 % of requests are group mentoring,
  with the colleagues who share the goals; 5 % reverse mentoring);
- a cohort match each quarter (``--cohort`` mentees who asked that day, the assignment
  solver), proposed two days later;
- proposals are accepted 1-7 days later (85 %) or declined with a reason;
- active pairs check in most weeks (a tenth of the pairs go quiet: they stall);
- after 12-26 weeks a pair completes (85 %) or ends early; both sides rate it and the
  mentee says which goals were reached, consenting to confirmed skills half the time.

At the end: the programme report's figures, and the time each HTTP endpoint takes
(median of ``--repeat`` calls through the ASGI app in process, no network) on the
year's data. Writes bench/results/mentoring-year.json (-hashing with --embedder hashing).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from common import ROOT
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from indexer.errors import Conflict, NotFound
from indexer.relationships import Relationships
from ingest.pipeline import Ingester
from search.mentoring import relationships as rel
from search.mentoring.cohort import match_people
from search.mentoring.mentors import MentorCatalog, find_mentors
from search.mentoring.report import programme_report
from search.mentoring.rules import Options

START = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
LMS = rel.Actor("lms")


def scaled_people(scale: int) -> list[dict[str, Any]]:
    """The demo people ``scale`` times: copy k suffixes ids, emails and managers with -k."""
    records = yaml.safe_load((ROOT / "corpus" / "people" / "people.yaml").read_text())
    out = []
    for k in range(scale):
        for r in records:
            def sfx(value: str | None, k: int = k) -> str | None:
                return None if value is None else f"{value}-{k}" if k else value
            copy = {**r, "id": sfx(r["id"]), "manager_id": sfx(r.get("manager_id")),
                    "name": r["name"] if not k else f"{r['name']} {k}"}
            if r.get("email"):
                local, domain = r["email"].split("@")
                copy["email"] = f"{sfx(local)}@{domain}"
            copy.pop("aliases", None)
            out.append(copy)
    return out


def open_company(embedder: str, scale: int, folder: Path) -> Runtime:
    runtime = Runtime.open(Settings(data_dir=folder / "data", embedder=embedder))
    (folder / "people").mkdir()
    (folder / "people" / "people.yaml").write_text(
        yaml.dump(scaled_people(scale), Dumper=_Plain, allow_unicode=True))
    report = Ingester(runtime.store, runtime.embedder).ingest([folder / "people"])
    assert not report.failed, report.failed
    return runtime


class _Plain(yaml.SafeDumper):
    """Values written out in full: ingest refuses YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class Year:
    """The simulation: a clock, the store, and what it measured."""

    def __init__(self, runtime: Runtime, seed: int, cohort: int) -> None:
        self.store = runtime.store
        self.catalog = MentorCatalog(runtime.store, runtime.embedder)
        self.people = self.catalog.people()
        self.rng = random.Random(seed)
        self.cohort = cohort
        self.timings: dict[str, list[float]] = {}
        self.counts: Counter[str] = Counter()
        self.plans: dict[str, dict[str, Any]] = {}  # relationship -> its fate
        self.mentees = sorted(p.id for p in self.people.values() if p.visible and p.goals)

    def timed(self, name: str, call, *args, **kwargs):  # noqa: ANN001, ANN201
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.timings.setdefault(name, []).append(time.perf_counter() - started)

    def busy(self) -> set[str]:
        """Mentees in a proposed or active relationship."""
        return {m for r in Relationships(self.store).find() if r.state in ("proposed", "active")
                for m in r.mentees}

    def run(self) -> None:
        for week in range(52):
            day = START + dt.timedelta(weeks=week)
            if week % 13 == 0:
                self.cohort_match(day)
            self.requests(day)
            self.progress(day)

    def requests(self, day: dt.datetime) -> None:
        busy = self.busy()
        free = [m for m in self.mentees if m not in busy]
        for mentee in self.rng.sample(free, min(len(free), max(1, len(self.mentees) // 100))):
            roll = self.rng.random()
            mode = "group" if roll < 0.05 else "reverse" if roll < 0.10 else "standard"
            self.request(mentee, mode, day)

    def request(self, mentee: str, mode: str, day: dt.datetime) -> None:
        self.counts["requests"] += 1
        found = self.timed("find_mentors", find_mentors, self.catalog, self.people[mentee],
                           Options(mode=mode), limit=5)
        at = day + dt.timedelta(days=self.rng.randint(0, 6))
        for mentor in found["mentors"]:
            members = [mentee] + ([m["id"] for m in mentor["group"]["members"]]
                                  if mode == "group" else [])
            try:
                made = self.timed("create", rel.create, self.store, self.people, LMS,
                                  mentor["id"], members, mode, source="suggestion",
                                  requested_at=_iso(day), at=_iso(at))
            except (Conflict, NotFound):
                self.counts["refused_proposals"] += 1  # a place or a pair taken meanwhile
                continue
            self.plan(made.id, at)
            return
        self.counts["unmatched_requests"] += 1

    def cohort_match(self, day: dt.datetime) -> None:
        busy = self.busy()
        free = [m for m in self.mentees if m not in busy]
        chosen = self.rng.sample(free, min(self.cohort, len(free)))
        result = self.timed("cohort_match", match_people, self.catalog, chosen, None)
        self.counts["cohort_mentees"] += len(chosen)
        at = day + dt.timedelta(days=2)
        made = self.timed("propose_pairs", rel.propose_pairs, self.store, self.people, LMS,
                          result["pairs"], at=_iso(at), requested_at=_iso(day))
        for entry in made:
            if entry.get("relationship"):
                self.plan(entry["relationship"], at)

    def plan(self, rel_id: str, at: dt.datetime) -> None:
        rng = self.rng
        self.plans[rel_id] = {
            "answer_at": at + dt.timedelta(days=rng.randint(1, 7)),
            "accept": rng.random() < 0.85, "quiet": rng.random() < 0.1,
            "weeks": rng.randint(12, 26), "early": rng.random() < 0.15}

    def progress(self, day: dt.datetime) -> None:
        week_end = day + dt.timedelta(days=7)
        stored = {r.id: r for r in Relationships(self.store).find()}
        # In the order they were made: ids are random, so the store's order would make
        # the same seed give another year.
        for rel_id, plan in self.plans.items():
            r = stored[rel_id]
            if r.state == "proposed" and plan["answer_at"] < week_end:
                state = "active" if plan["accept"] else "declined"
                reason = None if plan["accept"] else "no time this quarter"
                self.timed("transition", rel.transition, self.store, self.people, LMS, r.id,
                           state, reason, _iso(plan["answer_at"]))
                plan["started"] = plan["answer_at"]
            elif r.state == "active":
                self.active_week(r, plan, day)

    def active_week(self, r: rel.Relationship, plan: dict[str, Any],
                    day: dt.datetime) -> None:
        rng = self.rng
        weeks = (day - plan["started"]).days / 7
        if weeks >= plan["weeks"] * (0.5 if plan["early"] else 1):
            self.finish(r, plan, day)
            return
        if not plan["quiet"] and rng.random() < 0.7:
            on = (day + dt.timedelta(days=rng.randint(0, 4))).date().isoformat()
            goals = [g["id"] for g in r.goals[:2]]
            self.timed("check_in", rel.check_in, self.store, self.people, LMS, r.id, on,
                       "notes of the pair", goals, _iso(day))

    def finish(self, r: rel.Relationship, plan: dict[str, Any], day: dt.datetime) -> None:
        rng = self.rng
        state = "ended" if plan["early"] else "completed"
        self.timed("transition", rel.transition, self.store, self.people, LMS, r.id, state,
                   "moved to another team" if plan["early"] else None, _iso(day))
        for person in r.members():
            good = not plan["early"]
            rating = rng.choice([4, 5, 5, 3] if good else [1, 2, 3])
            reached = {g["id"]: rng.random() < (0.7 if good else 0.2) for g in r.goals
                       if g["mentee"] == person or person == r.mentor}
            self.timed("rate", rel.rate, self.store, self.people, LMS, r.id, person, rating,
                       reached, rng.random() < 0.5, _iso(day))


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def time_endpoints(runtime: Runtime, year: Year, repeat: int) -> dict[str, float]:
    """Median milliseconds per endpoint, through the app in process, on the year's data."""
    rng = random.Random(1)
    records = Relationships(runtime.store)
    stored = {r.id: r for r in records.find()}
    some = next(stored[i] for i in year.plans if stored[i].state == "completed")
    out: dict[str, float] = {}
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        client.app.state.whoknows.warm_up()  # type: ignore[attr-defined]

        def measure(name: str, method: str, path: str, make_body=None, ok=(200,)) -> None:  # noqa: ANN001
            spent = []
            for _ in range(repeat):
                body = make_body() if make_body else None
                started = time.perf_counter()
                r = client.request(method, path, json=body)
                spent.append(time.perf_counter() - started)
                assert r.status_code in ok, (name, r.status_code, r.text[:300])
            out[name] = round(statistics.median(spent) * 1000, 1)

        busy = year.busy()
        free = [m for m in year.mentees if m not in busy]
        mentee = rng.choice(free)
        measure("GET /api/mentoring/mentors/{id}", "GET", f"/api/mentoring/mentors/{mentee}")
        mentors = [m["id"] for m in client.get(f"/api/mentoring/mentors/{mentee}",
                                               params={"limit": 100}).json()["mentors"]]
        spent = []
        for mentor in mentors[:repeat]:  # each declined at once, so the next may propose
            started = time.perf_counter()
            r = client.post("/api/mentoring/proposals", json={"mentor": mentor,
                                                              "mentees": [mentee]})
            spent.append(time.perf_counter() - started)
            if r.status_code == 201:
                client.post(f"/api/mentoring/relationships/{r.json()['id']}/state",
                            json={"state": "declined", "reason": "benchmark"})
        out["POST /api/mentoring/proposals"] = round(statistics.median(spent) * 1000, 1)
        active = records.find(state="active")[:repeat]
        spent = []
        for pair in active:
            started = time.perf_counter()
            client.post(f"/api/mentoring/relationships/{pair.id}/checkins",
                        json={"date": "2026-12-30", "notes": "benchmark"})
            spent.append(time.perf_counter() - started)
        if spent:
            out["POST /api/mentoring/relationships/{id}/checkins"] = \
                round(statistics.median(spent) * 1000, 1)
        measure("GET /api/mentoring/relationships/{id}", "GET",
                f"/api/mentoring/relationships/{some.id}")
        measure("GET /api/mentoring/relationships?stalled_after_days=30", "GET",
                "/api/mentoring/relationships?stalled_after_days=30")
        measure("GET /api/mentoring/changes (100 changes)", "GET",
                "/api/mentoring/changes?after=0&limit=100")
        measure("GET /api/mentoring/report", "GET", "/api/mentoring/report")
        measure("GET /api/mentoring/report?format=csv", "GET",
                "/api/mentoring/report?format=csv")
        cohort = rng.sample(year.mentees, 50)
        measure("POST /api/mentoring/match (50 mentees)", "POST", "/api/mentoring/match",
                lambda: {"mentees": cohort})
    return out


def programme_year(embedder: str, seed: int, scale: int, cohort: int,
                   repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="whoknows-year-") as tmp:
        started = time.perf_counter()
        runtime = open_company(embedder, scale, Path(tmp))
        loaded = time.perf_counter() - started
        year = Year(runtime, seed, cohort)
        started = time.perf_counter()
        year.run()
        simulated = time.perf_counter() - started
        end = START + dt.timedelta(weeks=52)
        report = programme_report(runtime.store, year.people, today=end.date())
        events = Relationships(runtime.store).last_cursor()
        endpoints = time_endpoints(runtime, year, repeat)
    library = {name: {"calls": len(v), "median_ms": round(statistics.median(v) * 1000, 2),
                      "p95_ms": round(sorted(v)[int(0.95 * (len(v) - 1))] * 1000, 2)}
               for name, v in sorted(year.timings.items())}
    return {"embedder": runtime.embedder.name, "seed": seed, "scale": scale,
            "people": len(year.people), "people_with_goals": len(year.mentees),
            "mentors_offering": sum(p.in_mentor_pool() for p in year.people.values()),
            "places_offered": sum(p.mentoring_capacity for p in year.people.values()
                                  if p.in_mentor_pool()),
            "load_s": round(loaded, 1), "simulate_s": round(simulated, 1),
            "counts": dict(year.counts), "events": events,
            "report": report, "library": library, "endpoints_ms": endpoints}


def summary_lines(result: dict[str, Any]) -> list[str]:
    r = result["report"]
    lines = [f"a year on {result['people']} people ({result['scale']}x the demo, "
             f"{result['embedder']}): {result['counts'].get('requests', 0)} requests, "
             f"{result['counts'].get('cohort_mentees', 0)} mentees in 4 cohort matches, "
             f"{r['relationships']} relationships, {result['events']} changes; simulated in "
             f"{result['simulate_s']} s",
             "by state: " + ", ".join(f"{k} {v}" for k, v in r["by_state"].items()),
             f"reverse {r['reverse']}, group {r['group']}; days request -> proposal median "
             f"{r['days_to_proposal']['median']}, -> start median "
             f"{r['days_to_start']['median']}; goals reached {r['goals']['reached']} of "
             f"{r['goals']['rated']} rated; across departments {r['cross_department']:.0%}, "
             f"locations {r['cross_location']:.0%}; stalled {r['stalled']}; mentors "
             f"{r['mentor_load']['mentors']} ({r['mentor_load']['full']} full)"]
    lines += [f"  {name}: {ms} ms" for name, ms in result["endpoints_ms"].items()]
    return lines
