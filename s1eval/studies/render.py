"""Write a study to results/<study>/: report.md, index.html, table.csv and one plot per benchmark.

The page and the plots come from s1eval.report (the same sortable tables, inline PNGs and byte-stable plot
settings as `s1eval report`); this module only lays out a study's sections. Nothing written depends on the
time or on absolute paths, so the same runs give the same files.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.report import html as html_page
from s1eval.report.plots import safe_name, save_figure, scaling_figure
from s1eval.studies.findings import Finding, summary_line
from s1eval.studies.tables import display_rows, markdown, paper_rows


@dataclass
class StudyPage:
    """What one study's report shows, beside its table."""

    slug: str  # file-name prefix of the plots: "extrapolation" or "ablation"
    title: str
    row_header: str  # "Strategy" or "Subset"
    meta: dict[str, Any]
    notes: list[str]
    paper: Mapping[str, tuple[float, ...] | None]
    paper_caption: str
    findings_caption: str
    findings: list[Finding] = field(default_factory=list)
    thinking: bool = True  # show mean thinking tokens per benchmark
    budget: Any = None


def plot_points(table: pd.DataFrame, budget: Any = None) -> pd.DataFrame:
    """The table as the points s1eval.report.plots.scaling_figure draws: accuracy vs mean thinking tokens."""
    rows = []
    for bench in table.attrs["benchmarks"]:
        for name in table.index:
            rows.append(
                {
                    "benchmark": bench,
                    "system": str(name),
                    "method_name": "BF",
                    "budget": budget,
                    "mean_thinking": float(table.loc[name, (bench, "mean_thinking")]),
                    "accuracy": float(table.loc[name, (bench, "accuracy")]),
                    "ci_low": float(table.loc[name, (bench, "ci_low")]),
                    "ci_high": float(table.loc[name, (bench, "ci_high")]),
                }
            )
    return pd.DataFrame(rows)


def write_plots(
    table: pd.DataFrame, out: Path, slug: str, budget: Any = None
) -> dict[str, tuple[Path, Path]]:
    points = plot_points(table, budget)
    written = {}
    for bench in table.attrs["benchmarks"]:
        fig = scaling_figure(points[points["benchmark"] == bench], f"{slug.capitalize()} study on {bench}")
        written[bench] = save_figure(fig, out / f"{slug}_{safe_name(bench)}")
    return written


def flat_csv(table: pd.DataFrame, path: Path) -> Path:
    flat = table.copy()
    flat.columns = [f"{bench}:{metric}" for bench, metric in table.columns]
    flat.to_csv(path, float_format="%.6g", lineterminator="\n")
    return path


def _meta_markdown(meta: Mapping[str, Any]) -> str:
    lines = []
    for key, value in meta.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        lines.append(f"- **{key}**: {text}")
    return "\n".join(lines) + "\n"


def write_study(table: pd.DataFrame, page: StudyPage, out_dir: str | Path) -> list[Path]:
    """Write the study's files into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns, rows = display_rows(table, row_header=page.row_header, thinking=page.thinking)
    paper_columns, paper_body = paper_rows(page.paper, page.row_header)
    plots = write_plots(table, out, page.slug, page.budget)
    finding_lines = [f.sentence() for f in page.findings]

    md = [
        f"# {page.title}\n",
        _meta_markdown(page.meta),
        *[n + "\n" for n in page.notes],
        "## Measured on these runs\n",
        markdown(columns, rows),
    ]
    if page.findings:
        md += [f"## {page.findings_caption}\n", summary_line(page.findings) + "\n"]
        md.append("\n".join(f"- {line}" for line in finding_lines) + "\n")
    md += [f"## {page.paper_caption}\n", markdown(paper_columns, paper_body)]
    if plots:
        md.append("## Plots\n")
        md += [f"![{bench}]({png.name}) ([SVG]({svg.name}))\n" for bench, (png, svg) in plots.items()]
    report_md = out / "report.md"
    report_md.write_text("\n".join(md), encoding="utf-8")

    sections = [("Measured on these runs", html_page.sortable_table(columns, rows))]
    if page.findings:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in finding_lines)
        sections.append(
            (page.findings_caption, f"<p>{html.escape(summary_line(page.findings))}</p><ul>{items}</ul>")
        )
    sections.append((page.paper_caption, html_page.sortable_table(paper_columns, paper_body)))
    index = out / "index.html"
    index.write_text(
        html_page.render_page(
            page.title, page.meta, sections, {b: p for b, (p, _) in plots.items()}, page.notes
        ),
        encoding="utf-8",
    )
    csv = flat_csv(table, out / "table.csv")
    return [report_md, index, csv, *[p for pair in plots.values() for p in pair]]


def benchmark_meta(problems: Mapping[str, Sequence[Any]], hashes: Mapping[str, str]) -> str:
    return "; ".join(f"{b} ({len(p)} questions, data sha256 {hashes[b][:12]})" for b, p in problems.items())
