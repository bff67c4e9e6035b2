"""The `s1eval report RUN_DIR...` command (the lead adds `report_command` to the `s1eval` group)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from s1eval.report.build import Report


NARROW_COLUMNS: list[tuple[str, str, str]] = [
    # (leaderboard column, short header, kind): what fits an 80-column terminal
    ("Model", "Model", "text"),
    ("Method", "Method", "text"),
    ("Control (%)", "Ctrl%", "num"),
    ("Scaling", "Scal.", "num"),
    ("Performance (%)", "Perf%", "num"),
    ("Accuracy (95% CI)", "Acc% (95% CI)", "num"),
    ("n x k", "n x k", "text"),
]


def _table_width(columns: list[str], rows: list[dict], box_chrome: int, per_column: int) -> int:
    widths = [max(len(c), *(len(r["cells"][c][0]) for r in rows)) for c in columns]
    return sum(widths) + per_column * len(columns) + box_chrome


def print_leaderboard(report: Report, console: Console | None = None) -> None:
    """The leaderboard on the terminal, one rich table per benchmark: every column when the terminal is wide
    enough, else the main ones with short headers (the full table is in report.md and index.html)."""
    from rich import box
    from rich.markup import escape

    from s1eval.report.tables import LEADERBOARD_COLUMNS, leaderboard_rows

    console = console or Console()
    rows = leaderboard_rows(report.leaderboard)
    if not rows:
        console.print("[yellow]No samples were found in the runs given.[/yellow]")
        return
    full = [(name, name, kind) for name, kind in LEADERBOARD_COLUMNS]
    fits = _table_width([c for c, _, _ in full], rows, box_chrome=1, per_column=3) <= console.width
    columns = full if fits else NARROW_COLUMNS
    for bench in sorted({r["benchmark"] for r in rows}):
        table = Table(
            title=f"Leaderboard: {bench}",
            box=box.HEAVY_HEAD if fits else box.SIMPLE_HEAD,
            caption=None if fits else "(main columns; every column in report.md and index.html)",
        )
        for _, header, kind in columns:
            table.add_column(header, justify="right" if kind == "num" else "left")
        for r in rows:
            if r["benchmark"] == bench:
                table.add_row(*[escape(r["cells"][name][0]) for name, _, _ in columns])  # "[lm_eval]" is text
        console.print(table)


@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results/report"),
    show_default=True,
    help="Folder to write report.md, index.html, CSVs and plots into.",
)
@click.option("--title", default="s1eval report", show_default=True, help="Heading of the report.")
@click.option(
    "--scaling-unit",
    type=click.Choice(["log2", "1k", "token"]),
    default="log2",
    show_default=True,
    help="x-axis of the Scaling slope: per doubling of the budget, per 1k tokens, or per token.",
)
@click.option(
    "--control-range",
    type=click.Choice(["own", "set"]),
    default="own",
    show_default=True,
    help="Control counts thinking inside each sample's own budget [0, budget], or [min, max] of the budget set.",
)
@click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every bootstrap.")
def report_command(
    run_dirs: tuple[Path, ...],
    out_dir: Path,
    title: str,
    scaling_unit: str,
    control_range: str,
    resamples: int,
    seed: int,
) -> None:
    """Read runs (s1eval run dirs, lm-eval output dirs, Inspect .eval logs) and write a leaderboard report."""
    from s1eval.report.build import write_report

    report = write_report(  # an S1EvalError reaches the CLI's one-line formatter
        run_dirs,
        out_dir,
        title=title,
        unit=scaling_unit,  # type: ignore[arg-type]
        bounds=control_range,  # type: ignore[arg-type]
        resamples=resamples,
        seed=seed,
    )
    console = Console()
    print_leaderboard(report, console)
    console.print(
        f"Wrote {len(report.files)} files to {report.out_dir}/ (open {report.out_dir / 'index.html'})"
    )
