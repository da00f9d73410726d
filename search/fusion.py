"""Rank fusion, as pure functions over {id: score} mappings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def collapse_max(hits: Iterable[tuple[int, str, float]]) -> dict[str, tuple[float, int]]:
    """Chunk hits (chunk id, doc id, score) to documents: doc id -> (best score, its chunk)."""
    best: dict[str, tuple[float, int]] = {}
    for chunk_id, doc_id, score in hits:
        if doc_id not in best or score > best[doc_id][0]:
            best[doc_id] = (score, chunk_id)
    return best


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1]; a list of equal scores maps to 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def convex(dense: Mapping[str, float], keyword: Mapping[str, float],
           weight: float) -> dict[str, float]:
    """weight * minmax(dense) + (1 - weight) * minmax(keyword); a missing side counts 0."""
    d, k = min_max(dense), min_max(keyword)
    return {key: weight * d.get(key, 0.0) + (1 - weight) * k.get(key, 0.0)
            for key in d.keys() | k.keys()}


def rrf(rankings: Iterable[Mapping[str, float]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of 1 / (k + rank), rank from 1."""
    fused: dict[str, float] = {}
    for scores in rankings:
        ordered = sorted(scores, key=lambda key: (-scores[key], key))
        for rank, key in enumerate(ordered, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Best first; ties broken by id so orders are deterministic."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
