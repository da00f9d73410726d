"""Spreading questions among comparable experts (optional: ``WHOKNOWS_SPREAD_EXPERTS``).

The same few people must not receive every question. Experts whose score is within
``MARGIN`` of the best one's are comparable; among them, the one suggested least often
recently comes first (then the higher score). Everyone else keeps their place below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MARGIN = 0.1  # comparable: a score at least (1 - MARGIN) times the best one
RECENT_DAYS = 7  # "recently": the suggestions of the last week


def spread(experts: list[dict[str, Any]], suggested: Mapping[str, int],
           margin: float = MARGIN) -> list[dict[str, Any]]:
    """``experts`` (best first, each with ``id`` and ``score``) with the comparable ones
    at the top reordered by how often each was ``suggested`` recently."""
    if len(experts) < 2:
        return experts
    line = experts[0]["score"] * (1 - margin)
    top = [e for e in experts if e["score"] >= line]
    rest = [e for e in experts if e["score"] < line]
    top.sort(key=lambda e: (suggested.get(e["id"], 0), -e["score"], e["id"]))
    for e in top[:1]:
        if e is not experts[0]:
            e["why"] = (e["why"] + "; " if e.get("why") else "") + \
                "as able as the best match, and asked less often lately"
    return top + rest
