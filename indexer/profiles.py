"""People's choices about their own profile.

A choice is one of ``CHOICES`` on a topic (a skill name, a tag, any few words):

- ``confirm``: an inferred skill is right; it counts as a declared skill (``level``);
- ``hide``: an inferred or declared skill is wrong or private; it never shows and never
  counts;
- ``ask_me``: a topic they want to be asked about (counts as a declared skill);
- ``learn``: a topic they want to learn (a goal; no expertise);
- ``opt_out``: never suggest them for this topic; with the topic ``""``, never at all.

Opting out entirely sets the person's ``visible`` flag, the one rule every path
(search, profiles, documents' authors, mentoring) already applies; opting back in
restores it. ``profiles_generation`` in the meta table advances with every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.errors import InvalidRecord, NotFound
from indexer.feedback import now
from indexer.store import Store

CHOICES = ("confirm", "hide", "ask_me", "learn", "opt_out")
EXCLUSIVE = {"confirm": "hide", "hide": "confirm"}  # choosing one drops the other
GENERATION = "profiles_generation"
MAX_TOPIC = 100


@dataclass
class Choices:
    """One person's choices, by kind: topic -> level (None where no level applies)."""

    confirm: dict[str, int] = field(default_factory=dict)
    hide: set[str] = field(default_factory=set)
    ask_me: set[str] = field(default_factory=set)
    learn: set[str] = field(default_factory=set)
    opt_out: set[str] = field(default_factory=set)

    @property
    def opted_out(self) -> bool:
        return "" in self.opt_out


def topic_key(topic: str) -> str:
    return " ".join(topic.casefold().split())


class ProfileBook:
    """The ``profile_choices`` table, created on first use. Which person a key stands for
    is the key's own record (``indexer.keys``), one binding for profiles and mentoring."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.has_table("profile_choices"):
            return
        with store.writing():
            store.db["profile_choices"].create(
                {"person_id": str, "kind": str, "topic_key": str, "topic": str,
                 "level": int, "at": str},
                pk=("person_id", "kind", "topic_key"), if_not_exists=True)

    @property
    def generation(self) -> int:
        return int(self.store.get_meta(GENERATION) or 0)

    def choose(self, person_id: str, kind: str, topic: str = "", level: int = 3) -> None:
        topic = " ".join(topic.split())
        _check(kind, topic, level)
        self.store.get_person(person_id)  # NotFound for nobody
        with self.store.writing():
            if kind in EXCLUSIVE:
                self._delete(person_id, EXCLUSIVE[kind], topic)
            self.store.db["profile_choices"].upsert(
                {"person_id": person_id, "kind": kind, "topic_key": topic_key(topic),
                 "topic": topic, "level": level if kind == "confirm" else None, "at": now()},
                pk=("person_id", "kind", "topic_key"))
            if kind == "opt_out" and not topic:
                self._set_visible(person_id, False)
            self._bump()

    def undo(self, person_id: str, kind: str, topic: str = "") -> None:
        _check(kind, topic, 3)
        with self.store.writing():
            if not self._delete(person_id, kind, topic):
                raise NotFound(f"{person_id} has no {kind} choice on {topic!r}")
            if kind == "opt_out" and not topic.strip():
                self._set_visible(person_id, True)
            self._bump()

    def choices(self, person_ids: list[str] | None = None) -> dict[str, Choices]:
        sql, params = "SELECT * FROM profile_choices", []
        if person_ids is not None:
            sql += f" WHERE person_id IN ({','.join('?' * len(person_ids))})"
            params = list(person_ids)
        out: dict[str, Choices] = {}
        for r in self.store.db.query(sql + " ORDER BY at, rowid", params):
            mine = out.setdefault(r["person_id"], Choices())
            if r["kind"] == "confirm":
                mine.confirm[r["topic"]] = int(r["level"] or 3)
            else:
                getattr(mine, r["kind"]).add(r["topic"])
        return out

    def opted_out(self) -> set[str]:
        """The people who opted out entirely: an import of their record (an HR export)
        keeps them hidden (ingest.pipeline), until they opt back in themselves."""
        rows = self.store.db.execute("SELECT person_id FROM profile_choices WHERE "
                                     "kind = 'opt_out' AND topic_key = ''").fetchall()
        return {r[0] for r in rows}

    def of(self, person_id: str) -> Choices:
        return self.choices([person_id]).get(person_id, Choices())

    def _delete(self, person_id: str, kind: str, topic: str) -> int:
        return self.store.db.execute(
            "DELETE FROM profile_choices WHERE person_id = ? AND kind = ? AND topic_key = ?",
            [person_id, kind, topic_key(topic)]).rowcount

    def _set_visible(self, person_id: str, visible: bool) -> None:
        self.store.db.execute("UPDATE people SET visible = ? WHERE id = ?",
                              [int(visible), person_id])
        # Caches of people key on this counter (indexer/store.py).
        self.store.set_meta("people_generation", str(self.store.people_generation + 1))

    def _bump(self) -> None:
        self.store.set_meta(GENERATION, str(self.generation + 1))


def _check(kind: str, topic: str, level: int) -> None:
    if kind not in CHOICES:
        raise InvalidRecord(f"unknown choice {kind!r}", f"use one of {', '.join(CHOICES)}")
    if not topic.strip() and kind != "opt_out":
        raise InvalidRecord(f"a {kind} choice needs a topic")
    if len(topic) > MAX_TOPIC:
        raise InvalidRecord(f"a topic is at most {MAX_TOPIC} characters")
    if not 1 <= level <= 5:
        raise InvalidRecord("a level is between 1 and 5")
