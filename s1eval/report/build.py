"""`s1eval report`: runs in, results/<name>/ out (Markdown, CSV, PNG/SVG plots, one HTML page).

Everything written is a function of the runs read and the options: no timestamps, no absolute paths, fixed
bootstrap seeds, sorted rows, so two reports of the same runs are byte-identical.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import s1eval
from s1eval.metrics.control import Bounds
from s1eval.metrics.intervals import MIN_BOOTSTRAP_QUESTIONS
from s1eval.metrics.scaling import Unit
from s1eval.report import html as html_page
from s1eval.report.compare import paired_against_best
from s1eval.report.plots import scaling_plots
from s1eval.report.readers import RunSet, read_runs
from s1eval.report.tables import (
    BUDGET_COLUMNS,
    LEADERBOARD_COLUMNS,
    PAIRED_COLUMNS,
    budget_rows,
    budget_table,
    by_benchmark_markdown,
    leaderboard,
    leaderboard_rows,
    overview_table,
    paired_rows,
    rows_markdown,
)
from s1eval.runs.paths import require_writable_dir

UNIT_TEXT: dict[str, str] = {
    "log2": "accuracy points per doubling of the budget",
    "1k": "accuracy points per 1,000 budget tokens",
    "token": "accuracy points per budget token",
}


@dataclass
class Report:
    """What `s1eval report` computed and where it wrote it."""

    out_dir: Path
    runs: RunSet
    leaderboard: pd.DataFrame
    budgets: pd.DataFrame
    paired: pd.DataFrame
    files: list[Path] = field(default_factory=list)


def _unique(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if v})


def report_meta(runs: RunSet, unit: Unit, bounds: Bounds, resamples: int, seed: int) -> dict[str, Any]:
    infos = runs.runs
    hashes = _unique(f"{r.benchmark}: {r.data_hash}" for r in infos if r.data_hash)
    return {
        "Models": ", ".join(_unique(r.model for r in infos)) or "-",
        "Model variants": ", ".join(_unique(r.variant for r in infos)) or "-",
        "Benchmarks": ", ".join(_unique(r.benchmark for r in infos)) or "-",
        "Data hashes": "; ".join(hashes) or "-",
        "Runs": _runs_summary(infos),
        "s1eval version of the runs": ", ".join(
            _unique(r.s1eval_version for r in infos)
            + (["unrecorded"] if any(not r.s1eval_version for r in infos) else [])
        )
        or "-",
        "s1eval version of this report": s1eval.__version__,
        "Scaling unit": UNIT_TEXT[unit],
        "Control range": "[min, max] of each method's budget set"
        if bounds == "set"
        else "[0, budget] of each sample's own budget",
        "Intervals": f"95%: Wilson for one sample per question, else bootstrap over questions "
        f"({resamples} resamples, seed {seed}; Wilson over the questions below {MIN_BOOTSTRAP_QUESTIONS})",
    }


def _runs_summary(infos: list[Any]) -> str:
    """'3 runs (s1eval 2, lm_eval 1), 1,200 samples; each with its settings under Runs below'."""
    if not infos:
        return "-"
    by_source = ", ".join(f"{s} {n}" for s, n in sorted(Counter(r.source for r in infos).items()))
    samples = sum(r.n_samples for r in infos)
    return f"{len(infos)} ({by_source}), {samples:,} samples; each with its settings under Runs below"


RUN_COLUMNS: list[tuple[str, str]] = [
    ("Run", "text"),
    ("Source", "text"),
    ("Path", "text"),
    ("Samples", "num"),
    ("s1eval", "text"),
    ("Settings", "text"),
]


def _settings_text(settings: dict[str, Any]) -> str:
    """`key=value` pairs, sorted, values as compact JSON (what a reader needs to rerun it, on one line)."""
    return (
        ", ".join(
            f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(',', ':'))}"
            for k, v in sorted(settings.items())
            if v is not None
        )
        or "-"
    )


def run_rows(runs: RunSet) -> list[dict[str, Any]]:
    """One display row per run read: where it came from and the settings it ran with."""
    rows = []
    for r in runs.runs:
        cells = {
            "Run": (r.label, r.label),
            "Source": (r.source, r.source),
            "Path": (r.path, r.path),
            "Samples": (f"{r.n_samples:,}", r.n_samples),
            "s1eval": (r.s1eval_version or "-", r.s1eval_version),
            "Settings": (_settings_text(r.settings), ""),
        }
        rows.append({"benchmark": r.benchmark, "cells": cells})
    return rows


NOTES: list[str] = [
    "Control: share of samples whose thinking tokens lie in the control range. Scaling: mean slope of "
    "accuracy over all pairs of budgets a < b (x is the budget; for budgets that are classes, such as CCC's "
    "short/long, the class's mean thinking tokens). Performance: best accuracy over the budgets. |A|: number "
    "of budgets. Accuracy is avg@k in percent; the interval and outcome shares are those of the best budget.",
]


def _meta_markdown(meta: dict[str, Any]) -> str:
    lines = []
    for key, value in meta.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        lines.append(f"- **{key}**: {text}")
    return "\n".join(lines)


def write_report(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    title: str = "s1eval report",
    unit: Unit = "log2",
    bounds: Bounds = "own",
    resamples: int = 10_000,
    seed: int = 0,
) -> Report:
    """Read the runs under ``paths`` and write the report files into ``out_dir``."""
    out = Path(out_dir)
    require_writable_dir(out, "--out")
    runs = read_runs(paths)
    out.mkdir(parents=True, exist_ok=True)  # only once the runs were read: a failed report leaves no folder
    lb = leaderboard(runs.frame, unit=unit, bounds=bounds, resamples=resamples, seed=seed)
    bt = budget_table(runs.frame, resamples=resamples, seed=seed)
    paired = paired_against_best(runs.frame, lb, resamples=resamples, seed=seed)
    meta = report_meta(runs, unit, bounds, resamples, seed)
    plots = scaling_plots(bt, out)

    lb_rows, bt_rows, pr_rows = leaderboard_rows(lb), budget_rows(bt), paired_rows(paired)
    runs_table = run_rows(runs)
    ov_columns, ov_rows = overview_table(lb)
    md = [
        f"# {title}\n",
        _meta_markdown(meta) + "\n",
        *[n + "\n" for n in NOTES],
        "## Overview: best accuracy per benchmark (95% CI)\n",
        rows_markdown(ov_columns, ov_rows, "No samples."),
        "## Leaderboard\n",
        by_benchmark_markdown(lb_rows, LEADERBOARD_COLUMNS),
        "## Budgets\n",
        by_benchmark_markdown(bt_rows, BUDGET_COLUMNS),
        "## Paired comparisons (best system vs each other, same questions)\n",
        rows_markdown(
            PAIRED_COLUMNS, pr_rows, "Fewer than two systems on shared questions: nothing to compare."
        ),
    ]
    if plots:
        md.append("## Scaling plots\n")
        md += [f"![{bench}]({png.name}) ([SVG]({svg.name}))\n" for bench, (png, svg) in sorted(plots.items())]
    md += ["## Runs\n", rows_markdown(RUN_COLUMNS, runs_table, "No runs.")]
    report_md = out / "report.md"
    report_md.write_text("\n".join(md), encoding="utf-8")

    sections = []
    if ov_rows:
        sections.append(
            ("Overview: best accuracy per benchmark (95% CI)", html_page.sortable_table(ov_columns, ov_rows))
        )
    for bench in sorted({r["benchmark"] for r in lb_rows}):
        sections.append(
            (
                f"Leaderboard: {bench}",
                html_page.sortable_table(
                    LEADERBOARD_COLUMNS, [r for r in lb_rows if r["benchmark"] == bench]
                ),
            )
        )
    for bench in sorted({r["benchmark"] for r in bt_rows}):
        sections.append(
            (
                f"Budgets: {bench}",
                html_page.sortable_table(BUDGET_COLUMNS, [r for r in bt_rows if r["benchmark"] == bench]),
            )
        )
    if pr_rows:
        sections.append(
            (
                "Paired comparisons (best system vs each other, same questions)",
                html_page.sortable_table(PAIRED_COLUMNS, pr_rows),
            )
        )
    if not sections:
        sections.append(("Leaderboard", "<p>No samples were found in the runs given.</p>"))
    if runs_table:
        sections.append(("Runs", html_page.sortable_table(RUN_COLUMNS, runs_table)))
    page = html_page.render_page(title, meta, sections, {b: p for b, (p, _) in plots.items()}, NOTES)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")

    lb_csv, bt_csv = out / "leaderboard.csv", out / "budgets.csv"
    lb.to_csv(lb_csv, index=False, float_format="%.6g", lineterminator="\n")
    bt.to_csv(bt_csv, index=False, float_format="%.6g", lineterminator="\n")
    files = [report_md, index, lb_csv, bt_csv, *[p for pair in plots.values() for p in pair]]
    return Report(out, runs, lb, bt, paired, files)
