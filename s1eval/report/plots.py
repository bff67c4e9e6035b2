"""Scaling plots: accuracy vs mean thinking tokens (log x), one line per model x method, 95% intervals as bands.

Written with the Agg backend to PNG and SVG with every source of run-to-run noise turned off (SVG id salt,
creation dates), so the same inputs give byte-identical files.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from s1eval.metrics.frame import budget_sort_key  # noqa: E402

_RC = {
    "svg.hashsalt": "s1eval",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "path.simplify": False,
}


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


def scaling_figure(points: pd.DataFrame, title: str) -> plt.Figure:
    """One benchmark's budget_table rows -> a figure (the caller saves and closes it)."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(9.0, 4.5))
        groups = points.groupby(["system", "method_name"], sort=False)
        for i, ((system, method), rows) in enumerate(groups):
            rows = rows.assign(_o=rows["budget"].map(budget_sort_key)).sort_values("_o", kind="stable")
            rows = rows[np.isfinite(rows["mean_thinking"].astype(float)) & (rows["mean_thinking"] > 0)]
            if rows.empty:
                continue
            x = rows["mean_thinking"].to_numpy(float)
            color = f"C{i % 10}"
            ax.plot(x, rows["accuracy"], marker="o", color=color, label=f"{system} / {method}")
            if len(rows) > 1:
                ax.fill_between(x, rows["ci_low"], rows["ci_high"], color=color, alpha=0.15, linewidth=0)
            else:  # a band needs two points; one budget gets an error bar instead
                acc = rows["accuracy"].to_numpy(float)
                err = [acc - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - acc]
                ax.errorbar(x, acc, yerr=err, color=color, capsize=4, linewidth=1)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("Average thinking tokens (log scale)")
        ax.set_ylabel("Accuracy (%)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        else:
            ax.text(0.5, 0.5, "no samples with thinking tokens", ha="center", transform=ax.transAxes)
        fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, stem: Path) -> tuple[Path, Path]:
    """Write ``stem``.png and ``stem``.svg with no dates or software stamps in them."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with plt.rc_context(_RC):
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return png, svg


def scaling_plots(budgets: pd.DataFrame, out_dir: Path) -> dict[str, tuple[Path, Path]]:
    """One PNG + SVG per benchmark in ``out_dir``; returns benchmark -> (png, svg)."""
    written: dict[str, tuple[Path, Path]] = {}
    if budgets.empty:
        return written
    for bench in sorted(budgets["benchmark"].unique()):
        fig = scaling_figure(budgets[budgets["benchmark"] == bench], f"Test-time scaling on {bench}")
        written[bench] = save_figure(fig, out_dir / f"scaling_{safe_name(bench)}")
    return written
