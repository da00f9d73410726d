"""People files exported from HR systems: their column names mapped onto ours.

Workday, BambooHR, SuccessFactors and Personio name the same columns differently
("Employee ID", "Work Email", "Preferred Name", "Supervisor ID", "Cost Center").
A people CSV's header is matched, without case, spaces or punctuation, against
``HEADERS``; a mapping file (``--people-map map.yaml``: ``field: Column Name``)
names the columns it does not know. The header is checked before any row is read:
a file missing a required column is refused whole with one error naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from indexer.errors import IngestError
from ingest.readers.base import load_yaml, read_text

# Our field -> the column names HR systems use for it (ours first).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "employee id", "employee number", "employee no", "worker id", "person id",
           "user id", "personidexternal", "userid", "staff id"),
    "name": ("name", "preferred name", "display name", "full name", "employee name",
             "legal name", "worker"),
    "first_name": ("first name", "preferred first name", "given name", "firstname"),
    "last_name": ("last name", "family name", "surname", "lastname"),
    "email": ("email", "work email", "email address", "business email", "primary work email",
              "work email address", "e-mail"),
    "title": ("title", "job title", "business title", "position", "position title",
              "job profile", "job"),
    "department": ("department", "cost center", "cost centre", "division", "organization",
                   "supervisory organization", "team", "org unit"),
    "location": ("location", "work location", "office", "office location", "city", "site"),
    "timezone": ("timezone", "time zone"),
    # Ids only: "Manager" or "Reports To" columns usually hold a name, which is no id.
    "manager_id": ("manager id", "supervisor id", "manager employee id", "reports to id",
                   "managerid", "manager employee number"),
    "languages": ("languages", "language", "spoken languages"),
    "skills": ("skills", "competencies"),
    "goals": ("goals", "development goals", "learning goals"),
    "bio": ("bio", "about", "summary"),
    "aliases": ("aliases", "slack id", "slack user id", "username", "user name", "login"),
    "seniority": ("seniority", "years of service", "tenure"),
    "visible": ("visible",),
    "mentoring_available": ("mentoring available",),
    "mentoring_capacity": ("mentoring capacity",),
}
REQUIRED = ("id", "name")  # name: or first_name and last_name
_PUNCTUATION = re.compile(r"[\s_\-.:/]+")


def _norm(header: str) -> str:
    return _PUNCTUATION.sub(" ", header).strip().casefold()


_KNOWN = {_norm(h): field for field, headers in HEADERS.items() for h in headers}


def read_map(path: Path) -> dict[str, str]:
    """A mapping file: ``field: Column Name`` for each column the defaults do not know."""
    loaded = load_yaml(read_text(path))
    data = loaded[0] if loaded else {}
    if not isinstance(data, dict):
        raise IngestError(f"{path}: a people map is a mapping like 'email: Work Mail'")
    unknown = sorted(str(k) for k in data if k not in HEADERS)
    if unknown:
        raise IngestError(f"{path}: no field {', '.join(unknown)}",
                          f"fields: {', '.join(HEADERS)}")
    return {str(k): str(v) for k, v in data.items()}


def column_fields(header: Sequence[str], custom: Mapping[str, str] | None = None
                  ) -> dict[str, str]:
    """Column name -> our field, for a people CSV's ``header``; raises IngestError when
    a required field has no column (naming it, and what was looked for)."""
    named = {_norm(column): field for field, column in (custom or {}).items()}
    fields: dict[str, str] = {}
    for column in header:
        field = named.get(_norm(column)) or _KNOWN.get(_norm(column))
        if field and field not in fields.values():
            fields[column] = field
    for field, column in (custom or {}).items():
        if field not in fields.values():
            raise IngestError(f"the people map names the column {column!r} for {field}, "
                              f"and the file has no such column",
                              f"its columns: {', '.join(header)}")
    have = set(fields.values())
    missing = [f for f in REQUIRED if f not in have
               and not (f == "name" and {"first_name", "last_name"} <= have)]
    if missing:
        field = missing[0]
        raise IngestError(
            f"no {field} column: none of {', '.join(repr(h) for h in HEADERS[field][:5])} "
            f"... in the header ({', '.join(header)})",
            f"name it in a people map: whoknows ingest --people FILE --people-map map.yaml "
            f"with the line '{field}: <your column>'")
    return fields


def person_record(row: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row as a person record with our field names (other columns as they are)."""
    record: dict[str, Any] = {k: v for k, v in row.items() if k not in fields}
    record["type"] = "person"
    for column, field in fields.items():
        value = row.get(column)
        if value not in (None, ""):
            record[field] = value
    first, last = record.pop("first_name", None), record.pop("last_name", None)
    if not record.get("name") and (first or last):
        record["name"] = " ".join(str(p).strip() for p in (first, last) if p)
    return record
