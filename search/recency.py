"""Evidence ages: a document's vote counts less the older it is.

A document dated ``age`` days before the reference day counts
``0.5 ** (age / half_life_days)``: at one half-life, half. A half-life of 0 turns
ageing off; a document without a date, or dated after the reference day, counts in
full. The product's reference day is today; a benchmark passes the last day of its
data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def parse_day(text: str | None) -> dt.date | None:
    """The date of an ISO date or timestamp ('2024-05-01', '2024-05-01T10:00:00Z')."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def decay(age_days: float, half_life_days: float) -> float:
    if half_life_days <= 0 or age_days <= 0:
        return 1.0
    return 0.5 ** (age_days / half_life_days)


@dataclass(frozen=True)
class Recency:
    half_life_days: float = 0.0
    reference: dt.date | None = None  # None: today (UTC)

    @property
    def on(self) -> bool:
        return self.half_life_days > 0

    def today(self) -> dt.date:
        return self.reference or dt.datetime.now(dt.UTC).date()

    def weights(self, dates: dict[str, str]) -> dict[str, float]:
        """doc id -> the weight of its vote (only documents that count less than 1)."""
        if not self.on:
            return {}
        today = self.today()
        out = {}
        for doc_id, text in dates.items():
            day = parse_day(text)
            if day is not None and (w := decay((today - day).days, self.half_life_days)) < 1:
                out[doc_id] = w
        return out


def describe(latest: dt.date, today: dt.date) -> str:
    """'latest evidence May 2025 (6 months ago)'."""
    months = (today.year - latest.year) * 12 + today.month - latest.month
    if months <= 0:
        ago = "this month"
    elif months < 24:
        ago = f"{months} month{'s' if months > 1 else ''} ago"
    else:
        ago = f"{months // 12} years ago"
    return f"latest evidence {latest.strftime('%B %Y')} ({ago})"
