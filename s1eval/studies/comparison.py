"""Side-by-side tables of systems run over the same budgets and questions: Control / Scaling / Performance,
tokens per correct answer, and the paired difference to a baseline row at every budget.

The interventions study (plain BF against each intervention) and the demo's SFT vs SFT+GRPO table are both
this table. Every number is computed from the runs' records: accuracy and intervals as in the report
(`s1eval.metrics`), differences as paired bootstraps over the questions both rows answered, tokens from the
ledgers (generated thinking, answer and probe tokens; forced text is counted in its own column).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.metrics.frame import budget_sort_key, normalise
from s1eval.metrics.table3 import method_summary
from s1eval.report.plots import safe_name, save_figure, scaling_figure
from s1eval.report.readers import record_row
from s1eval.report.tables import fmt_ci, fmt_num, markdown_table
from s1eval.studies.findings import Finding, summary_line
from s1eval.studies.tables import cell_summary, paired_difference

Records = Sequence[Mapping[str, Any]]


def _frame(label: str, records: Records) -> pd.DataFrame:
    return normalise([record_row(r, model=label, method="bf", source="s1eval") for r in records])


def _tokens(records: Records) -> dict[str, float]:
    """Generated tokens (thinking + answer + probes) per correct answer, and the means behind it."""
    n = max(1, len(records))
    ledgers = [r.get("ledger") or {} for r in records]
    generated = sum(
        led.get("thinking_tokens", 0) + led.get("answer_tokens", 0) + led.get("probe_tokens", 0)
        for led in ledgers
    )
    correct = sum(1 for r in records if r.get("correct"))
    return {
        "tokens_per_correct": generated / correct if correct else math.nan,
        "mean_probe": sum(led.get("probe_tokens", 0) for led in ledgers) / n,
        "mean_forced": sum(led.get("forced_tokens", 0) for led in ledgers) / n,
    }


def _at(records: Records, budget: Any) -> list[Mapping[str, Any]]:
    return [r for r in records if r["budget"] == budget]


def compare_systems(
    cells: Mapping[str, Records], baseline: str, *, resamples: int = 10_000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, by_budget) for rows `cells` (label -> the records of one run over several budgets).

    summary: per row, Control (%), Scaling, Performance, the largest budget's accuracy with its interval and its
    paired difference to `baseline`, mean thinking tokens, tokens per correct answer, probe and forced tokens.
    by_budget: per row and budget, accuracy with its interval, mean thinking, and the paired difference."""
    if baseline not in cells:
        raise ValueError(f"the baseline row {baseline!r} is not among the rows {list(cells)}")
    base = cells[baseline]
    budgets = sorted({r["budget"] for r in base}, key=budget_sort_key)
    summary, by_budget = [], []
    for label, records in cells.items():
        frame = _frame(label, records)
        metrics = method_summary(frame, resamples=resamples, seed=seed)
        m = metrics.iloc[0] if len(metrics) else {}
        top = budgets[-1] if budgets else None
        row = {
            "row": label,
            "control": float(m.get("control", math.nan)),
            "scaling": float(m.get("scaling", math.nan)),
            "performance": float(m.get("performance", math.nan)),
            "budget": top,
            **{k: v for k, v in cell_summary(_at(records, top)).items()},
            **_tokens(records),
        }
        row |= _diff(label, baseline, _at(records, top), _at(base, top), resamples, seed)
        summary.append(row)
        for b in budgets:
            mine = _at(records, b)
            point = {"row": label, "budget": b, **cell_summary(mine), **_tokens(mine)}
            by_budget.append(point | _diff(label, baseline, mine, _at(base, b), resamples, seed))
    return pd.DataFrame(summary), pd.DataFrame(by_budget)


def _diff(label: str, baseline: str, mine: Records, base: Records, resamples: int, seed: int) -> dict:
    if label == baseline or not mine or not base:
        return {"diff": math.nan, "diff_low": math.nan, "diff_high": math.nan, "p_value": math.nan}
    return paired_difference(mine, base, resamples=resamples, seed=seed)


def _diff_text(row: Mapping[str, Any], baseline: str) -> str:
    if row["row"] == baseline:
        return "baseline"
    if math.isnan(row["diff"]):
        return "-"
    return f"{row['diff']:+.1f} [{row['diff_low']:+.1f}, {row['diff_high']:+.1f}]"


def summary_markdown(summary: pd.DataFrame, baseline: str, row_header: str = "System") -> str:
    """The summary as a Markdown table (the largest budget's accuracy and its paired difference)."""
    top = summary["budget"].iloc[0] if len(summary) else ""
    headers = [
        row_header,
        "Control %",
        "Scaling",
        "Performance %",
        f"accuracy % at {top} (95% CI)",
        f"diff vs {baseline} at {top} (95% CI)",
        "thinking tokens",
        "tokens per correct",
        "probe tokens",
        "forced tokens",
    ]
    rows = [
        [
            str(r["row"]),
            fmt_num(r["control"]),
            fmt_num(r["scaling"], 2),
            fmt_num(r["performance"]),
            fmt_ci(r["accuracy"], r["ci_low"], r["ci_high"]),
            _diff_text(r, baseline),
            fmt_num(r["mean_thinking"], 0),
            fmt_num(r["tokens_per_correct"], 0),
            fmt_num(r["mean_probe"], 1),
            fmt_num(r["mean_forced"], 1),
        ]
        for r in summary.to_dict("records")
    ]
    return _left_first(markdown_table(headers, rows))


def by_budget_markdown(by_budget: pd.DataFrame, baseline: str) -> str:
    """Accuracy per budget, one column per row of the comparison, with the paired difference to `baseline`."""
    labels = list(dict.fromkeys(by_budget["row"]))
    budgets = sorted(set(by_budget["budget"]), key=budget_sort_key)
    headers = ["budget", *labels]
    rows = []
    for b in budgets:
        cells = [str(b)]
        for label in labels:
            r = by_budget[(by_budget["row"] == label) & (by_budget["budget"] == b)].to_dict("records")
            if not r:
                cells.append("-")
                continue
            text = f"{r[0]['accuracy']:.1f} ({fmt_num(r[0]['mean_thinking'], 0)} tok)"
            if label != baseline and not math.isnan(r[0]["diff"]):
                text += f", {r[0]['diff']:+.1f} [{r[0]['diff_low']:+.1f}, {r[0]['diff_high']:+.1f}]"
            cells.append(text)
        rows.append(cells)
    return _left_first(markdown_table(headers, rows))


def _left_first(table: str) -> str:
    lines = table.split("\n")
    cols = lines[1].count("|") - 1
    lines[1] = "| " + " | ".join(["---"] + ["---:"] * (cols - 1)) + " |"
    return "\n".join(lines).rstrip("\n") + "\n"


def write_csv(frame: pd.DataFrame, path: Any) -> None:
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def write_comparison_report(
    tables: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    meta: Mapping[str, str],
    findings: Sequence[Finding],
    out: Path,
    *,
    title: str,
    baseline: str,
    row_header: str = "System",
    notes: Sequence[str] = (),
    slug: str = "comparison",
    method_name: str = "BF",
) -> list[Path]:
    """report.md, summary.csv, by_budget.csv and one accuracy-vs-thinking plot per table (`tables`: name ->
    compare_systems' pair, e.g. one per benchmark)."""
    out.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}\n", "\n".join(f"- **{k}**: {v}" for k, v in meta.items()) + "\n", *notes, ""]
    files: list[Path] = []
    frames_summary, frames_budget = [], []
    for bench, (summary, by_budget) in tables.items():
        md += [f"## {bench}\n", summary_markdown(summary, baseline, row_header)]
        md += [f"Accuracy % by budget (mean thinking tokens), with the paired difference to {baseline}:\n"]
        md += [by_budget_markdown(by_budget, baseline)]
        frames_summary.append(summary.assign(benchmark=bench))
        frames_budget.append(by_budget.assign(benchmark=bench))
        points = by_budget.assign(benchmark=bench, system=by_budget["row"], method_name=method_name)
        png, svg = save_figure(
            scaling_figure(points, f"{title} on {bench}"), out / f"{slug}_{safe_name(bench)}"
        )
        md.append(f"![{bench}]({png.name}) ([SVG]({svg.name}))\n")
        files += [png, svg]
    if findings:
        md += ["## Paired checks against " + baseline + "\n", summary_line(findings) + "\n"]
        md.append("\n".join(f"- {f.sentence()}" for f in findings) + "\n")
    report = out / "report.md"
    report.write_text("\n".join(md), encoding="utf-8")
    write_csv(pd.concat(frames_summary, ignore_index=True), out / "summary.csv")
    write_csv(pd.concat(frames_budget, ignore_index=True), out / "by_budget.csv")
    return [report, out / "summary.csv", out / "by_budget.csv", *files]


__all__ = [
    "by_budget_markdown",
    "compare_systems",
    "summary_markdown",
    "write_comparison_report",
    "write_csv",
]
