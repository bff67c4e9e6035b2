"""Paired comparisons: is the best system on a benchmark really better than each other one on the same questions?"""

from __future__ import annotations

import pandas as pd

from s1eval.metrics.intervals import paired_bootstrap
from s1eval.metrics.table3 import GROUP_KEYS


def _best_rows(frame: pd.DataFrame, row: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for k in GROUP_KEYS:
        mask &= frame[k] == row[k]
    rows = frame[mask]
    return rows[rows["budget"].map(repr) == repr(row["best_budget"])]


def paired_against_best(
    frame: pd.DataFrame, lb: pd.DataFrame, resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """For each benchmark: the top row of the leaderboard (by Performance) vs every other row, each at its
    best budget, on the questions both answered; difference in accuracy points, 95% interval and p-value."""
    out = []
    if lb.empty:
        return pd.DataFrame(columns=["benchmark", "better", "other", "diff", "low", "high", "p_value", "n"])
    for bench, rows in lb.groupby("benchmark", sort=True):
        ranked = rows.sort_values("performance", ascending=False, kind="stable").to_dict("records")
        if len(ranked) < 2:
            continue
        top = ranked[0]
        top_q = _best_rows(frame, top).groupby("qid")["correct"].mean()
        for other in ranked[1:]:
            other_q = _best_rows(frame, other).groupby("qid")["correct"].mean()
            shared = top_q.index.intersection(other_q.index).sort_values()
            res = paired_bootstrap(
                top_q.loc[shared].to_numpy(), other_q.loc[shared].to_numpy(), resamples=resamples, seed=seed
            )
            out.append(
                {
                    "benchmark": bench,
                    "better": f"{top['system']} / {top['method_name']}",
                    "other": f"{other['system']} / {other['method_name']}",
                    "diff": 100 * res.diff,
                    "low": 100 * res.low,
                    "high": 100 * res.high,
                    "p_value": res.p_value,
                    "n": res.n_questions,
                }
            )
    return pd.DataFrame(out, columns=["benchmark", "better", "other", "diff", "low", "high", "p_value", "n"])
