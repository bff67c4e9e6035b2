"""Scaling and Performance: the paper's summary of an accuracy-vs-compute curve.

Scaling is the mean slope of the piecewise-linear curve over all pairs of budgets a < b:
mean over pairs of (f(b) - f(a)) / (b - a). The slope has units, so the x-axis must be named:

- ``unit="log2"`` (default): x = log2(budget), the slope is accuracy gained **per doubling** of the budget.
  It does not depend on what the budget counts (tokens, steps of ~100 tokens, thousands of tokens), so methods
  budgeted in different units compare fairly, and it matches the log-x plots the paper draws.
- ``unit="1k"``: x = budget / 1000, the slope is accuracy gained **per 1,000 thinking tokens**.
- ``unit="token"``: x = budget, per single token (tiny numbers; kept for completeness).

On monotone curves the sign never depends on the unit (every pairwise slope has the curve's sign); on curves
that go up and down it can, and the *ordering* of methods can change with the unit because pairs of nearby
budgets weigh more under one unit than the other. Accuracy is used in whatever unit it is given in: the tables
pass percentage points, as the paper does. See tests/metrics/test_paper_table3.py for which unit reproduces
the paper's Table 3 ordering on the points we typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Literal

import numpy as np

Unit = Literal["log2", "1k", "token"]
UNITS: tuple[str, ...] = ("log2", "1k", "token")


def _x(budget: float, unit: Unit) -> float:
    if unit == "log2":
        if budget <= 0:
            raise ValueError(f"scaling(unit='log2') needs positive budgets, got {budget}")
        return float(np.log2(budget))
    if unit == "1k":
        return budget / 1000.0
    if unit == "token":
        return float(budget)
    raise ValueError(f"unknown scaling unit {unit!r}; use one of {UNITS}")


def scaling(points: Mapping[float, float], unit: Unit = "log2") -> float:
    """Mean slope over all pairs of budgets a < b; NaN with fewer than two budgets (no slope exists)."""
    items = sorted((float(b), float(acc)) for b, acc in points.items())
    if len(items) < 2:
        return float("nan")
    slopes = []
    for (a, fa), (b, fb) in combinations(items, 2):
        xa, xb = _x(a, unit), _x(b, unit)
        if xb == xa:
            raise ValueError(f"scaling() got the same budget twice: {a}")
        slopes.append((fb - fa) / (xb - xa))
    return float(np.mean(slopes))


def performance(points: Mapping[float, float]) -> float:
    """The best accuracy over the budgets; NaN when there are none."""
    if not points:
        return float("nan")
    return float(max(points.values()))
