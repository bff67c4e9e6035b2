"""Control: how often a method keeps its thinking inside the range it was asked for.

The paper defines Control over a set of evaluations A as the share with a_min <= a <= a_max. We keep the two
readings of "the range" apart because they answer different questions:

- ``bounds="own"`` (default): [0, budget] of each evaluation's own budget: did the method respect the cap it was
  given. This is the paper's reading ("we usually only constrain a_max"): budget forcing scores 100%, and an
  uncapped prompt-conditioned method (TCC) scores the share of evaluations that stayed under their stated cap.
- ``bounds="set"``: [min, max] of the method's whole budget set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

Bounds = Literal["set", "own"]

NO_TOKEN_BUDGET = frozenset({"vote", "ccc"})
"""Methods whose x value is not a thinking-token budget (vote: the number of samples; ccc: a class name)."""


def control(thinking_tokens: Iterable[float], low: float, high: float) -> float:
    """Share of evaluations with ``low <= tokens <= high`` (both ends inclusive); NaN when there are none.

    NaN rather than 0 or 1 for an empty input: a method that produced nothing has no control to report, and a
    table should show that as missing rather than as a perfect or a failing score.
    """
    tokens = np.asarray(list(thinking_tokens), dtype=float)
    if low > high:
        raise ValueError(f"control() needs low <= high, got low={low}, high={high}")
    if tokens.size == 0:
        return float("nan")
    return float(np.mean((tokens >= low) & (tokens <= high)))


def numeric_budgets(budgets: Iterable[object]) -> list[float]:
    """The budgets that are numbers (CCC classes and missing budgets carry no token range)."""
    out = []
    for b in budgets:
        if isinstance(b, bool) or b is None:
            continue
        try:
            value = float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if np.isfinite(value):
            out.append(value)
    return out


def control_of_frame(
    frame: pd.DataFrame, bounds: Bounds = "own", level: Literal["sample", "run"] = "sample"
) -> float:
    """Control of one method's rows (one benchmark, one model), from the ledgers' thinking tokens.

    ``level="sample"`` counts every generated sample; ``level="run"`` first averages the thinking tokens of
    each budget (one evaluation per budget, as the paper's |A| counts them). Budgets that are not numbers
    (CCC's "short"/"long") give no range, so Control is NaN for such a method.
    """
    if frame.empty:
        return float("nan")
    if "method" in frame and set(frame["method"].unique()) & NO_TOKEN_BUDGET:
        return float("nan")
    budgets = numeric_budgets(frame["budget"].unique())
    if not budgets:
        return float("nan")
    rows = frame[frame["budget"].map(lambda b: bool(numeric_budgets([b])))]
    if level == "run":
        rows = rows.groupby("budget", sort=True, dropna=True)["thinking_tokens"].mean().reset_index()
    if bounds == "set":
        return control(rows["thinking_tokens"], min(budgets), max(budgets))
    if rows.empty:
        return float("nan")
    inside = (rows["thinking_tokens"].astype(float) >= 0) & (
        rows["thinking_tokens"].astype(float) <= rows["budget"].astype(float)
    )
    return float(inside.mean())
