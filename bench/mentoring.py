"""Mentoring benchmark: the global solver against greedy on generated cohorts, and speed.

    python bench/mentoring.py                      # MiniLM (the product's model)
    python bench/mentoring.py --embedder hashing   # no model, seconds
    python bench/mentoring.py --year               # a simulated year of a programme

Cohorts are generated with a fixed seed. For every case the solver's total fit must be
at least the greedy baseline's (same scores, same feasible pairs), and every chosen
pair is re-checked with the pair-by-pair rules: violations must be 0. Then 1,000
mentees x 500 mentors with capacity 2 is timed: fit matrix, rule matrices and solve
separately, and the whole ``match_cohort`` (reasons included). Writes
bench/results/mentoring.json (mentoring-hashing.json with --embedder hashing).
With --year, instead: a simulated year of a programme on the demo company at 10x its
size, its report's figures and the time of each endpoint (bench/mentoring_year.py;
bench/results/mentoring-year.json).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

import numpy as np
from common import write_results

from indexer.embedders import make_embedder
from indexer.records import Person, Skill
from search.mentoring.cohort import greedy, match_cohort, solve, total
from search.mentoring.fit import DocInfo, Expertise, FitModel
from search.mentoring.rules import Options, feasible, rule_matrices, violations

SKILLS = """Kafka, Kubernetes, Terraform, AWS, Go, Rust, Python, Java, PostgreSQL, SQL, dbt,
Airflow, Spark, Machine Learning, MLOps, Statistics, Time Series, Demand Forecasting,
Route Optimization, Operations Research, Observability, Incident Response, Threat Modeling,
Penetration Testing, Cloud Security, GDPR, Privacy Engineering, ISO 27001, Product Strategy,
Product Discovery, UX Research, Accessibility, Design Systems, Figma, Interaction Design,
Pricing, Financial Planning, Financial Modeling, Revenue Recognition, Tax, Procurement,
Negotiation, Enterprise Sales, Salesforce, Account Management, Customer Onboarding,
Churn Analysis, Support Operations, Content Marketing, SEO, Copywriting, Marketing Analytics,
Public Speaking, People Management, Coaching, Recruiting, Compensation, Employment Law,
Workshop Facilitation, Data Visualization""".replace("\n", " ").split(", ")
PLACES = [("Berlin", "Europe/Berlin"), ("Lisbon", "Europe/Lisbon"),
          ("Toronto", "America/Toronto"), ("Austin", "America/Chicago"),
          ("Singapore", "Asia/Singapore"), ("Sydney", "Australia/Sydney")]
DEPARTMENTS = ["Platform", "Data", "Security", "Product", "Customer Success", "Finance",
               "People", "Sales"]
LANGUAGES = ["de", "pt", "es", "fr", "zh", "hi"]
PHRASES = ["{}", "{}", "get better at {}", "learn {}", "{} for my team"]
OPTIONS = [Options(), Options(cross_functional=True),
           Options(shared_language=True, max_timezone_hours=6),
           Options(min_seniority_gap=2, max_seniority_gap=15), Options(mode="reverse"),
           Options(same_location=True, cross_functional=True)]


def make_person(rng: random.Random, pid: str, capacity: int, pool: list[str]) -> Person:
    place = rng.choice(PLACES)
    skills = rng.sample(SKILLS, rng.randint(2, 6))
    langs = (["en"] if rng.random() < 0.8 else []) + rng.sample(LANGUAGES, rng.randint(0, 2))
    return Person(
        id=pid, name=pid, department=rng.choice(DEPARTMENTS), location=place[0],
        timezone=place[1], languages=tuple(langs), seniority=float(rng.randint(0, 25)),
        manager_id=rng.choice(pool) if pool and rng.random() < 0.15 else None,
        skills=tuple(Skill(s, rng.randint(1, 5)) for s in skills),
        goals=tuple(rng.choice(PHRASES).format(g.lower() if rng.random() < 0.5 else g)
                    for g in rng.sample(SKILLS, rng.randint(1, 3))),
        mentoring_available=capacity > 0 and rng.random() < 0.95,
        mentoring_capacity=capacity, visible=rng.random() < 0.97)


def make_cohort(rng: random.Random, n: int, m: int, capacity: int | None, tag: str
                ) -> tuple[list[Person], list[Person]]:
    mentors: list[Person] = []
    for j in range(m):
        cap = capacity if capacity is not None else rng.randint(1, 3)
        mentors.append(make_person(rng, f"{tag}m{j}", cap, [p.id for p in mentors]))
    pool = [p.id for p in mentors]
    mentees = [make_person(rng, f"{tag}e{i}", 0, pool) for i in range(n)]
    return mentees, mentors


def make_documents(rng: random.Random, mentors: list[Person], embedder) -> Expertise:
    """Two short documents per mentor about their skills, embedded once (as in the store)."""
    docs, by_author = {}, {}
    for p in mentors:
        for k in range(2):
            topics = rng.sample([s.name for s in p.skills], min(2, len(p.skills)))
            doc_id = f"{p.id}-d{k}"
            docs[doc_id] = DocInfo(doc_id, f"Notes on {' and '.join(topics)}",
                                   tuple(t.lower().replace(" ", "-") for t in topics[:1]))
            by_author.setdefault(p.id, []).append(doc_id)
    ids = list(docs)
    vectors = embedder.embed([docs[d].title for d in ids])
    return Expertise(docs, dict(zip(ids, vectors, strict=True)), by_author)


def check(assignment: np.ndarray, mentees: list[Person], mentors: list[Person],
          options: Options, people: dict[str, Person], past: set[tuple[str, str]],
          coverage: np.ndarray) -> int:
    """Hard-constraint violations of an assignment, re-checked pair by pair."""
    bad = 0
    for i, j in enumerate(assignment):
        if j >= 0:
            bad += bool(violations(mentees[i], mentors[j], options, people, past_pairs=past))
            bad += int(coverage[i, j] <= 0)
    load = Counter(int(j) for j in assignment if j >= 0)
    bad += sum(max(0, n - mentors[j].mentoring_capacity) for j, n in load.items())
    return int(bad)


def run_case(model: FitModel, rng: random.Random, index: int, embedder) -> dict:
    n, m = rng.randint(5, 300), rng.randint(3, 150)
    mentees, mentors = make_cohort(rng, n, m, None, f"c{index}")
    people = {p.id: p for p in [*mentees, *mentors]}
    options = OPTIONS[index % len(OPTIONS)]
    past = {(e.id, rng.choice(mentors).id) for e in rng.sample(mentees, n // 10)}
    fit = model.score(mentees, mentors, make_documents(rng, mentors, embedder))
    caps = [p.mentoring_capacity for p in mentors]
    allowed = feasible(rule_matrices(mentees, mentors, options, people, caps, past)) & \
        (fit.coverage > 0)
    solved, baseline = solve(fit.values, allowed, caps), greedy(fit.values, allowed, caps)
    most = solve(fit.values, allowed, caps, "most_matched")
    return {"mentees": n, "mentors": m, "options": options.__dict__,
            "solver_total": total(solved, fit.values),
            "greedy_total": total(baseline, fit.values),
            "solver_matched": int((solved >= 0).sum()),
            "greedy_matched": int((baseline >= 0).sum()),
            "most_matched": int((most >= 0).sum()),
            "violations": check(solved, mentees, mentors, options, people, past, fit.coverage)
            + check(most, mentees, mentors, options, people, past, fit.coverage)}


def large(embedder, rng: random.Random) -> dict:
    mentees, mentors = make_cohort(rng, 1000, 500, 2, "big")
    people = {p.id: p for p in [*mentees, *mentors]}
    expertise = make_documents(rng, mentors, embedder)
    options = Options(shared_language=True, max_timezone_hours=8)
    timings: dict[str, float] = {}
    model = FitModel(embedder)  # a cold cache: topics and skill names are embedded here
    started = time.perf_counter()
    fit = model.score(mentees, mentors, expertise)
    timings["fit_matrix_cold_s"] = time.perf_counter() - started
    started = time.perf_counter()
    fit = model.score(mentees, mentors, expertise)
    timings["fit_matrix_warm_s"] = time.perf_counter() - started
    caps = [2] * len(mentors)
    started = time.perf_counter()
    allowed = feasible(rule_matrices(mentees, mentors, options, people, caps)) & \
        (fit.coverage > 0)
    timings["rules_s"] = time.perf_counter() - started
    started = time.perf_counter()
    solved = solve(fit.values, allowed, caps)
    timings["solve_s"] = time.perf_counter() - started
    started = time.perf_counter()
    baseline = greedy(fit.values, allowed, caps)
    timings["greedy_s"] = time.perf_counter() - started
    started = time.perf_counter()
    result = match_cohort(model, mentees, mentors, people, options, expertise=expertise)
    timings["match_cohort_total_s"] = time.perf_counter() - started
    return {"mentees": 1000, "mentors": 500, "capacity": 2, "options": options.__dict__,
            **{k: round(v, 3) for k, v in timings.items()},
            "matched": result["summary"]["matched"], "total_fit": result["summary"]["total_fit"],
            "greedy_total_fit": round(total(baseline, fit.values), 4),
            "violations": check(solved, mentees, mentors, options, people, set(), fit.coverage)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="minilm", help="minilm or hashing")
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--year", action="store_true",
                        help="a simulated year of a programme instead (mentoring_year.py)")
    parser.add_argument("--scale", type=int, default=10, help="--year: times the demo")
    parser.add_argument("--cohort", type=int, default=60, help="--year: mentees a quarter")
    parser.add_argument("--repeat", type=int, default=20, help="--year: calls per endpoint")
    args = parser.parse_args()
    if args.year:
        year(args)
        return
    embedder = make_embedder(args.embedder if args.embedder != "hashing" else "hashing-2048")
    getattr(embedder, "warm_up", lambda: None)()
    rng = random.Random(args.seed)
    model = FitModel(embedder)
    cases = [run_case(model, rng, k, embedder) for k in range(args.cases)]
    gains = [c["solver_total"] - c["greedy_total"] for c in cases]
    rel = [g / c["greedy_total"] for g, c in zip(gains, cases, strict=True) if c["greedy_total"]]
    summary = {
        "embedder": embedder.name, "seed": args.seed, "cases": len(cases),
        "solver_at_least_greedy": sum(g >= -1e-6 for g in gains),
        "solver_better": sum(g > 1e-6 for g in gains),
        "mean_gain": round(float(np.mean(gains)), 4),
        "mean_gain_percent": round(100 * float(np.mean(rel)), 3),
        "max_gain_percent": round(100 * float(np.max(rel)), 3),
        "most_matched_extra_mentees": sum(c["most_matched"] - c["solver_matched"]
                                          for c in cases),
        "violations": sum(c["violations"] for c in cases)}
    print(f"{len(cases)} generated cohorts ({embedder.name}, seed {args.seed}): solver >= "
          f"greedy on {summary['solver_at_least_greedy']}/{len(cases)}, better on "
          f"{summary['solver_better']}; mean gain {summary['mean_gain']:.3f} fit "
          f"({summary['mean_gain_percent']:.2f} %, max {summary['max_gain_percent']:.2f} %); "
          f"violations {summary['violations']}")
    big = large(embedder, rng)
    print(f"1000 x 500 (capacity 2): fit matrix {big['fit_matrix_cold_s']:.2f} s cold / "
          f"{big['fit_matrix_warm_s']:.2f} s warm, rules {big['rules_s']:.2f} s, solve "
          f"{big['solve_s']:.2f} s, whole match {big['match_cohort_total_s']:.2f} s; "
          f"matched {big['matched']}, total fit {big['total_fit']:.1f} "
          f"(greedy {big['greedy_total_fit']:.1f}); violations {big['violations']}")
    name = "mentoring" if args.embedder == "minilm" else f"mentoring-{args.embedder}"
    path = write_results(name, {"summary": summary, "large": big, "cases": cases})
    print(f"wrote {path}")


def year(args: argparse.Namespace) -> None:
    from mentoring_year import programme_year, summary_lines

    name = "hashing-2048" if args.embedder == "hashing" else args.embedder
    result = programme_year(name, args.seed, args.scale, args.cohort, args.repeat)
    for line in summary_lines(result):
        print(line)
    suffix = ("" if args.embedder == "minilm" else f"-{args.embedder}") + (
        "" if args.scale == 10 else f"-x{args.scale}")  # a trial run keeps the figures
    print(f"wrote {write_results('mentoring-year' + suffix, result)}")


if __name__ == "__main__":
    main()
