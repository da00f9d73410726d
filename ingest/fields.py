"""Coercing loosely typed record fields (YAML, JSON, CSV, meta tags) into clean values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from indexer.errors import InvalidRecord

# Control characters a reader may hand on (a NUL in a JSON string, DEL in a PDF's text
# layer), and lone surrogates (from JSON escapes) that no store can encode as UTF-8.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
_BREAKS = re.compile(r"[\x0b\x0c\x85]")  # vertical tab, form feed, next line


def clean_text(text: str) -> str:
    """The text without control characters; tabs and line ends stay, and the other
    breaks (vertical tab, form feed) become line ends so that words stay apart.

    Every field of every record passes through here (``as_text``, ``as_list``), so
    nothing a reader extracts reaches the index with invisible bytes in it."""
    return _BREAKS.sub("\n", _CONTROLS.sub("", text))


def as_list(value: Any, sep: str = ",") -> tuple[str, ...]:
    """A list from a list, or from a ``sep``-separated string; blanks dropped."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[Any] = value.replace(";", sep).split(sep)
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    cleaned = (clean_text(str(i)).strip() for i in items)
    return tuple(i for i in cleaned if i)


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    text = clean_text(str(value)).strip()
    return text or None


def as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off"):
        return False
    raise InvalidRecord(f"expected true or false, got {value!r}")


def as_number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidRecord(f"{name} must be a number, got {value!r}") from exc


def as_date(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, datetime or date-like string."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise InvalidRecord(f"updated_at must be a date like 2025-03-14, got {value!r}") from exc


def require_id(value: Any, fallback: str | None) -> str:
    text = as_text(value)
    if text:
        return text
    if fallback:
        return fallback
    raise InvalidRecord("the record has no id")
