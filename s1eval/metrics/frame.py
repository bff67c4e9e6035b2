"""The normalised sample frame that every reader produces and every metric reads.

One row per generated sample. Readers for s1eval runs, lm-eval samples and Inspect logs all map onto these
columns, so metrics and reports never need to know where a run came from.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

COLUMNS: dict[str, str] = {
    "run": "object",  # the run's label (manifest label, lm-eval model + task, Inspect task + model)
    "source": "object",  # s1eval, lm_eval or inspect
    "model": "object",
    "variant": "object",  # the model's training subset (s1k, 1k-random, ...) or "" when unknown
    "benchmark": "object",
    "method": "object",  # bf, tcc, tcc+bf, scc, scc+bf, ccc, rs, vote, or "" for a plain run
    "budget": "object",  # int token budget, a CCC class name, N for vote, or None
    "qid": "object",  # question id, as a string
    "sample": "int64",  # index of the repeated sample (0..k-1)
    "correct": "float64",  # 1.0 / 0.0
    "outcome": "object",  # answered, forced, truncated, no_answer, extraction_failed, engine_error
    "thinking_tokens": "float64",
    "answer_tokens": "float64",
    "capped": "bool",
    "extensions": "int64",
}

SYSTEM_KEYS: list[str] = ["model", "variant", "method", "source"]
"""What one leaderboard row is: a model (and the data it was trained on) driven by one method, from one front
end (an lm-eval run and an Inspect run of the same model are two rows, never one pooled row)."""


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def normalise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a frame with exactly COLUMNS, in their dtypes, from reader rows (missing values filled)."""
    if not rows:
        return empty_frame()
    frame = pd.DataFrame(rows)
    defaults: dict[str, Any] = {
        "run": "",
        "source": "",
        "model": "",
        "variant": "",
        "benchmark": "",
        "method": "",
        "budget": None,
        "sample": 0,
        "outcome": "answered",
        "thinking_tokens": math.nan,
        "answer_tokens": math.nan,
        "capped": False,
        "extensions": 0,
    }
    for col in COLUMNS:
        if col not in frame:
            frame[col] = defaults.get(col)
    for col in ("run", "source", "model", "variant", "benchmark", "method", "outcome"):
        frame[col] = frame[col].fillna(defaults[col]).astype(str)
    frame["qid"] = frame["qid"].astype(str)
    frame["budget"] = frame["budget"].map(normalise_budget).astype(object)
    frame["sample"] = frame["sample"].fillna(0).astype("int64")
    frame["correct"] = frame["correct"].map(_as_correct).astype("float64")
    for col in ("thinking_tokens", "answer_tokens"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["capped"] = frame["capped"].fillna(False).astype(bool)
    frame["extensions"] = pd.to_numeric(frame["extensions"], errors="coerce").fillna(0).astype("int64")
    return frame[list(COLUMNS)].reset_index(drop=True)


def normalise_budget(budget: Any) -> Any:
    """Integers stay integers (4000.0 -> 4000), numeric strings become numbers, class names stay names."""
    if budget is None or (isinstance(budget, float) and math.isnan(budget)):
        return None
    if isinstance(budget, bool):
        return int(budget)
    if isinstance(budget, (int, float)):
        return int(budget) if float(budget).is_integer() else float(budget)
    text = str(budget).strip()
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def budget_sort_key(budget: Any) -> tuple[int, float, str]:
    """Numbers first in numeric order, then CCC classes (short before long), then no budget."""
    if budget is None:
        return (3, 0.0, "")
    if isinstance(budget, (int, float)):
        return (0, float(budget), "")
    order = {"short": 0, "medium": 1, "long": 2}
    return (1, float(order.get(str(budget), 9)), str(budget))


def _as_correct(value: Any) -> float:
    if isinstance(value, str):
        return 1.0 if value.strip().upper() in ("C", "CORRECT", "TRUE", "1", "1.0") else 0.0
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(bool(value)) if isinstance(value, bool) else float(value)
