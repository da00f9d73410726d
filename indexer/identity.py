"""Who an author is: the one rule that turns the names documents give their authors
into people.

A document names an author by a person id, an email, a display name, or a tool's
account id (``slack-U024BE7LH``, ``se-1234``). Each person answers to their id, their
email and the aliases their record lists; a display name answers only when exactly
one person carries it, so two people of the same name are never merged by name.

An account read from a tool export (``Person.system`` set) is merged into the person
who claims it: same email, or the account's id or native id among the person's
aliases. A merged account is not listed as somebody else; its documents count for
the person. A key that two people claim (two records with one email) resolves to
nobody rather than to a guess, and is reported as ambiguous.

The store keeps the result as its ``identities`` table (key -> person id, or none when
ambiguous), rebuilt whenever people change; every query that joins authors to
people goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from indexer.records import Person


def identity_key(text: str) -> str:
    """How an author name or alias is compared: case and surrounding space ignored."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Identities:
    """``keys``: identity key -> person id (None: claimed by several, resolves to nobody).
    ``merged``: account id -> the person it was merged into."""

    keys: dict[str, str | None] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)

    def person_of(self, author: str) -> str | None:
        return self.keys.get(identity_key(author))


def resolve(people: Iterable[Person]) -> Identities:
    people = list(people)
    merged = _merge_accounts(people)
    owner = {p.id: merged.get(p.id, p.id) for p in people}
    keys: dict[str, str | None] = {identity_key(p.id): owner[p.id] for p in people}
    # Emails and aliases: a person's own record (not an account) wins a key over an
    # account; two claims of the same standing leave the key to nobody.
    claims: dict[str, dict[str, bool]] = {}
    for p in people:
        for key in _keys(p):
            if key not in keys:  # a person's id is theirs alone
                claims.setdefault(key, {})[owner[p.id]] = (
                    claims.get(key, {}).get(owner[p.id], False) or p.system is None)
    for key, by in claims.items():
        keys[key] = _single(by)
    names: dict[str, set[str]] = {}
    for p in people:
        names.setdefault(identity_key(p.name), set()).add(owner[p.id])
    for key, owners in names.items():
        if key and key not in keys:
            keys[key] = next(iter(owners)) if len(owners) == 1 else None
    return Identities(keys, merged)


def _keys(person: Person) -> set[str]:
    found = {identity_key(a) for a in person.aliases}
    if person.email:
        found.add(identity_key(person.email))
    return {k for k in found if k}


def _single(by: dict[str, bool]) -> str | None:
    """The one owner of a key: the only claimant, else the only person's own record."""
    if len(by) == 1:
        return next(iter(by))
    own = [pid for pid, is_own in by.items() if is_own]
    return own[0] if len(own) == 1 else None


def _merge_accounts(people: list[Person]) -> dict[str, str]:
    """account id -> the person (not an account) who claims it, when exactly one does."""
    claimed_by: dict[str, set[str]] = {}
    for p in people:
        if p.system is None:
            for key in _keys(p):
                claimed_by.setdefault(key, set()).add(p.id)
    merged = {}
    for account in people:
        if account.system is None:
            continue
        owners: set[str] = set()
        for key in {identity_key(account.id), *_keys(account)}:
            owners |= claimed_by.get(key, set())
        if len(owners) == 1:
            merged[account.id] = next(iter(owners))
    return merged
