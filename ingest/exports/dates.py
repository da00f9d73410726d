"""Dates as team tools print them for people ("Mar 14, 2024", "March 14, 2024 3:02 PM",
"14 March 2024", "2024/03/14", "03/14/2024"), found in text, as ISO dates.

English month names only: a date in another language is not guessed at. A date of
numbers alone reads year first when it starts with four digits, else month first (as
Notion and US-English Confluence print it) unless the first number cannot be a month.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_FORMS = (
    re.compile(rf"\b{_MONTH} {_DAY},? {_YEAR}\b"),  # Mar 14, 2024
    re.compile(rf"\b{_DAY} {_MONTH},? {_YEAR}\b"),  # 14 March 2024
    re.compile(r"\b(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b"),
)


def find_dates(text: str) -> list[str]:
    """Every date in ``text`` as YYYY-MM-DD, in the order they appear."""
    found: list[tuple[int, int, str]] = []
    for form in _FORMS:
        for match in form.finditer(text):
            date = _date(match)
            overlaps = any(match.start() < end and start < match.end()
                           for start, end, _ in found)
            if date and not overlaps:
                found.append((match.start(), match.end(), date))
    return [date for _, _, date in sorted(found)]


def find_date(text: str) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD, or None."""
    return next(iter(find_dates(text)), None)


def _date(match: re.Match[str]) -> str | None:
    month, day = match["month"], int(match["day"])
    if month.isdigit():
        number = int(month)
        if number > 12 and match.re is _FORMS[3]:  # 14/03/2024: day first
            number, day = day, number
    else:
        # "Mar", "March", "Sept" (at least three letters), not "Marathon"
        name = month.lower()
        number = next((i for i, full in enumerate(_MONTHS, 1) if full.startswith(name)), 0)
    try:
        return dt.date(int(match["year"]), number, day).isoformat()
    except ValueError:  # no such month or day
        return None

