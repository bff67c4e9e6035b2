"""Control, Scaling and Performance against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from s1eval.metrics import control, performance, scaling


def test_control_counts_both_ends_inclusive():
    assert control([100, 200, 300, 400], 200, 300) == 0.5


def test_control_all_inside_and_all_outside():
    assert control([512, 512, 8192], 512, 8192) == 1.0
    assert control([10, 20], 512, 8192) == 0.0


def test_control_single_budget_range_is_a_point():
    # |A| = 1: [a_min, a_max] = [a, a], only samples that used exactly the budget are inside.
    assert control([1000, 999, 1000, 1000], 1000, 1000) == 0.75


def test_control_empty_is_nan_and_bad_range_raises():
    assert math.isnan(control([], 0, 10))
    with pytest.raises(ValueError):
        control([1], 10, 0)


def test_scaling_linear_in_tokens():
    pts = {1000: 10.0, 2000: 20.0, 4000: 40.0}
    # per 1k: (20-10)/1 = 10, (40-10)/3 = 10, (40-20)/2 = 10
    assert scaling(pts, unit="1k") == pytest.approx(10.0)
    # per doubling: 10/1, 30/2, 20/1 -> mean 15
    assert scaling(pts, unit="log2") == pytest.approx(15.0)
    assert scaling(pts, unit="token") == pytest.approx(0.01)


def test_scaling_hand_computed_uneven_points():
    pts = {1000: 25.0, 2000: 50.0, 4000: 75.0}
    assert scaling(pts, unit="log2") == pytest.approx((25 + 50 / 2 + 25) / 3)
    assert scaling(pts, unit="1k") == pytest.approx((25 / 1 + 50 / 3 + 25 / 2) / 3)


def test_scaling_ties_flat_curve_is_zero():
    assert scaling({512: 30.0, 1024: 30.0, 2048: 30.0}) == 0.0


def test_scaling_single_budget_and_empty_are_nan():
    assert math.isnan(scaling({512: 30.0}))
    assert math.isnan(scaling({}))


def test_scaling_order_of_points_does_not_matter():
    assert scaling({4000: 40.0, 1000: 10.0, 2000: 30.0}) == scaling({1000: 10.0, 2000: 30.0, 4000: 40.0})


def test_log2_does_not_depend_on_what_the_budget_counts():
    steps = {16: 26.7, 32: 30.0, 64: 33.3, 128: 36.7}
    tokens = {100 * k: v for k, v in steps.items()}  # ~100 tokens a step
    assert scaling(steps, "log2") == pytest.approx(scaling(tokens, "log2"))
    assert scaling(steps, "1k") != pytest.approx(scaling(tokens, "1k"))


def test_sign_can_depend_on_unit_for_a_non_monotone_curve():
    pts = {100: 0.0, 200: 10.0, 10_000: 10.0, 20_000: -1.0}
    lx = {b: np.log2(b) for b in pts}
    pairs = [(100, 200), (100, 10_000), (100, 20_000), (200, 10_000), (200, 20_000), (10_000, 20_000)]
    by_hand_log2 = np.mean([(pts[b] - pts[a]) / (lx[b] - lx[a]) for a, b in pairs])
    by_hand_1k = np.mean([(pts[b] - pts[a]) / ((b - a) / 1000) for a, b in pairs])
    assert by_hand_log2 == pytest.approx(-0.21356, abs=1e-4)
    assert by_hand_1k == pytest.approx(16.5507, abs=1e-3)
    assert scaling(pts, "log2") == pytest.approx(by_hand_log2)
    assert scaling(pts, "1k") == pytest.approx(by_hand_1k)


def test_scaling_rejects_bad_input():
    with pytest.raises(ValueError):
        scaling({0: 1.0, 10: 2.0}, unit="log2")
    with pytest.raises(ValueError):
        scaling({1: 1.0, 10: 2.0}, unit="per-minute")  # type: ignore[arg-type]


def test_performance_is_the_max_with_ties_single_and_empty():
    assert performance({512: 40.0, 1024: 40.0, 2048: 30.0}) == 40.0
    assert performance({512: 12.5}) == 12.5
    assert math.isnan(performance({}))
