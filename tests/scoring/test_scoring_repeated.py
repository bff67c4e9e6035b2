"""avg@k, unbiased pass@k, maj@k with equivalent answers voting together, accuracy beside outcomes."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s1eval.metrics.repeated import (
    accuracy_summary,
    avg_at_k,
    maj_at_k,
    majority_answer,
    pass_at_k,
    pass_at_k_estimate,
)
from s1eval.scoring import ScoredSample


def test_avg_at_k():
    assert avg_at_k([[True, False], [True, True]]) == pytest.approx(0.75)
    assert avg_at_k([[True, False, False]], k=1) == 1.0


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_matches_the_closed_form(args):
    n, c, k = args
    expected = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k_estimate(n, c, k) == pytest.approx(expected, abs=1e-9)


def test_pass_at_k_edges():
    assert pass_at_k([[True, False, False, False]], 1) == pytest.approx(0.25)
    assert pass_at_k([[False] * 5], 3) == 0.0
    assert pass_at_k([[True] + [False] * 4], 5) == 1.0
    with pytest.raises(ValueError):
        pass_at_k_estimate(3, 1, 4)


def test_majority_clusters_equivalent_answers():
    # 0.5 and \frac{1}{2} vote together and beat the two 3s
    assert majority_answer(["3", "0.5", "\\frac{1}{2}", "3", "1/2", None], "math") == "0.5"


def test_majority_tie_goes_to_first_seen():
    assert majority_answer(["7", "8", "8", "7"], "aime") == "7"
    assert majority_answer([None, None], "aime") is None


def test_maj_at_k():
    preds = [["1", "2", "02"], ["5", "6", "5"], [None, None, None]]
    assert maj_at_k(preds, ["2", "6", "3"], "aime", k=3) == pytest.approx(1 / 3)
    assert maj_at_k([["C", "B", "B"]], ["C"], "gpqa", k=1) == 1.0
    assert maj_at_k([["C", "B", "B"]], ["C"], "gpqa", k=3) == 0.0


def test_accuracy_summary_reports_outcomes_beside_accuracy():
    samples = [
        ScoredSample("1", True, "answered", ""),
        ScoredSample("2", False, "forced", ""),
        ScoredSample(None, False, "truncated", ""),
        {"correct": False, "outcome": "no_answer"},
    ]
    summary = accuracy_summary(samples)
    assert summary["n"] == 4 and summary["correct"] == 1
    assert summary["accuracy"] == pytest.approx(0.25)
    assert summary["n_answered"] == 2
    assert summary["accuracy_answered"] == pytest.approx(0.5)
    assert summary["outcomes"]["truncated"] == 1 and summary["outcomes"]["engine_error"] == 0
    assert sum(summary["outcome_shares"].values()) == pytest.approx(1.0)
