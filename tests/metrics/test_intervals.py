"""Wilson, the bootstrap over questions and the paired bootstrap: hand values and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from s1eval.metrics import accuracy_interval, bootstrap_questions, paired_bootstrap, wilson


def test_wilson_half_correct_of_30():
    # p = 0.5 is symmetric: centre 0.5; half-width z*sqrt(.25/30 + z^2/3600) / (1 + z^2/30) = 0.16846
    ci = wilson(15, 30)
    assert ci.estimate == 0.5
    assert ci.low == pytest.approx(0.33154, abs=1e-4)
    assert ci.high == pytest.approx(0.66846, abs=1e-4)
    assert ci.method == "wilson"


def test_wilson_zero_correct_has_a_nonzero_upper_end():
    # p = 0: low = 0, high = (z^2/n) / (1 + z^2/n) = 0.38415 / 1.38415
    ci = wilson(0, 10)
    assert ci.low == 0.0
    assert ci.high == pytest.approx(0.27753, abs=1e-4)


def test_wilson_all_correct_mirrors_zero_correct():
    assert wilson(10, 10).low == pytest.approx(1 - wilson(0, 10).high)
    assert wilson(10, 10).high == 1.0


def test_wilson_empty_and_invalid():
    assert math.isnan(wilson(0, 0).estimate)
    with pytest.raises(ValueError):
        wilson(5, 3)


def test_bootstrap_constant_scores_have_no_width():
    ci = bootstrap_questions(np.ones((30, 4)))
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)


def test_bootstrap_avg_at_k_is_mean_of_question_means():
    scores = np.array([[1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]])  # 0.25, 1, 0 -> 0.4167
    ci = bootstrap_questions(scores)
    assert ci.estimate == pytest.approx(5 / 12)
    assert 0.0 <= ci.low <= ci.estimate <= ci.high <= 1.0


def test_bootstrap_is_seeded_and_deterministic():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 2, size=(40, 3))
    assert bootstrap_questions(scores, seed=7) == bootstrap_questions(scores, seed=7)


def test_bootstrap_skips_missing_samples():
    scores = np.array([[1.0, np.nan], [0.0, 0.0]])  # question 0 has one sample: mean 1
    assert bootstrap_questions(scores).estimate == pytest.approx(0.5)


def test_bootstrap_agrees_with_wilson_at_large_n():
    scores = np.array([1] * 60 + [0] * 140)
    boot = bootstrap_questions(scores[:, None], resamples=20_000)
    w = wilson(60, 200)
    assert boot.low == pytest.approx(w.low, abs=0.015)
    assert boot.high == pytest.approx(w.high, abs=0.015)


def test_bootstrap_empty_is_nan():
    assert math.isnan(bootstrap_questions(np.empty((0, 2))).estimate)


def test_accuracy_interval_picks_wilson_for_one_sample_else_bootstrap():
    assert accuracy_interval([1, 0, 1]).method == "wilson"
    assert accuracy_interval([[1], [0], [1]]).method == "wilson"
    assert accuracy_interval([[1, 0], [0, 0], [1, 1]] * 7).method == "bootstrap"  # 21 questions


def test_few_questions_with_several_samples_do_not_collapse_to_a_point():
    # 2 questions x 2 epochs, all wrong: a percentile bootstrap says [0, 0]; Wilson over 2 questions does not
    assert bootstrap_questions([[0, 0], [0, 0]]).high == 0.0
    few = accuracy_interval([[0, 0], [0, 0]])
    assert few.method == "wilson" and few.low == 0.0 and few.high == pytest.approx(wilson(0, 2).high)
    half = accuracy_interval([[1, 0], [0, 1]])  # avg@2 = 0.5 over 2 questions
    assert half.estimate == 0.5 and half.low < 0.2 and half.high > 0.8


def test_paired_identical_methods_are_not_different():
    x = [1, 0, 1, 1, 0, 1]
    res = paired_bootstrap(x, x)
    assert res.diff == 0.0
    assert res.p_value == 1.0
    assert (res.low, res.high) == (0.0, 0.0)


def test_paired_always_better_has_the_smallest_p():
    res = paired_bootstrap([1] * 30, [0] * 30, resamples=999)
    assert res.diff == 1.0
    assert res.p_value == pytest.approx(1 / 1000)
    assert res.n_questions == 30


def test_paired_two_questions_p_value_by_enumeration():
    # d = [1, 0]: resampled means are 0, .5, 1 with prob 1/4, 1/2, 1/4; |d* - .5| >= .5 with prob 1/2.
    res = paired_bootstrap([1, 0], [0, 0], resamples=20_000)
    assert res.diff == 0.5
    assert res.p_value == pytest.approx(0.5, abs=0.015)


def test_paired_sign_and_avg_at_k():
    x = np.array([[1, 1], [1, 0], [0, 1], [1, 1]])  # 0.75
    y = np.array([[0, 0], [1, 0], [0, 0], [1, 0]])  # 0.25
    res = paired_bootstrap(x, y, seed=3)
    assert res.diff == pytest.approx(0.5)
    assert res.low > 0
    res_rev = paired_bootstrap(y, x, seed=3)
    assert res_rev.diff == pytest.approx(-0.5)
    assert res_rev.p_value == pytest.approx(res.p_value)


def test_paired_needs_the_same_questions_and_handles_empty():
    with pytest.raises(ValueError):
        paired_bootstrap([1, 0], [1])
    assert math.isnan(paired_bootstrap([], []).p_value)
