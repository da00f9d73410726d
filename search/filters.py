"""The values a search may filter on, and the one check that refuses any other.

An unknown value would otherwise filter everything out and read as "nothing found",
which is wrong about the cause. What counts as known is what the caller could find:
departments and locations of people who may be shown (an opted-out person's are not
revealed), languages and tags of the documents the caller may read (a tag that only
restricted documents carry is unknown to a reader without their group). Values compare
without case, as the filters themselves do (``indexer.store.document_filter_sql``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

from indexer.errors import InvalidQuery
from indexer.records import KINDS, Filters
from indexer.store import Store

SHOWN = 20  # valid values listed in a message; the rest are counted

# (filter name, the Filters field, its valid values for the caller, the values' owners)
Known = Callable[[Store, Filters], Sequence[str]]
FIELDS: tuple[tuple[str, str, Known, str], ...] = (
    ("kind", "kinds", lambda store, f: KINDS, "documents"),
    ("department", "departments", lambda store, f: store.departments(), "visible people"),
    ("location", "locations", lambda store, f: store.locations(), "visible people"),
    ("language", "languages", lambda store, f: store.languages(_readable(f)),
     "documents you may read"),
    ("tag", "tags", lambda store, f: store.tags(_readable(f)), "documents you may read"),
)


def check_filters(store: Store, filters: Filters) -> None:
    """Raise ``InvalidQuery`` for the first filter value the caller could never match,
    its hint listing the valid ones. Only the fields given are looked up."""
    for name, field, known, owners in FIELDS:
        given: tuple[str, ...] = getattr(filters, field)
        if not given:
            continue
        valid = _unique(known(store, filters))
        lowered = {v.lower() for v in valid}
        for value in given:
            if value.lower() not in lowered:
                raise InvalidQuery(f"no {name} {_shown(value)}",
                                   _choices(name, value, valid, owners))


def one_of(values: Sequence[str]) -> str:
    """``a, b, c`` sorted without case; past ``SHOWN`` values, ``and N more``."""
    ordered = sorted(values, key=lambda v: (v.lower(), v))
    listed = ", ".join(ordered[:SHOWN])
    return listed + (f" and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else "")


def _readable(filters: Filters) -> Filters:
    # Only the caller's access decides what exists: a language is not unknown because
    # the other filters of the same query leave no document in it.
    return Filters(groups=filters.groups)


def _unique(values: Sequence[str]) -> list[str]:
    """One spelling per value compared without case (the first seen)."""
    return list({v.lower(): v for v in reversed(values)}.values())


def _choices(name: str, value: str, valid: Sequence[str], owners: str) -> str:
    if not valid:
        return f"none of the {owners} has a {name}: leave out this filter"
    spelled = {v.lower(): v for v in valid}
    near = difflib.get_close_matches(value.lower(), spelled, n=1)
    guess = f"did you mean {spelled[near[0]]!r}? " if near else ""
    return f"{guess}use one of {one_of(valid)}"


def _shown(value: str, width: int = 80) -> str:
    return repr(value if len(value) <= width else value[:width] + "…")
