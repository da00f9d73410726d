import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.fusion import collapse_max, convex, min_max, ranked, rrf


def test_collapse_keeps_each_documents_best_chunk():
    hits = [(1, "a", 0.2), (2, "a", 0.9), (3, "b", 0.5)]
    assert collapse_max(hits) == {"a": (0.9, 2), "b": (0.5, 3)}


def test_min_max_scales_to_unit_range():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0}) == {"a": 1.0}


def test_convex_combination_counts_a_missing_side_as_zero():
    dense = {"a": 0.9, "b": 0.5}          # -> a 1.0, b 0.0
    keyword = {"b": 10.0, "c": 2.0}       # -> b 1.0, c 0.0
    fused = convex(dense, keyword, 0.5)
    assert fused == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0})
    assert convex(dense, keyword, 0.8)["a"] == pytest.approx(0.8)


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([{"a": 3, "b": 2}, {"b": 9, "c": 1}], k=60)
    # a: 1/61; b: 1/62 + 1/61; c: 1/62
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert [k for k, _ in ranked(fused)] == ["b", "a", "c"]


scores = st.dictionaries(st.sampled_from("abcdefg"), st.floats(-50, 50), max_size=7)


@given(scores, scores, st.floats(0, 1))
def test_convex_scores_stay_in_unit_range(dense, keyword, weight):
    fused = convex(dense, keyword, weight)
    assert set(fused) == set(dense) | set(keyword)
    assert all(-1e-9 <= v <= 1 + 1e-9 for v in fused.values())
