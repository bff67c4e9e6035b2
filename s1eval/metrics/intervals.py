"""Accuracy with 95% intervals, and a paired test between two methods on the same questions.

- One sample per question: the Wilson score interval (good coverage at small n and near 0 or 1, where the
  normal approximation fails; AIME24 has only 30 questions).
- k samples per question (avg@k): a percentile bootstrap that resamples *questions*, because samples of the
  same question are not independent. Below MIN_BOOTSTRAP_QUESTIONS questions a percentile bootstrap
  collapses (2 questions that both scored 0 give [0, 0]); there the Wilson interval with the number of
  *questions* as n is used instead (the conservative effective sample size for clustered samples).
- "Is X better than Y": a paired bootstrap over the questions both methods answered, with a two-sided p-value.

Every resampling function takes a seed and draws all resamples in one vectorised numpy call, so the same
inputs always give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

Z95 = 1.959963984540054
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0
MIN_BOOTSTRAP_QUESTIONS = 20
"""Fewer questions than this: avg@k's interval is Wilson over the questions, not a bootstrap."""


@dataclass(frozen=True)
class Interval:
    """A point estimate and its interval, in the same unit (a share in [0, 1])."""

    estimate: float
    low: float
    high: float
    method: str  # "wilson", "bootstrap" or "none"

    def as_percent(self) -> tuple[float, float, float]:
        return 100 * self.estimate, 100 * self.low, 100 * self.high


@dataclass(frozen=True)
class PairedResult:
    """Mean difference X - Y over shared questions, its bootstrap interval and a two-sided p-value."""

    diff: float
    low: float
    high: float
    p_value: float
    n_questions: int


NAN_INTERVAL = Interval(float("nan"), float("nan"), float("nan"), "none")


def wilson(correct: float, total: int, z: float = Z95) -> Interval:
    """Wilson score interval for ``correct`` successes out of ``total`` trials (``correct`` may be a sum of
    per-question shares, as for avg@k over few questions)."""
    if total < 0 or correct < 0 or correct > total:
        raise ValueError(f"wilson() needs 0 <= correct <= total, got {correct}/{total}")
    if total == 0:
        return NAN_INTERVAL
    p = correct / total
    denom = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denom
    half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denom
    low = 0.0 if correct == 0 else max(0.0, float(centre - half))  # exact ends, not 1 - 1e-16
    high = 1.0 if correct == total else min(1.0, float(centre + half))
    return Interval(p, low, high, "wilson")


def _question_means(scores: ArrayLike) -> np.ndarray:
    """Per-question mean of a (questions x samples) array; NaN cells (missing samples) are skipped."""
    arr = np.asarray(scores, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"expected a (questions x samples) array, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0)
    with np.errstate(invalid="ignore"):
        means = np.nanmean(arr, axis=1) if np.isnan(arr).any() else arr.mean(axis=1)
    return means[~np.isnan(means)]


def bootstrap_questions(
    scores: ArrayLike,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> Interval:
    """avg@k with a percentile bootstrap over questions; ``scores`` is (questions x samples) of 0/1."""
    means = _question_means(scores)
    n = means.size
    if n == 0:
        return NAN_INTERVAL
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    boot = means[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Interval(float(means.mean()), float(low), float(high), "bootstrap")


def accuracy_interval(
    scores: ArrayLike, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> Interval:
    """Wilson when every question has one sample, else the bootstrap over questions (Wilson over the
    questions' mean scores when there are fewer than MIN_BOOTSTRAP_QUESTIONS of them)."""
    arr = np.asarray(scores, dtype=float)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        flat = arr.reshape(-1)
        flat = flat[~np.isnan(flat)]
        return wilson(int(flat.sum()), int(flat.size))
    means = _question_means(arr)
    if 0 < means.size < MIN_BOOTSTRAP_QUESTIONS:
        return wilson(float(means.sum()), int(means.size))
    return bootstrap_questions(arr, resamples=resamples, seed=seed)


def paired_bootstrap(
    x: ArrayLike,
    y: ArrayLike,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> PairedResult:
    """Paired bootstrap of mean(x) - mean(y) over questions (row i of x and y is the same question).

    Each argument is a vector of per-question scores, or (questions x samples) for avg@k. The p-value is
    two-sided for "no difference": the share of resampled differences, re-centred on 0, at least as far from
    0 as the observed one, with the usual +1 so it is never exactly 0.
    """
    mx, my = _question_means(x), _question_means(y)
    if mx.size != my.size:
        raise ValueError(
            f"paired_bootstrap() needs the same questions in x and y, got {mx.size} vs {my.size}"
        )
    n = mx.size
    if n == 0:
        return PairedResult(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    d = mx - my
    observed = float(d.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    boot = d[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    extreme = np.abs(boot - observed) >= abs(observed) - 1e-12
    p = (1 + int(extreme.sum())) / (1 + resamples)
    return PairedResult(observed, float(low), float(high), float(min(1.0, p)), n)
