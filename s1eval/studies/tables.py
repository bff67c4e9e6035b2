"""The paper-style study tables: one row per strategy (or training subset), accuracy per benchmark with its
95% interval, and the paired-bootstrap difference to a baseline row on the same questions.

The numeric table is a DataFrame with two-level columns, (benchmark, metric) and for the ablation
("training", metric), so `table.loc["2x Wait", ("aime24", "accuracy")]` reads one number. Accuracy and
differences are in percent points. Intervals: Wilson for one sample per question, else the bootstrap over
questions (`s1eval.metrics.accuracy_interval`); differences: `s1eval.metrics.paired_bootstrap` over the
questions both rows answered, with a fixed seed, so the same runs always give the same table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from s1eval.metrics import accuracy_interval, paired_bootstrap
from s1eval.report.tables import fmt_ci, fmt_num, markdown_table

CELL_METRICS: tuple[str, ...] = (
    "n_questions",
    "k",
    "accuracy",
    "ci_low",
    "ci_high",
    "mean_thinking",
    "answered",
    "diff",
    "diff_low",
    "diff_high",
    "p_value",
    "n_paired",
)
"""Per (row, benchmark): questions, samples per question, accuracy (%) and its 95% CI, mean thinking tokens,
share answered (%; answered or forced), difference to the baseline (points) with its 95% CI, p-value and the
number of shared questions."""

TRAINING_METRICS: tuple[str, ...] = ("examples", "steps", "wall_time_s", "train_time_s", "tokens_seen")
"""Per subset (ablation): training examples, optimiser steps, wall time, time in the training loop, tokens."""
WALL_TIME_METRICS = frozenset({"wall_time_s", "train_time_s"})
"""The training metrics measured by a clock: they differ run to run, so reproducible reports leave them out."""

ANSWERED = ("answered", "forced")


def question_scores(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Questions x samples of 0/1 correctness (NaN where a question has fewer samples), rows in first-seen order."""
    if not records:
        return pd.DataFrame(dtype=float)
    frame = pd.DataFrame(
        {
            "qid": [str(r["id"]) for r in records],
            "sample": [int(r.get("sample") or 0) for r in records],
            "correct": [1.0 if r.get("correct") else 0.0 for r in records],
        }
    )
    order = list(dict.fromkeys(frame["qid"]))
    wide = frame.pivot_table(index="qid", columns="sample", values="correct", aggfunc="mean")
    return wide.reindex(order)


def cell_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Accuracy (avg@k, %) with its interval, mean thinking tokens and share answered, from a run's records."""
    if not records:
        return {m: math.nan for m in CELL_METRICS if not m.startswith(("diff", "p_", "n_paired"))}
    scores = question_scores(records)
    interval = accuracy_interval(scores.to_numpy(float))
    thinking = [float(r.get("ledger", {}).get("thinking_tokens", math.nan)) for r in records]
    return {
        "n_questions": float(len(scores)),
        "k": float(scores.notna().sum(axis=1).max()),
        "accuracy": 100 * interval.estimate,
        "ci_low": 100 * interval.low,
        "ci_high": 100 * interval.high,
        "mean_thinking": float(np.nanmean(thinking))
        if not all(math.isnan(t) for t in thinking)
        else math.nan,
        "answered": 100 * sum(r.get("outcome") in ANSWERED for r in records) / len(records),
    }


def paired_difference(
    row: Sequence[Mapping[str, Any]],
    baseline: Sequence[Mapping[str, Any]],
    *,
    resamples: int = 10_000,
    seed: int = 0,
) -> dict[str, float]:
    """mean(row) - mean(baseline) in points over the questions both answered, its 95% CI and p-value."""
    x = question_scores(row).mean(axis=1) if row else pd.Series(dtype=float)
    y = question_scores(baseline).mean(axis=1) if baseline else pd.Series(dtype=float)
    shared = [q for q in x.index if q in y.index]
    res = paired_bootstrap(x.loc[shared].to_numpy(), y.loc[shared].to_numpy(), resamples=resamples, seed=seed)
    return {
        "diff": 100 * res.diff,
        "diff_low": 100 * res.low,
        "diff_high": 100 * res.high,
        "p_value": res.p_value,
        "n_paired": float(res.n_questions),
    }


def study_table(
    cells: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
    rows: Sequence[str],
    benchmarks: Sequence[str],
    baseline: str,
    *,
    index_name: str = "row",
    training: Mapping[str, Mapping[str, Any]] | None = None,
    wall_times: bool = True,
    resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """The numeric study table from each cell's records ((row, benchmark) -> records); rows and benchmarks
    in the order given. `training` (row -> training_summary.json) adds the ("training", ...) columns;
    `wall_times=False` leaves out the clock-measured ones (a table that must come back byte for byte)."""
    if baseline not in rows:
        raise ValueError(f"the baseline row {baseline!r} is not among the rows {list(rows)}")
    data: dict[tuple[str, str], list[float]] = {}
    for bench in benchmarks:
        base = cells.get((baseline, bench), [])
        for metric in CELL_METRICS:
            data[(bench, metric)] = []
        for row in rows:
            records = cells.get((row, bench), [])
            values = cell_summary(records)
            if row == baseline or not records or not base:
                values |= {"diff": math.nan, "diff_low": math.nan, "diff_high": math.nan, "p_value": math.nan}
                values["n_paired"] = math.nan
            else:
                values |= paired_difference(records, base, resamples=resamples, seed=seed)
            for metric in CELL_METRICS:
                data[(bench, metric)].append(values[metric])
    if training is not None:
        for metric in TRAINING_METRICS:
            if not wall_times and metric in WALL_TIME_METRICS:
                continue
            data[("training", metric)] = [_training_value(training.get(row) or {}, metric) for row in rows]
    table = pd.DataFrame(data, index=pd.Index(list(rows), name=index_name))
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["benchmark", "metric"])
    table.attrs.update(baseline=baseline, benchmarks=list(benchmarks))
    return table


_SUMMARY_KEYS = {
    "examples": "examples",
    "steps": "global_step",
    "wall_time_s": "wall_time_s",
    "train_time_s": "train_time_s",
    "tokens_seen": "tokens_seen",
}


def _training_value(summary: Mapping[str, Any], metric: str) -> float:
    value = summary.get(_SUMMARY_KEYS[metric])
    return math.nan if value is None else float(value)


# ----------------------------------------------------------------------------------------------- display
def _diff_text(r: Mapping[str, float]) -> str:
    if math.isnan(r["diff"]):
        return "-"
    return f"{r['diff']:+.1f} [{r['diff_low']:+.1f}, {r['diff_high']:+.1f}], p={r['p_value']:.3f}"


def _int_text(value: float) -> str:
    return "-" if math.isnan(value) else f"{int(round(value)):,}"


def display_rows(
    table: pd.DataFrame, *, row_header: str, thinking: bool = True
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The paper-style view of a study table: (header, kind) columns and rows of header -> (text, sort value),
    the shape s1eval.report.html.sortable_table and `markdown` take."""
    baseline = table.attrs.get("baseline", "")
    benchmarks = list(
        table.attrs.get("benchmarks") or [b for b in table.columns.levels[0] if b != "training"]
    )
    has_training = "training" in table.columns.get_level_values(0)
    columns: list[tuple[str, str]] = [(row_header, "text")]
    if has_training:
        columns.append(("Examples", "num"))
    for bench in benchmarks:
        columns.append((f"{bench} accuracy % (95% CI)", "num"))
        if thinking:
            columns.append((f"{bench} thinking tokens", "num"))
        columns.append((f"{bench} diff vs {baseline} (95% CI)", "num"))
    has_wall = ("training", "wall_time_s") in table.columns
    if has_training:
        columns += [("Train steps", "num")] + ([("Train time (s)", "num")] if has_wall else [])
        columns += [("Tokens seen", "num")]
    rows = []
    for name in table.index:
        cells: dict[str, tuple[str, Any]] = {row_header: (str(name), str(name))}
        if has_training:
            examples = table.loc[name, ("training", "examples")]
            cells["Examples"] = (_int_text(examples), examples)
        for bench in benchmarks:
            r = {m: float(table.loc[name, (bench, m)]) for m in CELL_METRICS}
            acc = fmt_ci(r["accuracy"], r["ci_low"], r["ci_high"])
            cells[f"{bench} accuracy % (95% CI)"] = (acc, r["accuracy"])
            if thinking:
                cells[f"{bench} thinking tokens"] = (fmt_num(r["mean_thinking"], 0), r["mean_thinking"])
            diff = "baseline" if name == baseline else _diff_text(r)
            cells[f"{bench} diff vs {baseline} (95% CI)"] = (diff, r["diff"])
        if has_training:
            steps, tokens = (table.loc[name, ("training", m)] for m in ("steps", "tokens_seen"))
            cells["Train steps"] = (_int_text(steps), steps)
            if has_wall:
                wall = table.loc[name, ("training", "wall_time_s")]
                cells["Train time (s)"] = (fmt_num(wall, 1), wall)
            cells["Tokens seen"] = (_int_text(tokens), tokens)
        rows.append({"benchmark": "", "cells": cells})
    return columns, rows


def markdown(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    """A GitHub Markdown table of display rows: text columns left-aligned, numbers right-aligned."""
    headers = [c for c, _ in columns]
    text = markdown_table(headers, [[r["cells"][h][0] for h in headers] for r in rows])
    lines = text.split("\n")
    lines[1] = "| " + " | ".join("---" if kind == "text" else "---:" for _, kind in columns) + " |"
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------- the paper's numbers
PAPER_BENCHMARKS: tuple[str, ...] = ("AIME 2024", "MATH 500", "GPQA Diamond")

PAPER_EXTRAPOLATION: dict[str, tuple[float, float, float] | None] = {
    "no extrapolation": (50.0, 93.0, 57.6),
    "2x none": (50.0, 90.2, 55.1),
    "2x Alternatively": (50.0, 92.2, 59.6),
    "2x Hmm": (50.0, 93.0, 59.6),
    "2x Wait": (53.3, 93.0, 59.6),
    "2x cycle": None,
}
"""Muennighoff et al. (2025), Table 4: s1-32B with budget forcing extrapolation (accuracy %). The cycle of
strings is ours and not in the paper."""

PAPER_ABLATION: dict[str, tuple[float, float, float]] = {
    "s1K": (50.0, 93.0, 57.6),
    "1K-random": (36.7, 90.6, 52.0),
    "1K-diverse": (26.7, 91.2, 54.6),
    "1K-longest": (33.3, 90.4, 59.6),
    "59K-full": (53.3, 92.8, 58.1),
}
"""Muennighoff et al. (2025), Table 2: Qwen2.5-32B-Instruct trained on each subset (accuracy %). Training the
59K-full model took 394 H100 GPU hours, s1K 7."""


def paper_rows(paper: Mapping[str, tuple[float, ...] | None], row_header: str) -> tuple[list, list]:
    """The paper's numbers as display rows (a reference table, never merged into measured ones)."""
    columns = [(row_header, "text"), *[(b, "num") for b in PAPER_BENCHMARKS]]
    rows = []
    for name, values in paper.items():
        cells: dict[str, tuple[str, Any]] = {row_header: (name, name)}
        for i, bench in enumerate(PAPER_BENCHMARKS):
            value = math.nan if values is None else values[i]
            cells[bench] = ("not in the paper" if values is None else f"{value:.1f}", value)
        rows.append({"benchmark": "", "cells": cells})
    return columns, rows
