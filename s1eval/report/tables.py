"""Leaderboard and budget tables: data frames for CSV/HTML and Markdown for results/ and the terminal."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from s1eval.control.methods import registered_methods
from s1eval.metrics.control import Bounds
from s1eval.metrics.frame import budget_sort_key
from s1eval.metrics.scaling import Unit
from s1eval.metrics.table3 import budget_points, method_summary


def method_name(method: str) -> str:
    """The registry's display name (bf -> BF, tcc+bf -> TCC+BF, vote -> Vote); others (a study's "bf+wait1")
    in capitals."""
    if not method:
        return "none"
    names = {m.name: m.display for m in registered_methods()}
    return names.get(method, method.upper())


def system_name(model: str, variant: str, source: str = "") -> str:
    """The model column: its training subset when known (s1K vs 1K-random), else the model's last path part;
    with `source` (given when a report mixes front ends) the front end that ran it, e.g. "tiny [lm_eval]"."""
    short = model.rstrip("/").split("/")[-1] if model else ""
    name = f"{short} ({variant})" if variant and short else (variant or short or "?")
    return f"{name} [{source}]" if source else name


def _system_column(frame: pd.DataFrame) -> list[str]:
    mixed = frame["source"].nunique() > 1
    return [
        system_name(m, v, s if mixed else "")
        for m, v, s in zip(frame["model"], frame["variant"], frame["source"], strict=True)
    ]


def _method_rank(method: str) -> tuple[int, str]:
    order = ["", *(m.name for m in registered_methods())]  # the registry's order
    return (order.index(method) if method in order else len(order), method)


def _sort(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    if frame.empty:
        return frame
    keys = frame.assign(
        _m=frame["method"].map(_method_rank), _b=frame["budget"].map(budget_sort_key) if extra else 0
    )
    return keys.sort_values(["benchmark", "model", "variant", "_m", "source", "_b"], kind="stable").drop(
        columns=["_m", "_b"]
    )


def leaderboard(
    frame: pd.DataFrame,
    unit: Unit = "log2",
    bounds: Bounds = "own",
    resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per benchmark x model x method, in the paper's method order (see method_summary for columns)."""
    summary = method_summary(frame, unit=unit, bounds=bounds, resamples=resamples, seed=seed)
    if summary.empty:
        return summary
    summary = _sort(summary).reset_index(drop=True)
    summary.insert(0, "system", _system_column(summary))
    summary.insert(1, "method_name", summary["method"].map(method_name))
    return summary


def budget_table(frame: pd.DataFrame, resamples: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """One row per benchmark x model x method x budget."""
    points = budget_points(frame, resamples=resamples, seed=seed)
    if points.empty:
        return points
    points = _sort(points, extra=["budget"]).reset_index(drop=True)
    points.insert(0, "system", _system_column(points))
    points.insert(1, "method_name", points["method"].map(method_name))
    return points


# ------------------------------------------------------------------------------------------------ formatting


def fmt_num(value: Any, digits: int = 1) -> str:
    """Fixed digits, '-' for missing; the only number formatting the report uses, so output is stable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{digits}f}"


def fmt_ci(acc: float, low: float, high: float) -> str:
    if any(isinstance(v, float) and math.isnan(v) for v in (acc, low, high)):
        return "-"
    return f"{acc:.1f} [{low:.1f}, {high:.1f}]"


def fmt_budget(budget: Any) -> str:
    return "-" if budget is None else str(budget)


LEADERBOARD_COLUMNS: list[tuple[str, str]] = [
    ("Model", "text"),
    ("Method", "text"),
    ("Control (%)", "num"),
    ("Scaling", "num"),
    ("Performance (%)", "num"),
    ("|A|", "num"),
    ("Best budget", "num"),
    ("Accuracy (95% CI)", "num"),
    ("n x k", "text"),
    ("Answered (%)", "num"),
    ("Forced (%)", "num"),
    ("Truncated (%)", "num"),
    ("Other (%)", "num"),
]


def leaderboard_rows(lb: pd.DataFrame) -> list[dict[str, Any]]:
    """Display rows: (header -> (text, sort value)) for Markdown, HTML and the terminal."""
    rows = []
    for r in lb.to_dict("records"):
        other = sum(
            r.get(f"share_{o}", 0.0) for o in ("no_answer", "extraction_failed", "engine_error", "other")
        )
        cells = {
            "Model": (r["system"], r["system"]),
            "Method": (r["method_name"], r["method_name"]),
            "Control (%)": (fmt_num(r["control"], 0), r["control"]),
            "Scaling": (fmt_num(r["scaling"], 1), r["scaling"]),
            "Performance (%)": (fmt_num(r["performance"], 1), r["performance"]),
            "|A|": (str(r["n_budgets"]), r["n_budgets"]),
            "Best budget": (fmt_budget(r["best_budget"]), _numeric_or_nan(r["best_budget"])),
            "Accuracy (95% CI)": (fmt_ci(r["accuracy"], r["ci_low"], r["ci_high"]), r["accuracy"]),
            "n x k": (f"{r['n_questions']} x {r['k']}", r["n_questions"]),
            "Answered (%)": (fmt_num(100 * r.get("share_answered", math.nan), 0), r.get("share_answered")),
            "Forced (%)": (fmt_num(100 * r.get("share_forced", math.nan), 0), r.get("share_forced")),
            "Truncated (%)": (fmt_num(100 * r.get("share_truncated", math.nan), 0), r.get("share_truncated")),
            "Other (%)": (fmt_num(100 * other, 0), other),
        }
        rows.append({"benchmark": r["benchmark"], "cells": cells})
    return rows


BUDGET_COLUMNS: list[tuple[str, str]] = [
    ("Model", "text"),
    ("Method", "text"),
    ("Budget", "num"),
    ("Accuracy (95% CI)", "num"),
    ("Mean thinking tokens", "num"),
    ("Capped (%)", "num"),
    ("Extended (%)", "num"),
    ("n x k", "text"),
]


def budget_rows(bt: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in bt.to_dict("records"):
        cells = {
            "Model": (r["system"], r["system"]),
            "Method": (r["method_name"], r["method_name"]),
            "Budget": (fmt_budget(r["budget"]), _numeric_or_nan(r["budget"])),
            "Accuracy (95% CI)": (fmt_ci(r["accuracy"], r["ci_low"], r["ci_high"]), r["accuracy"]),
            "Mean thinking tokens": (fmt_num(r["mean_thinking"], 0), r["mean_thinking"]),
            "Capped (%)": (fmt_num(100 * r["share_capped"], 0), r["share_capped"]),
            "Extended (%)": (fmt_num(100 * r["share_extended"], 0), r["share_extended"]),
            "n x k": (f"{r['n_questions']} x {r['k']}", r["n_questions"]),
        }
        rows.append({"benchmark": r["benchmark"], "cells": cells})
    return rows


def _numeric_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


TEXT_HEADERS: frozenset[str] = frozenset(
    {"Model", "Method", "n x k", "Benchmark", "Best", "Other", "Run", "Source", "Path", "s1eval", "Settings"}
)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table (numbers right-aligned); pipes inside cells are escaped."""

    def esc(text: str) -> str:  # a cell is one line: pipes escaped, line breaks as spaces
        return " ".join(str(text).replace("|", "\\|").splitlines())

    align = ["---" if h in TEXT_HEADERS else "---:" for h in headers]
    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def by_benchmark_markdown(rows: list[dict[str, Any]], columns: list[tuple[str, str]], level: int = 3) -> str:
    """One Markdown table per benchmark, benchmarks in sorted order."""
    headers = [c for c, _ in columns]
    parts = []
    for bench in sorted({r["benchmark"] for r in rows}):
        body = [[r["cells"][h][0] for h in headers] for r in rows if r["benchmark"] == bench]
        parts.append(f"{'#' * level} {bench}\n\n{markdown_table(headers, body)}\n")
    return "\n".join(parts) if parts else "_No samples were found in the runs given._\n"


def overview_table(lb: pd.DataFrame) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Accuracy at each system's best budget, one column per benchmark (the shape of the paper's ablation
    tables, e.g. s1K vs 1K-random on AIME24 / MATH500 / GPQA)."""
    if lb.empty:
        return [("Model", "text"), ("Method", "text")], []
    benches = sorted(lb["benchmark"].unique())
    columns = [("Model", "text"), ("Method", "text"), *[(b, "num") for b in benches]]
    keyed: dict[tuple[str, str], dict[str, tuple[str, Any]]] = {}
    for r in lb.to_dict("records"):
        cells = keyed.setdefault((r["system"], r["method_name"]), {})
        cells[r["benchmark"]] = (fmt_ci(r["accuracy"], r["ci_low"], r["ci_high"]), r["accuracy"])
    rows = []
    for (system, method), cells in keyed.items():
        full = {"Model": (system, system), "Method": (method, method)}
        full.update({b: cells.get(b, ("-", math.nan)) for b in benches})
        rows.append({"benchmark": "", "cells": full})
    return columns, rows


PAIRED_COLUMNS: list[tuple[str, str]] = [
    ("Benchmark", "text"),
    ("Best", "text"),
    ("Other", "text"),
    ("Difference (points)", "num"),
    ("p", "num"),
    ("Questions", "num"),
]


def paired_rows(paired: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in paired.to_dict("records"):
        if r["n"] == 0:
            continue  # no shared questions: nothing to compare
        cells = {
            "Benchmark": (r["benchmark"], r["benchmark"]),
            "Best": (r["better"], r["better"]),
            "Other": (r["other"], r["other"]),
            "Difference (points)": (f"{r['diff']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}]", r["diff"]),
            "p": (fmt_num(r["p_value"], 4), r["p_value"]),
            "Questions": (str(r["n"]), r["n"]),
        }
        rows.append({"benchmark": r["benchmark"], "cells": cells})
    return rows


def rows_markdown(columns: list[tuple[str, str]], rows: list[dict[str, Any]], empty: str) -> str:
    if not rows:
        return f"_{empty}_\n"
    headers = [c for c, _ in columns]
    return markdown_table(headers, [[r["cells"][h][0] for h in headers] for r in rows]) + "\n"
