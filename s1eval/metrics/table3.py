"""Per-budget points and the paper's per-method summary (Control / Scaling / Performance / |A|) from a frame.

Input is the normalised sample frame (s1eval.metrics.frame.COLUMNS). Accuracy is avg@k: the mean over
questions of each question's mean over its samples, reported in percent as the paper does.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from s1eval.metrics.control import Bounds, control_of_frame, numeric_budgets
from s1eval.metrics.frame import SYSTEM_KEYS, budget_sort_key
from s1eval.metrics.intervals import DEFAULT_RESAMPLES, DEFAULT_SEED, accuracy_interval
from s1eval.metrics.scaling import Unit, performance, scaling
from s1eval.scoring.classes import OUTCOMES

GROUP_KEYS: list[str] = [*SYSTEM_KEYS, "benchmark"]


def score_matrix(rows: pd.DataFrame) -> np.ndarray:
    """(questions x samples) array of correctness, NaN where a question has fewer samples than others."""
    if rows.empty:
        return np.empty((0, 1))
    table = rows.pivot_table(index="qid", columns="sample", values="correct", aggfunc="mean", sort=True)
    return table.to_numpy(dtype=float)


def _outcome_shares(rows: pd.DataFrame) -> dict[str, float]:
    counts = rows["outcome"].value_counts(normalize=True)
    shares = {f"share_{o}": float(counts.get(o, 0.0)) for o in OUTCOMES}
    shares["share_other"] = float(counts[[o for o in counts.index if o not in OUTCOMES]].sum())
    return shares


def budget_points(
    frame: pd.DataFrame, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """One row per system x benchmark x budget: accuracy with its interval, thinking spent, caps and extensions.

    ``x`` is what Scaling uses: the budget when it is a number, else (CCC classes, no budget) the mean thinking
    tokens of that budget's samples.
    """
    out = []
    for keys, rows in frame.groupby([*GROUP_KEYS, frame["budget"].map(repr)], sort=False, dropna=False):
        budget = rows["budget"].iloc[0]
        ci = accuracy_interval(score_matrix(rows), resamples=resamples, seed=seed)
        mean_thinking = (
            float(rows["thinking_tokens"].mean()) if rows["thinking_tokens"].notna().any() else np.nan
        )
        is_number = bool(numeric_budgets([budget]))
        out.append(
            {
                **dict(zip(GROUP_KEYS, keys[:-1], strict=True)),
                "budget": budget,
                "x": float(budget) if is_number else mean_thinking,
                "n_questions": int(rows["qid"].nunique()),
                "k": int(rows.groupby("qid")["sample"].nunique().max()),
                "n_samples": len(rows),
                "accuracy": 100 * ci.estimate,
                "ci_low": 100 * ci.low,
                "ci_high": 100 * ci.high,
                "ci_method": ci.method,
                "mean_thinking": mean_thinking,
                "share_capped": float(rows["capped"].mean()),
                "share_extended": float((rows["extensions"] > 0).mean()),
                **_outcome_shares(rows),
            }
        )
    columns = [*GROUP_KEYS, "budget", "x", "n_questions", "k", "n_samples", "accuracy", "ci_low", "ci_high"]
    if not out:
        return pd.DataFrame(columns=columns)
    points = pd.DataFrame(out)
    points["_order"] = points["budget"].map(budget_sort_key)
    points = points.sort_values([*GROUP_KEYS, "_order"], kind="stable").drop(columns="_order")
    return points.reset_index(drop=True)


def _safe_scaling(points: dict[float, float], unit: Unit) -> float:
    try:
        return scaling(points, unit=unit)
    except ValueError:
        return float("nan")  # repeated or non-positive x (e.g. two CCC classes with the same mean length)


def method_summary(
    frame: pd.DataFrame,
    unit: Unit = "log2",
    bounds: Bounds = "own",
    level: Literal["sample", "run"] = "sample",
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """One row per system x benchmark: Control, Scaling, Performance, |A|, and the best budget's accuracy.

    Performance is the best avg@k over budgets; its interval and outcome shares are those of the budget that
    reached it (the cheapest one on ties). That interval ignores the selection of the best budget out of
    |A|, so read it as the uncertainty of that one evaluation, not of the maximum.
    """
    points = budget_points(frame, resamples=resamples, seed=seed)
    out = []
    for keys, rows in frame.groupby(GROUP_KEYS, sort=True, dropna=False):
        pts = points
        for k, v in zip(GROUP_KEYS, keys, strict=True):
            pts = pts[pts[k] == v]
        xy = {
            float(x): float(acc) for x, acc in zip(pts["x"], pts["accuracy"], strict=True) if np.isfinite(x)
        }
        best = pts.loc[pts["accuracy"].idxmax()] if len(pts) else None
        out.append(
            {
                **dict(zip(GROUP_KEYS, keys, strict=True)),
                "control": 100 * control_of_frame(rows, bounds=bounds, level=level),
                "scaling": _safe_scaling(xy, unit) if len(xy) == len(pts) else float("nan"),
                "performance": performance(dict(enumerate(pts["accuracy"]))) if len(pts) else float("nan"),
                "n_budgets": len(pts),
                "best_budget": None if best is None else best["budget"],
                "accuracy": np.nan if best is None else best["accuracy"],
                "ci_low": np.nan if best is None else best["ci_low"],
                "ci_high": np.nan if best is None else best["ci_high"],
                "n_questions": 0 if best is None else int(best["n_questions"]),
                "k": 0 if best is None else int(best["k"]),
                "mean_thinking": np.nan if best is None else best["mean_thinking"],
                **(
                    {c: best[c] for c in points.columns if c.startswith("share_")} if best is not None else {}
                ),
            }
        )
    if not out:
        return pd.DataFrame(columns=[*GROUP_KEYS, "control", "scaling", "performance", "n_budgets"])
    return pd.DataFrame(out).reset_index(drop=True)
