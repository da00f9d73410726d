"""Mentoring relationships in the store: the pairs, their goals, check-ins, milestones,
ratings, and one event log that is both their history and the LMS's change feed.

Tables (created idempotently on the store's connection): ``mentoring_relationships``
(one row each: mode, mentor, state, who created it and when), ``mentoring_mentees``
(one row per mentee: a group has several), ``mentoring_goals``,
``mentoring_milestones``, ``mentoring_checkins``, ``mentoring_ratings``,
``mentoring_skills`` (goals a mentee reached and agreed to list as skills) and
``mentoring_events`` (every change: which, who, when; its ``seq`` is the cursor of the
change feed).

This module keeps records and the one rule that must be decided inside the write
transaction: a mentor's places. Which changes are allowed and who may make them is
``search.mentoring.relationships``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import Conflict, NotFound
from indexer.store import Store

# A place is held from the proposal on (so that a proposal can become active) until the
# relationship is declined, completed or ended.
HOLDS_PLACE = ("proposed", "active")


@dataclass(frozen=True)
class Relationship:
    id: str
    mode: str  # standard, reverse or group
    mentor: str
    mentees: tuple[str, ...]
    state: str
    source: str  # suggestion, cohort or request
    created_at: str
    created_by: str
    requested_at: str
    activated_at: str | None = None
    ended_at: str | None = None
    end_reason: str | None = None
    goals: tuple[dict[str, Any], ...] = field(default=())

    def members(self) -> tuple[str, ...]:
        return (self.mentor, *self.mentees)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "mode": self.mode, "mentor": self.mentor,
                "mentees": list(self.mentees), "state": self.state, "source": self.source,
                "created_at": self.created_at, "created_by": self.created_by,
                "requested_at": self.requested_at, "activated_at": self.activated_at,
                "ended_at": self.ended_at, "end_reason": self.end_reason,
                "goals": [dict(g) for g in self.goals]}


class Relationships:
    """The relationship records of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._create_schema()

    @property
    def db(self):  # noqa: ANN201 - this thread's sqlite_utils.Database
        return self.store.db

    def _create_schema(self) -> None:
        db = self.db
        if self.store.has_table("mentoring_events"):
            return
        with self.store.writing():
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_relationships (id TEXT PRIMARY "
                       "KEY, mode TEXT, mentor_id TEXT, state TEXT, source TEXT, "
                       "created_at TEXT, created_by TEXT, requested_at TEXT, "
                       "activated_at TEXT, ended_at TEXT, end_reason TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_mentees (relationship_id TEXT, "
                       "mentee_id TEXT, PRIMARY KEY (relationship_id, mentee_id))")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_goals (id INTEGER PRIMARY KEY, "
                       "relationship_id TEXT, mentee_id TEXT, text TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_milestones (id INTEGER PRIMARY "
                       "KEY, relationship_id TEXT, goal_id INTEGER, title TEXT, due TEXT, "
                       "done_at TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_checkins (id INTEGER PRIMARY "
                       "KEY, relationship_id TEXT, on_date TEXT, by TEXT, notes TEXT, "
                       "goals TEXT, created_at TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_ratings (relationship_id TEXT, "
                       "person_id TEXT, side TEXT, rating INTEGER, reached TEXT, "
                       "at TEXT, PRIMARY KEY (relationship_id, person_id))")
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_skills (person_id TEXT, "
                       "skill TEXT, relationship_id TEXT, confirmed_at TEXT, "
                       "PRIMARY KEY (person_id, skill))")
            db.execute("CREATE INDEX IF NOT EXISTS mentoring_by_mentor ON "
                       "mentoring_relationships(mentor_id, state)")
            db.execute("CREATE INDEX IF NOT EXISTS mentoring_by_mentee ON "
                       "mentoring_mentees(mentee_id)")
            db.execute("CREATE INDEX IF NOT EXISTS mentoring_checkins_rel ON "
                       "mentoring_checkins(relationship_id)")
            # Last: its existence says the schema is complete.
            db.execute("CREATE TABLE IF NOT EXISTS mentoring_events (seq INTEGER PRIMARY KEY "
                       "AUTOINCREMENT, relationship_id TEXT, kind TEXT, at TEXT, by TEXT, "
                       "detail TEXT)")

    # -- places ---------------------------------------------------------------

    def held_places(self, mentors: Iterable[str] | None = None) -> dict[str, int]:
        """mentor id -> places held (mentees of proposed and active relationships)."""
        sql = (f"SELECT r.mentor_id, count(*) FROM mentoring_relationships r JOIN "
               f"mentoring_mentees m ON m.relationship_id = r.id WHERE r.state IN "
               f"({','.join('?' * len(HOLDS_PLACE))})")
        params: list[Any] = list(HOLDS_PLACE)
        if mentors is not None:
            ids = list(dict.fromkeys(mentors))
            sql += f" AND r.mentor_id IN ({','.join('?' * len(ids))})"
            params += ids
        return dict(self.db.execute(sql + " GROUP BY r.mentor_id", params).fetchall())

    def _check_apart(self, mentor: str, mentees: Sequence[str]) -> None:
        """No mentee may have this mentor twice at once (two racing requests included)."""
        marks = ",".join("?" * len(mentees))
        row = self.db.execute(
            f"SELECT m.mentee_id FROM mentoring_relationships r JOIN mentoring_mentees m ON "
            f"m.relationship_id = r.id WHERE r.mentor_id = ? AND r.state IN "
            f"({','.join('?' * len(HOLDS_PLACE))}) AND m.mentee_id IN ({marks}) LIMIT 1",
            [mentor, *HOLDS_PLACE, *mentees]).fetchone()
        if row:
            raise Conflict(f"{mentor} mentors {row[0]} already (proposed or active)",
                           "follow that relationship instead")

    def _check_place(self, mentor: str, wanted: int, capacity: int) -> None:
        held = self.held_places([mentor]).get(mentor, 0)
        if held + wanted > capacity:
            raise Conflict(f"{mentor} has {max(capacity - held, 0)} free mentoring place(s) "
                           f"of {capacity}; this needs {wanted}",
                           "pick another mentor, or wait until a place frees up")

    # -- writing --------------------------------------------------------------

    def create(self, mode: str, mentor: str, mentees: Sequence[str], goals: Sequence[
               tuple[str, str]], source: str, by: str, at: str, capacity: int,
               requested_at: str | None = None, state: str = "proposed") -> Relationship:
        """A new relationship, if the mentor has ``len(mentees)`` free places of
        ``capacity``: checked and taken in one write transaction (BEGIN IMMEDIATE), so
        two requests racing for the last place get one relationship and one Conflict."""
        rel_id = "rel-" + secrets.token_hex(6)
        with self.store.writing():
            self._check_apart(mentor, mentees)
            self._check_place(mentor, len(mentees), capacity)
            self.db["mentoring_relationships"].insert(
                {"id": rel_id, "mode": mode, "mentor_id": mentor, "state": state,
                 "source": source, "created_at": at, "created_by": by,
                 "requested_at": requested_at or at,
                 "activated_at": at if state == "active" else None})
            self.db["mentoring_mentees"].insert_all(
                [{"relationship_id": rel_id, "mentee_id": m} for m in mentees])
            self._event(rel_id, "created", at, by, {"state": state, "mentor": mentor,
                                                    "mentees": list(mentees), "mode": mode})
            for mentee, text in goals:
                self._add_goal(rel_id, mentee, text, at, by)
        return self.get(rel_id)

    def set_state(self, rel_id: str, allowed_from: Mapping[str, Iterable[str]], state: str,
                  by: str, at: str, reason: str | None = None) -> Relationship:
        """Move to ``state`` if the current state may move there (``allowed_from``: state
        -> the states it may move to), read and written in one transaction."""
        with self.store.writing():
            current = self._row(rel_id)["state"]
            if state not in allowed_from.get(current, ()):
                raise Conflict(f"relationship {rel_id} is {current}; it cannot become {state}",
                               _next_states(current, allowed_from))
            columns: dict[str, Any] = {"state": state}
            if state == "active":
                columns["activated_at"] = at
            elif state not in HOLDS_PLACE:
                columns.update(ended_at=at, end_reason=reason)
            self.db["mentoring_relationships"].update(rel_id, columns)
            self._event(rel_id, "state", at, by, {"from": current, "to": state,
                                                  "reason": reason})
        return self.get(rel_id)

    def swap_mentor(self, rel_id: str, mentor: str, capacity: int, by: str, at: str,
                    reason: str) -> Relationship:
        """Give a proposed relationship another mentor, who must have the places."""
        with self.store.writing():
            row = self._row(rel_id)
            if row["state"] != "proposed":
                raise Conflict(f"relationship {rel_id} is {row['state']}; only a proposed "
                               "match can change its mentor", "end it and propose a new one")
            mentees = self._mentees([rel_id])[rel_id]
            self._check_apart(mentor, mentees)
            self._check_place(mentor, len(mentees), capacity)
            self.db["mentoring_relationships"].update(rel_id, {"mentor_id": mentor})
            self._event(rel_id, "mentor", at, by, {"from": row["mentor_id"], "to": mentor,
                                                   "reason": reason})
        return self.get(rel_id)

    def add_goal(self, rel_id: str, mentee: str, text: str, by: str, at: str) -> int:
        with self.store.writing():
            self._row(rel_id)
            return self._add_goal(rel_id, mentee, text, at, by)

    def _add_goal(self, rel_id: str, mentee: str, text: str, at: str, by: str) -> int:
        goal_id = self.db["mentoring_goals"].insert(
            {"relationship_id": rel_id, "mentee_id": mentee, "text": text}).last_pk
        self._event(rel_id, "goal", at, by, {"goal": goal_id, "mentee": mentee, "text": text})
        return int(goal_id)

    def add_milestone(self, rel_id: str, goal_id: int, title: str, due: str | None,
                      by: str, at: str) -> int:
        with self.store.writing():
            self._goal(rel_id, goal_id)
            milestone = self.db["mentoring_milestones"].insert(
                {"relationship_id": rel_id, "goal_id": goal_id, "title": title, "due": due,
                 "done_at": None}).last_pk
            self._event(rel_id, "milestone", at, by, {"milestone": milestone, "goal": goal_id,
                                                      "title": title, "due": due})
        return int(milestone)

    def complete_milestone(self, rel_id: str, milestone_id: int, by: str, at: str) -> None:
        with self.store.writing():
            cursor = self.db.execute(
                "UPDATE mentoring_milestones SET done_at = ? WHERE id = ? AND "
                "relationship_id = ? AND done_at IS NULL", [at, milestone_id, rel_id])
            if cursor.rowcount == 0:
                raise NotFound(f"no open milestone {milestone_id} in relationship {rel_id}")
            self._event(rel_id, "milestone_done", at, by, {"milestone": milestone_id})

    def add_checkin(self, rel_id: str, on_date: str, notes: str, goals: Sequence[int],
                    by: str, at: str) -> int:
        with self.store.writing():
            for goal_id in goals:
                self._goal(rel_id, goal_id)
            checkin = self.db["mentoring_checkins"].insert(
                {"relationship_id": rel_id, "on_date": on_date, "by": by, "notes": notes,
                 "goals": json.dumps(list(goals)), "created_at": at}).last_pk
            # The event says that a check-in happened, never what its notes say.
            self._event(rel_id, "checkin", at, by, {"checkin": checkin, "date": on_date,
                                                    "goals": list(goals)})
        return int(checkin)

    def rate(self, rel_id: str, person: str, side: str, rating: int,
             reached: Mapping[int, bool], skills: Sequence[str], at: str) -> None:
        """One side's rating and, per goal, whether it was reached; ``skills``: the goals
        the mentee agreed to list as confirmed skills. Once per person."""
        with self.store.writing():
            for goal_id in reached:
                self._goal(rel_id, goal_id)
            if self.db.execute("SELECT 1 FROM mentoring_ratings WHERE relationship_id = ? "
                               "AND person_id = ?", [rel_id, person]).fetchone():
                raise Conflict(f"{person} has rated relationship {rel_id} already")
            self.db["mentoring_ratings"].insert(
                {"relationship_id": rel_id, "person_id": person, "side": side,
                 "rating": rating, "reached": json.dumps({str(k): v for k, v in
                                                          reached.items()}), "at": at})
            self.db["mentoring_skills"].upsert_all(
                [{"person_id": person, "skill": s, "relationship_id": rel_id,
                  "confirmed_at": at} for s in skills], pk=("person_id", "skill"))
            self._event(rel_id, "rating", at, person, {"side": side, "rating": rating,
                                                       "reached": len([v for v in
                                                                       reached.values() if v]),
                                                       "skills": list(skills)})

    def _event(self, rel_id: str, kind: str, at: str, by: str, detail: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO mentoring_events (relationship_id, kind, at, by, detail) "
                        "VALUES (?, ?, ?, ?, ?)", [rel_id, kind, at, by, json.dumps(detail)])

    # -- reading --------------------------------------------------------------

    def _row(self, rel_id: str) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM mentoring_relationships WHERE id = ?",
                                  [rel_id]))
        if not rows:
            raise missing(rel_id)
        return rows[0]

    def _goal(self, rel_id: str, goal_id: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM mentoring_goals WHERE id = ? AND "
                                  "relationship_id = ?", [goal_id, rel_id]))
        if not rows:
            raise NotFound(f"no goal {goal_id} in relationship {rel_id}")
        return rows[0]

    def _mentees(self, rel_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {r: [] for r in rel_ids}
        for chunk in _chunks(list(rel_ids)):
            for rel, mentee in self.db.execute(
                    f"SELECT relationship_id, mentee_id FROM mentoring_mentees WHERE "
                    f"relationship_id IN ({','.join('?' * len(chunk))}) ORDER BY rowid", chunk):
                out[rel].append(mentee)
        return out

    def _goals(self, rel_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {r: [] for r in rel_ids}
        for chunk in _chunks(list(rel_ids)):
            for row in self.db.query(
                    f"SELECT id, relationship_id, mentee_id, text FROM mentoring_goals WHERE "
                    f"relationship_id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk):
                out[row["relationship_id"]].append(
                    {"id": row["id"], "mentee": row["mentee_id"], "text": row["text"]})
        return out

    def get(self, rel_id: str) -> Relationship:
        return self._build([self._row(rel_id)])[0]

    def find(self, state: str | None = None, person: str | None = None,
             ids: Sequence[str] | None = None) -> list[Relationship]:
        """Relationships, newest first: in ``state``, with ``person`` as mentor or mentee."""
        where, params = ["1"], []
        if state:
            where.append("r.state = ?")
            params.append(state)
        if person:
            where.append("(r.mentor_id = ? OR r.id IN (SELECT relationship_id FROM "
                         "mentoring_mentees WHERE mentee_id = ?))")
            params += [person, person]
        if ids is not None:
            where.append(f"r.id IN ({','.join('?' * len(ids)) or 'NULL'})")
            params += list(ids)
        rows = list(self.db.query(f"SELECT * FROM mentoring_relationships r WHERE "
                                  f"{' AND '.join(where)} ORDER BY r.created_at DESC, r.id",
                                  params))
        return self._build(rows)

    def _build(self, rows: Sequence[dict[str, Any]]) -> list[Relationship]:
        ids = [r["id"] for r in rows]
        mentees, goals = self._mentees(ids), self._goals(ids)
        return [Relationship(
            id=r["id"], mode=r["mode"], mentor=r["mentor_id"], mentees=tuple(mentees[r["id"]]),
            state=r["state"], source=r["source"], created_at=r["created_at"],
            created_by=r["created_by"], requested_at=r["requested_at"],
            activated_at=r["activated_at"], ended_at=r["ended_at"],
            end_reason=r["end_reason"], goals=tuple(goals[r["id"]])) for r in rows]

    def checkins(self, rel_id: str) -> list[dict[str, Any]]:
        return [{"id": r["id"], "date": r["on_date"], "by": r["by"], "notes": r["notes"],
                 "goals": json.loads(r["goals"] or "[]"), "recorded_at": r["created_at"]}
                for r in self.db.query("SELECT * FROM mentoring_checkins WHERE "
                                       "relationship_id = ? ORDER BY on_date, id", [rel_id])]

    def milestones(self, rel_id: str) -> list[dict[str, Any]]:
        return [{"id": r["id"], "goal": r["goal_id"], "title": r["title"], "due": r["due"],
                 "done_at": r["done_at"]}
                for r in self.db.query("SELECT * FROM mentoring_milestones WHERE "
                                       "relationship_id = ? ORDER BY id", [rel_id])]

    def ratings(self, rel_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM mentoring_ratings", []
        if rel_ids is not None:
            sql += f" WHERE relationship_id IN ({','.join('?' * len(rel_ids)) or 'NULL'})"
            params = list(rel_ids)
        return [{"relationship": r["relationship_id"], "person": r["person_id"],
                 "side": r["side"], "rating": r["rating"], "at": r["at"],
                 "reached": {int(k): bool(v) for k, v in json.loads(r["reached"]).items()}}
                for r in self.db.query(sql + " ORDER BY at, person_id", params)]

    def confirmed_skills(self, person: str) -> list[dict[str, Any]]:
        return [{"skill": r["skill"], "relationship": r["relationship_id"],
                 "confirmed_at": r["confirmed_at"]}
                for r in self.db.query("SELECT * FROM mentoring_skills WHERE person_id = ? "
                                       "ORDER BY skill", [person])]

    def last_checkins(self) -> dict[str, str]:
        """relationship id -> the date of its latest check-in."""
        return dict(self.db.execute("SELECT relationship_id, max(on_date) FROM "
                                    "mentoring_checkins GROUP BY relationship_id").fetchall())

    def events(self, after: int = 0, limit: int = 100,
               rel_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Changes with a cursor above ``after``, oldest first (of ``rel_ids`` only)."""
        sql = "SELECT * FROM mentoring_events WHERE seq > ?"
        params: list[Any] = [after]
        if rel_ids is not None:
            sql += f" AND relationship_id IN ({','.join('?' * len(rel_ids)) or 'NULL'})"
            params += list(rel_ids)
        rows = self.db.query(sql + " ORDER BY seq LIMIT ?", [*params, limit])
        return [{"cursor": r["seq"], "relationship": r["relationship_id"], "kind": r["kind"],
                 "at": r["at"], "by": r["by"], "detail": json.loads(r["detail"])}
                for r in rows]

    def last_cursor(self) -> int:
        return self.db.execute("SELECT coalesce(max(seq), 0) FROM mentoring_events"
                               ).fetchone()[0]


def missing(rel_id: str) -> NotFound:
    """The answer for an unknown relationship, and for one the caller may not see."""
    return NotFound(f"no mentoring relationship {rel_id!r}",
                    "list them with GET /api/mentoring/relationships")


def _next_states(current: str, allowed_from: Mapping[str, Iterable[str]]) -> str:
    nxt = sorted(allowed_from.get(current, ()))
    return f"from {current} it can become {' or '.join(nxt)}" if nxt else \
        f"{current} is final"


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
