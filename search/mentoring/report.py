"""The programme report for L&D: how mentoring is going, in aggregates only.

Over the relationships created in a period (``since``/``until``: dates, inclusive) with
a member (mentor or mentee) in the department or location asked for:

- relationships by state; reverse and group mentoring counts;
- days from the mentee's request to the proposal and to the start (median and mean);
- goals reached: of the goals of rated relationships, those the mentee said were
  reached (the mentee's word, not the mentor's);
- the share of pairs across departments and across locations (unknown counts as not
  across); mean ratings from each side;
- stalled relationships: active with no check-in (or start) for ``stalled_days``;
- mentor load: mentors with places held, their places held against capacity, how
  many are full, and how many hold 1, 2, 3... places.

No person is named. With fewer than ``min_group`` relationships only the count is
given: a small group's figures could be read back to the people in it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from indexer.records import Person
from indexer.relationships import HOLDS_PLACE, Relationship, Relationships
from indexer.store import Store
from search.mentoring.relationships import STALLED_DAYS, is_stalled, stalled_since

MIN_GROUP = 5
STATES = ("proposed", "active", "completed", "declined", "ended")


def programme_report(store: Store, people: Mapping[str, Person],
                     department: str | None = None, location: str | None = None,
                     since: str | None = None, until: str | None = None,
                     stalled_days: int = STALLED_DAYS, min_group: int = MIN_GROUP,
                     today: dt.date | None = None) -> dict[str, Any]:
    records = Relationships(store)
    rels = [r for r in records.find()
            if _in_period(r, since, until) and _belongs(r, people, department, location)]
    base = {"filters": {"department": department, "location": location, "since": since,
                        "until": until, "stalled_days": stalled_days},
            "min_group_size": min_group, "relationships": len(rels)}
    if len(rels) < min_group:
        return {**base, "suppressed": True,
                "note": f"fewer than {min_group} relationships: only the count is given"}
    ids = [r.id for r in rels]
    last = records.last_checkins()
    ratings = records.ratings(ids)
    return {**base, "suppressed": False,
            "by_state": {s: sum(r.state == s for r in rels) for s in STATES},
            "by_mode": dict(sorted(Counter(r.mode for r in rels).items())),
            "reverse": sum(r.mode == "reverse" for r in rels),
            "group": sum(r.mode == "group" for r in rels),
            "days_to_proposal": _days([(r.requested_at, r.created_at) for r in rels]),
            "days_to_start": _days([(r.requested_at, r.activated_at) for r in rels
                                    if r.activated_at]),
            "goals": _goals(rels, ratings),
            "ratings": {side: _mean([x["rating"] for x in ratings if x["side"] == side])
                        for side in ("mentee", "mentor")},
            "cross_department": _share(rels, people, "department"),
            "cross_location": _share(rels, people, "location"),
            "stalled": sum(is_stalled(r, stalled_since(r, last.get(r.id)), stalled_days,
                                      today) for r in rels),
            "mentor_load": _load(rels, people)}


def _in_period(rel: Relationship, since: str | None, until: str | None) -> bool:
    day = rel.created_at[:10]
    return (since is None or day >= since[:10]) and (until is None or day <= until[:10])


def _belongs(rel: Relationship, people: Mapping[str, Person], department: str | None,
             location: str | None) -> bool:
    members = [people[p] for p in rel.members() if p in people]
    return ((department is None or any(_same(p.department, department) for p in members))
            and (location is None or any(_same(p.location, location) for p in members)))


def _same(value: str | None, wanted: str) -> bool:
    return value is not None and value.strip().casefold() == wanted.strip().casefold()


def _days(spans: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    days = [(dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()
            / 86400 for a, b in spans if b]
    return {"count": len(days), "median": round(statistics.median(days), 2) if days else None,
            "mean": _mean(days)}


def _goals(rels: Sequence[Relationship], ratings: Sequence[dict[str, Any]]
           ) -> dict[str, Any]:
    said = {(x["relationship"], x["person"]): x["reached"] for x in ratings
            if x["side"] == "mentee"}
    total = reached = 0
    for rel in rels:
        for goal in rel.goals:
            answer = said.get((rel.id, goal["mentee"]))
            if answer is not None:
                total += 1
                reached += bool(answer.get(goal["id"]))
    return {"total": sum(len(r.goals) for r in rels), "rated": total, "reached": reached,
            "reached_share": round(reached / total, 4) if total else None}


def _share(rels: Sequence[Relationship], people: Mapping[str, Person],
           attr: str) -> float | None:
    pairs = [(people.get(m), people.get(r.mentor)) for r in rels for m in r.mentees]
    if not pairs:
        return None
    across = sum(1 for a, b in pairs if a and b and getattr(a, attr) and getattr(b, attr)
                 and not _same(getattr(a, attr), getattr(b, attr)))
    return round(across / len(pairs), 4)


def _load(rels: Sequence[Relationship], people: Mapping[str, Person]) -> dict[str, Any]:
    held: Counter[str] = Counter()
    for rel in rels:
        if rel.state in HOLDS_PLACE:
            held[rel.mentor] += len(rel.mentees)
    capacity = {m: people[m].mentoring_capacity if m in people else 0 for m in held}
    return {"mentors": len(held), "places_held": sum(held.values()),
            "capacity": sum(capacity.values()),
            "full": sum(held[m] >= capacity[m] for m in held),
            "mentors_by_places_held": {str(k): v for k, v in
                                       sorted(Counter(held.values()).items())}}


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def report_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV: one figure per row (section, name, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "value"])
    for section, value in report.items():
        if isinstance(value, Mapping):
            for name, inner in value.items():
                if isinstance(inner, Mapping):
                    for key, x in inner.items():
                        writer.writerow([section, f"{name}.{key}", _cell(x)])
                else:
                    writer.writerow([section, name, _cell(inner)])
        else:
            writer.writerow([section, "", _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
