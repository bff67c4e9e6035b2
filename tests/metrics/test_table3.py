"""Per-budget points and per-method summaries from a hand-made sample frame."""

from __future__ import annotations

import math

import pytest

from s1eval.metrics import budget_points, empty_frame, method_summary, normalise
from s1eval.metrics.control import control_of_frame


def rows_for(method, budget, correct, tokens, qids=None, sample=0, variant="s1k"):
    qids = qids or [f"q{i}" for i in range(len(correct))]
    return [
        {
            "model": "m",
            "variant": variant,
            "benchmark": "aime24",
            "method": method,
            "budget": budget,
            "qid": q,
            "sample": sample,
            "correct": c,
            "thinking_tokens": t,
            "capped": t == budget,
            "extensions": 1 if t < 1000 else 0,
            "outcome": "forced" if t == budget else "answered",
        }
        for q, c, t in zip(qids, correct, tokens, strict=True)
    ]


@pytest.fixture
def bf_frame():
    return normalise(
        rows_for("bf", 1000, [1, 0, 0, 0], [900, 1000, 1000, 1000])
        + rows_for("bf", 2000, [1, 1, 0, 0], [2000] * 4)
        + rows_for("bf", 4000, [1, 1, 1, 0], [3000, 4000, 4000, 4000])
    )


def test_budget_points_by_hand(bf_frame):
    pts = budget_points(bf_frame)
    assert list(pts["budget"]) == [1000, 2000, 4000]
    assert list(pts["accuracy"]) == [25.0, 50.0, 75.0]
    assert list(pts["mean_thinking"]) == [975.0, 2000.0, 3750.0]
    assert list(pts["share_capped"]) == [0.75, 1.0, 0.75]
    assert list(pts["share_extended"]) == [0.25, 0.0, 0.0]
    assert list(pts["share_forced"]) == [0.75, 1.0, 0.75]
    assert set(pts["ci_method"]) == {"wilson"}


def test_method_summary_by_hand(bf_frame):
    row = method_summary(bf_frame).iloc[0]
    # log2 slopes: 25/1, 50/2, 25/1
    assert row["scaling"] == pytest.approx(25.0)
    assert method_summary(bf_frame, unit="1k").iloc[0]["scaling"] == pytest.approx((25 + 50 / 3 + 25 / 2) / 3)
    assert row["performance"] == 75.0
    assert row["n_budgets"] == 3
    assert row["best_budget"] == 4000
    # own budgets (the default): every sample is within [0, its budget] -> 100%
    assert row["control"] == 100.0
    # [1000, 4000] of the set: only the 900-token sample is outside -> 11/12
    assert method_summary(bf_frame, bounds="set").iloc[0]["control"] == pytest.approx(100 * 11 / 12)


def test_control_readings(bf_frame):
    assert control_of_frame(bf_frame, bounds="own") == 1.0
    # per run: means 975 (outside [1000, 4000]), 2000, 3750 -> 2/3
    assert control_of_frame(bf_frame, bounds="set", level="run") == pytest.approx(2 / 3)


def test_ties_pick_the_cheapest_budget():
    frame = normalise(
        rows_for("bf", 512, [1, 1, 0], [500] * 3)
        + rows_for("bf", 1024, [1, 0, 1], [900] * 3)
        + rows_for("bf", 2048, [0, 0, 1], [1500] * 3)
    )
    row = method_summary(frame).iloc[0]
    assert row["performance"] == pytest.approx(200 / 3)
    assert row["best_budget"] == 512
    # slopes per doubling: 0, (33.3-66.7)/2, -33.3 -> mean -16.67
    assert row["scaling"] == pytest.approx((0 - 100 / 3 / 2 - 100 / 3) / 3)


def test_single_budget():
    frame = normalise(rows_for("bf", 2048, [1, 0, 1, 1], [2048, 2000, 2048, 2048]))
    row = method_summary(frame).iloc[0]
    assert math.isnan(row["scaling"])
    assert row["performance"] == 75.0
    assert row["n_budgets"] == 1
    assert row["control"] == 100.0  # every sample within its own budget
    assert method_summary(frame, bounds="set").iloc[0]["control"] == 75.0  # [2048, 2048]
    assert control_of_frame(frame, bounds="own") == 1.0


def test_empty_runs():
    assert budget_points(empty_frame()).empty
    assert method_summary(empty_frame()).empty
    assert math.isnan(control_of_frame(empty_frame()))


def test_ccc_classes_use_mean_thinking_tokens_as_x():
    frame = normalise(
        rows_for("ccc", "short", [1, 0, 0, 0], [1000, 1000, 1000, 1000])
        + rows_for("ccc", "long", [1, 1, 0, 0], [2000, 2000, 2000, 2000])
    )
    pts = budget_points(frame)
    assert list(pts["budget"]) == ["short", "long"]
    assert list(pts["x"]) == [1000.0, 2000.0]
    row = method_summary(frame).iloc[0]
    assert row["scaling"] == pytest.approx(25.0)  # one doubling, +25 points
    assert math.isnan(row["control"])  # classes carry no token range


def test_avg_at_k_uses_the_bootstrap():
    frame = normalise(
        rows_for("bf", 1000, [1, 0] * 10, [900] * 20, sample=0)
        + rows_for("bf", 1000, [0, 0] * 10, [900] * 20, sample=1)
    )
    pts = budget_points(frame)
    assert pts.iloc[0]["accuracy"] == 25.0
    assert pts.iloc[0]["k"] == 2
    assert pts.iloc[0]["ci_method"] == "bootstrap"


def test_variants_and_methods_are_separate_rows(bf_frame):
    other = normalise(rows_for("bf", 1000, [0, 0, 0, 1], [1000] * 4, variant="1k-random"))
    import pandas as pd

    summary = method_summary(pd.concat([bf_frame, other], ignore_index=True))
    assert sorted(summary["variant"]) == ["1k-random", "s1k"]
