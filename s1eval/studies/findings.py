"""Which of the paper's findings these runs show, read off the paired intervals and nothing else.

A finding "A >= B" is *shown* only when the whole 95% interval of A - B lies above 0, *contradicted* only when
it lies below 0, and otherwise *not shown*: the runs are then consistent with either order, whatever the
point estimate says. So the note never claims more than the intervals show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

SHOWN = "shown"
CONTRADICTED = "contradicted"
NOT_SHOWN = "not shown"
NO_DATA = "no data"


@dataclass(frozen=True)
class Finding:
    """One of the paper's claims ("better >= worse") on one benchmark, with the measured difference."""

    better: str
    worse: str
    benchmark: str
    diff: float  # better - worse, accuracy points
    low: float
    high: float
    p_value: float
    n: int
    status: str

    @property
    def claim(self) -> str:
        return f"{self.better} >= {self.worse}"

    def sentence(self) -> str:
        if self.status == NO_DATA:
            return f"{self.benchmark}: {self.claim}: no shared questions, nothing to check."
        measured = (
            f"{self.better} - {self.worse} = {self.diff:+.1f} points, 95% CI [{self.low:+.1f}, {self.high:+.1f}], "
            f"{_p_text(self.p_value)}, {self.n} questions"
        )
        if self.status == SHOWN:
            verdict = "holds: the whole interval is above 0"
        elif self.status == CONTRADICTED:
            verdict = "does not hold: the whole interval is below 0"
        elif self.low == self.high == 0:
            verdict = "not shown: both gave the same score on every question"
        else:
            verdict = "not shown: the interval includes 0, so these runs fit either order"
        return f"{self.benchmark}: {self.claim} {verdict} ({measured})."


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def classify(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return NO_DATA
    if low > 0:
        return SHOWN
    if high < 0:
        return CONTRADICTED
    return NOT_SHOWN


def _finding(table: pd.DataFrame, row: str, bench: str, better: str, worse: str, sign: int) -> Finding:
    """`sign` +1: the table's difference (row - baseline) is better - worse; -1: it is worse - better."""
    diff, low, high = (float(table.loc[row, (bench, m)]) for m in ("diff", "diff_low", "diff_high"))
    if sign < 0:
        diff, low, high = 0.0 - diff, 0.0 - high, 0.0 - low  # 0.0 - x: no '-0.0' for a zero difference
    p = float(table.loc[row, (bench, "p_value")])
    n = table.loc[row, (bench, "n_paired")]
    n = 0 if math.isnan(n) else int(n)
    return Finding(better, worse, bench, diff, low, high, p, n, classify(low, high))


def paired_finding(
    better: str,
    worse: str,
    benchmark: str,
    better_records: Sequence[Mapping[str, Any]],
    worse_records: Sequence[Mapping[str, Any]],
    *,
    resamples: int = 10_000,
    seed: int = 0,
) -> Finding:
    """ "better >= worse" read off two sets of records (`id`, `correct`, optional `sample`), paired by question."""
    from s1eval.studies.tables import paired_difference

    d = paired_difference(better_records, worse_records, resamples=resamples, seed=seed)
    n = 0 if math.isnan(d["n_paired"]) else int(d["n_paired"])
    low, high = (math.nan, math.nan) if n == 0 else (d["diff_low"], d["diff_high"])
    return Finding(better, worse, benchmark, d["diff"], low, high, d["p_value"], n, classify(low, high))


def extrapolation_findings(table: pd.DataFrame, row: str = "2x Wait") -> list[Finding]:
    """The paper's Table 4 finding: extrapolating with "Wait" scores at least as well as no extrapolation."""
    baseline = table.attrs["baseline"]
    if row not in table.index:
        return []
    return [_finding(table, row, b, row, baseline, +1) for b in table.attrs["benchmarks"]]


def ablation_findings(
    table: pd.DataFrame, others: Sequence[str] = ("random", "diverse", "longest")
) -> list[Finding]:
    """The paper's Table 2 finding: s1K scores at least as well as each single-criterion 1K subset."""
    baseline = table.attrs["baseline"]
    return [
        _finding(table, other, b, baseline, other, -1)
        for other in others
        if other in table.index
        for b in table.attrs["benchmarks"]
    ]


def summary_line(findings: Sequence[Finding]) -> str:
    counts = {s: sum(f.status == s for f in findings) for s in (SHOWN, CONTRADICTED, NOT_SHOWN, NO_DATA)}
    return (
        f"Of {len(findings)} checks, {counts[SHOWN]} hold, {counts[CONTRADICTED]} do not hold and "
        f"{counts[NOT_SHOWN]} are not shown by the 95% intervals"
        + (f" ({counts[NO_DATA]} without data)" if counts[NO_DATA] else "")
        + "."
    )
