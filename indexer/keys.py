"""API keys: roles and groups, stored hashed in the store's ``api_keys`` table.

A key looks like ``wk_<id>_<secret>``; only the SHA-256 of the whole key is kept,
so a leaked database does not leak keys. The secret is random (32 bytes), so a
fast hash is enough: there is nothing to brute-force. A key may stand for a person
(``person_id``): then its caller is that person, a member of their own mentoring
relationships.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from indexer.errors import InvalidRecord, NotFound
from indexer.store import Store

ROLES = ("reader", "lms", "admin")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str | None
    role: str
    groups: tuple[str, ...]
    created_at: str
    revoked: bool = False
    person_id: str | None = None

    def can(self, role: str) -> bool:
        return role_allows(self.role, role)


def role_allows(held: str, needed: str) -> bool:
    """Whether a caller holding role ``held`` may do what ``needed`` allows:
    admin > lms > reader. The one definition of the role order."""
    return ROLES.index(held) >= ROLES.index(needed)


class KeyRing:
    def __init__(self, store: Store) -> None:
        self.store = store
        if not store.has_table("api_keys", "person_id"):  # a store from before
            with store.writing():
                # Asked again under the write lock: two servers starting at once on one
                # folder both saw it missing, and the second failed ("duplicate column").
                if not store.has_table("api_keys", "person_id"):
                    store.db["api_keys"].add_column("person_id", str)

    def add(self, role: str, groups: tuple[str, ...] = (), name: str | None = None,
            person_id: str | None = None) -> tuple[ApiKey, str]:
        """Create a key; return it and the secret, which is shown only this once."""
        if role not in ROLES:
            raise InvalidRecord(f"unknown role {role!r}", f"use one of {', '.join(ROLES)}")
        if person_id is not None:
            self._check_person(person_id)
        key_id = secrets.token_hex(4)
        secret = f"wk_{key_id}_{secrets.token_urlsafe(32)}"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.store.writing():
            self.store.db["api_keys"].insert(
                {"id": key_id, "name": name, "role": role, "groups": json.dumps(list(groups)),
                 "hash": _hash(secret), "created_at": now, "revoked_at": None,
                 "person_id": person_id})
        return ApiKey(key_id, name, role, tuple(groups), now, person_id=person_id), secret

    def bind(self, key_id: str, person_id: str) -> None:
        """The key stands for this person (their profile, their mentoring)."""
        self._check_person(person_id)
        with self.store.writing():
            cursor = self.store.db.execute("UPDATE api_keys SET person_id = ? WHERE id = ?",
                                           [person_id, key_id])
        if cursor.rowcount == 0:
            raise NotFound(f"no key with id {key_id!r}", "see `whoknows keys list`")

    def person_of(self, key_id: str | None) -> str | None:
        """The person the key stands for, if any: the one definition of that binding."""
        if key_id is None:
            return None
        row = self.store.db.execute("SELECT person_id FROM api_keys WHERE id = ?",
                                    [key_id]).fetchone()
        return row[0] if row else None

    def _check_person(self, person_id: str) -> None:
        if not self.store.get_people([person_id]):
            raise NotFound(f"no person with id {person_id!r}",
                           "check the id with `whoknows experts`")

    def list(self) -> list[ApiKey]:
        rows = self.store.db.query("SELECT * FROM api_keys ORDER BY created_at, id")
        return [_key(r) for r in rows]

    def revoke(self, key_id: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.store.writing():
            cursor = self.store.db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [now, key_id])
        if cursor.rowcount == 0:
            raise NotFound(f"no active key with id {key_id!r}", "see `whoknows keys list`")

    def active(self) -> bool:
        row = self.store.db.execute(
            "SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone()
        return row is not None

    def verify(self, secret: str) -> ApiKey | None:
        """The active key this secret belongs to, or None."""
        parts = secret.split("_")
        if len(parts) < 3 or parts[0] != "wk":
            return None
        rows = list(self.store.db.query(
            "SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL", [parts[1]]))
        if rows and hmac.compare_digest(rows[0]["hash"], _hash(secret)):
            return _key(rows[0])
        return None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: dict) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["role"], tuple(json.loads(row["groups"] or "[]")),
                  row["created_at"], row["revoked_at"] is not None, row.get("person_id"))
