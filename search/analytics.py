"""Analytics for L&D and admins: what people search and do not find, who is asked, which
topics rest on one person, and how departments and locations connect through topics.

Aggregates only. Searches are grouped into topics by meaning (a query joins the first
topic whose first query is at least ``TOPIC_SIMILARITY`` close); a topic is shown only
once ``min_askers`` different askers searched it, and it is named by the query the most
askers typed, so no topic or name reveals one person's searches.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.embedders import rescale
from indexer.feedback import Vote
from indexer.query_log import LoggedQuery
from indexer.records import Person
from search.recency import decay, parse_day
from search.text import stem, terms

TOPIC_SIMILARITY = 0.75
GAP_WEAK_SHARE = 0.5  # a topic is a gap when at least this share of its searches was weak


def search_topics(entries: Sequence[LoggedQuery], votes: Sequence[Vote], min_askers: int,
                  similarity: float = TOPIC_SIMILARITY, cosine_floor: float = 0.0
                  ) -> list[dict[str, Any]]:
    """Topics people search, most searched first, each with how well it was answered:
    weak matches, clicks and verdicts on its results. ``gap``: mostly weak matches, or
    nobody opened or liked a result, or more said "not about this" than "helped"."""
    heads: list[np.ndarray] = []
    members: list[list[LoggedQuery]] = []
    for entry in entries:
        vector = _unit(entry.vector)
        sims = [float(rescale(h @ vector, cosine_floor)) for h in heads] if heads else []
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= similarity:
            members[best].append(entry)
        else:
            heads.append(vector)
            members.append([entry])
    topics = []
    for head, group in zip(heads, members, strict=True):
        askers = {e.asker or f"search-{e.id}" for e in group}  # unknown askers count apart
        if len(askers) < min_askers:
            continue
        said = Counter(v.sign for v in votes if v.target == "document"
                       and len(v.vector) == len(head)
                       and float(rescale(_unit(v.vector) @ head, cosine_floor)) >= similarity)
        weak = sum(e.weak for e in group)
        topic = {"topic": _name(group), "searches": len(group), "askers": len(askers),
                 "weak": weak, "clicks": said[0], "helped": said[1], "not_about": said[-1]}
        topic["gap"] = (weak >= GAP_WEAK_SHARE * len(group) or said[0] + said[1] == 0
                        or said[-1] > said[1])
        topics.append(topic)
    return sorted(topics, key=lambda t: (-t["searches"], t["topic"]))


def expert_load(entries: Sequence[LoggedQuery], people: dict[str, Person]
                ) -> list[dict[str, Any]]:
    """How often each person was suggested, and how often first, most suggested first."""
    shown, first = Counter(), Counter()
    for entry in entries:
        shown.update(entry.experts)
        if entry.experts:
            first[entry.experts[0]] += 1
    total = sum(1 for e in entries if e.experts)
    return [{"id": pid, "name": people[pid].name if pid in people else pid,
             "suggested": n, "first": first[pid],
             "share": round(n / total, 4) if total else 0.0}
            for pid, n in sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))]


def topic_coverage(tags: dict[str, tuple[str, ...]], authorship: dict[str, list[str]],
                   dates: dict[str, str], people: dict[str, Person],
                   excluded: dict[str, tuple[str, ...]], half_life_days: float,
                   today: dt.date, votes: Sequence[Vote] = ()) -> list[dict[str, Any]]:
    """Per topic (a document tag): its active experts, and the authors who have left.

    A person counts for a topic by the sum of their documents with the tag, each weighed
    by its age (``half_life_days``; 0: not at all), plus each "helped me" said of them for
    a question naming the topic (answering is expertise), less each "not an expert on
    this"; an *active* expert is a listed person with at least 0.5 (one document within
    a half-life) who did not hide or opt out of the topic. An author who is no one in the
    people records any more (removed from the HR export) *has left*. ``risk``: none (no
    active expert), one, or ok."""
    weight: dict[str, Counter] = {}
    for vote in votes:
        if vote.target != "person" or vote.target_id not in people or not vote.sign:
            continue
        asked = {stem(t) for t in terms(vote.query)}
        for tag in {t for ts in tags.values() for t in ts}:
            stems = {stem(t) for t in terms(tag)}
            if stems and stems <= asked:
                weight.setdefault(tag, Counter())[vote.target_id] += vote.sign
    left: dict[str, set[str]] = {}
    for doc_id, doc_tags in tags.items():
        day = parse_day(dates.get(doc_id))
        w = decay((today - day).days, half_life_days) if day else 1.0
        for tag in doc_tags:
            for author in authorship.get(doc_id, []):
                if author in people:
                    weight.setdefault(tag, Counter())[author] += w
                else:
                    left.setdefault(tag, set()).add(author)
    out = []
    for tag in sorted(set(weight) | set(left), key=str.casefold):
        active = sorted(p for p, w in weight.get(tag, Counter()).items()
                        if w >= 0.5 and people[p].visible and tag.casefold()
                        not in {t.casefold() for t in excluded.get(p, ())})
        gone = len(left.get(tag, ()))
        out.append({"topic": tag, "active_experts": len(active),
                    "experts": [{"id": p, "name": people[p].name} for p in active][:5],
                    "left": gone,
                    "risk": "none" if not active else "one" if len(active) == 1 else "ok",
                    "orphaned": not active and gone > 0})
    return out


def expertise_network(tags: dict[str, tuple[str, ...]], authorship: dict[str, list[str]],
                      dates: dict[str, str], people: dict[str, Person], by: str,
                      mentoring: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """Departments (``by="department"``) or locations linked when people of both wrote on
    one topic, or one mentors the other (``mentoring``: (mentor, mentee, day started)):
    the links now, the density (links over possible pairs), and the density at the end
    of each year the documents and relationships span."""
    def place(pid: str) -> str | None:
        person = people.get(pid)
        return getattr(person, by) if person is not None and person.visible else None

    def graph(until: dt.date | None) -> tuple[set[str], Counter, Counter]:
        groups_of: dict[str, set[str]] = {}
        for doc_id, doc_tags in tags.items():
            day = parse_day(dates.get(doc_id))
            if until is not None and (day is None or day > until):
                continue
            places = {g for a in authorship.get(doc_id, []) if (g := place(a))}
            for tag in doc_tags:
                groups_of.setdefault(tag, set()).update(places)
        nodes = {g for gs in groups_of.values() for g in gs}
        topics = Counter(pair for gs in groups_of.values()
                         for pair in itertools.combinations(sorted(gs), 2))
        pairs = Counter()
        for mentor, mentee, day in mentoring:
            started = parse_day(day)
            ends = (place(mentor), place(mentee))
            if (until is None or (started and started <= until)) and all(ends):
                nodes.update(ends)
                if ends[0] != ends[1]:
                    pairs[tuple(sorted(ends))] += 1
        return nodes, topics, pairs

    nodes, topics, pairs = graph(None)
    years = sorted({d.year for d in map(parse_day, [*dates.values(),
                                                    *(m[2] for m in mentoring)]) if d})
    history = []
    for year in years:
        n, ts, ps = graph(dt.date(year, 12, 31))
        history.append({"year": year, "groups": len(n), "links": len(ts.keys() | ps.keys()),
                        "density": _density(len(n), len(ts.keys() | ps.keys()))})
    linked = sorted(topics.keys() | pairs.keys(),
                    key=lambda k: (-(topics[k] + pairs[k]), k))
    return {"by": by, "groups": sorted(nodes),
            "density": _density(len(nodes), len(linked)),
            "links": [{"a": a, "b": b, "shared_topics": topics[(a, b)],
                       "mentoring": pairs[(a, b)]} for a, b in linked],
            "history": history}


def _density(nodes: int, links: int) -> float:
    return round(links / (nodes * (nodes - 1) / 2), 4) if nodes > 1 else 0.0


def _name(group: Sequence[LoggedQuery]) -> str:
    """The query typed by the most different askers (then the most often)."""
    askers: dict[str, set[str]] = {}
    for e in group:
        askers.setdefault(" ".join(e.query.casefold().split()), set()).add(
            e.asker or f"search-{e.id}")
    return max(askers, key=lambda q: (len(askers[q]), -len(q), q))


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
