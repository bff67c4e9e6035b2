"""Sequential vs parallel scaling at equal total thinking tokens, in one table (the paper's closing argument).

For each total budget T: *sequential* is one budget-forced sample capped at T (with extensions, so it thinks
longer than it would on its own), *parallel* is a majority vote over n samples capped at T // n each. Both
are given the same total thinking tokens; the table shows the accuracy each buys and what it really spent
(mean total thinking tokens per question, summed over a vote's samples).

All sequential points come from one anytime sweep; parallel points that share a per-sample cap come from one
vote run (maj@n for smaller n is a prefix of the same samples).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from s1eval.control.base import ControlResult
from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_sweep
from s1eval.control.voting import VoteConfig, run_vote
from s1eval.engines.base import Engine
from s1eval.errors import ConfigError, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt

COLUMNS = [
    "total_budget",
    "approach",
    "setting",
    "samples",
    "sample_budget",
    "accuracy",
    "mean_thinking",
    "share_forced",
    "n_questions",
]


@dataclass(frozen=True)
class MatchedPoint:
    """One approach's results at one total thinking budget."""

    approach: str  # "sequential" or "parallel"
    total_budget: int
    samples: int  # 1 for sequential, n for a vote
    sample_budget: int  # the cap of each sample
    results: Sequence[ControlResult]
    setting: str = ""


def point_row(point: MatchedPoint, golds: Sequence[str], kind: str) -> dict:
    """Accuracy (percent) and spend of one point, scored with s1eval.scoring."""
    from s1eval.scoring import score_sample

    if len(point.results) != len(golds):
        raise ValueError(f"{len(point.results)} results for {len(golds)} gold answers")
    correct = [
        score_sample(r.answer, r.thinking, gold, kind, r.ledger.outcome).correct
        for r, gold in zip(point.results, golds, strict=True)
    ]
    n = len(correct)
    return {
        "total_budget": point.total_budget,
        "approach": point.approach,
        "setting": point.setting or _setting(point),
        "samples": point.samples,
        "sample_budget": point.sample_budget,
        "accuracy": 100.0 * sum(correct) / n if n else float("nan"),
        "mean_thinking": sum(r.ledger.thinking_tokens for r in point.results) / n if n else float("nan"),
        "share_forced": sum(r.ledger.outcome == "forced" for r in point.results) / n if n else float("nan"),
        "n_questions": n,
    }


def _setting(point: MatchedPoint) -> str:
    if point.approach == "sequential":
        return f"BF {point.sample_budget}"
    return f"vote {point.samples} x {point.sample_budget}"


def compute_matched_table(points: Sequence[MatchedPoint], golds: Sequence[str], kind: str) -> pd.DataFrame:
    """One row per (total budget, approach, setting): accuracy and real spend, sequential first in each group."""
    rows = [point_row(p, golds, kind) for p in points]
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["_order"] = frame["approach"].map({"sequential": 0, "parallel": 1}).fillna(2)
    frame = frame.sort_values(["total_budget", "_order", "samples"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def compute_matched_markdown(table: pd.DataFrame) -> str:
    """The table as GitHub Markdown."""
    from s1eval.report.tables import markdown_table

    headers = ["Total budget", "Approach", "Setting", "Accuracy %", "Mean thinking", "Forced %", "Questions"]
    rows = [
        [
            str(int(r.total_budget)),
            str(r.approach),
            str(r.setting),
            f"{r.accuracy:.1f}",
            f"{r.mean_thinking:.0f}",
            f"{100 * r.share_forced:.0f}",
            str(int(r.n_questions)),
        ]
        for r in table.itertuples()
    ]
    return markdown_table(headers, rows)


def run_compute_matched(
    engine: Engine,
    fmt: ThinkingFormat,
    questions: Sequence[str],
    golds: Sequence[str],
    *,
    kind: str,
    totals: Sequence[int],
    ns: Sequence[int] = (2, 4),
    sequential: BudgetForcingConfig | None = None,
    parallel: VoteConfig | None = None,
    seeds: Sequence[int | None] | None = None,
    system: str | None = None,
) -> pd.DataFrame:
    """Run both approaches at every total budget and return the compute-matched table.

    `sequential` is the BF template (its budget is replaced by each total; default: 2 "Wait" extensions);
    `parallel` the vote template (its per-sample cap becomes total // n; default: temperature 1.0).
    """
    totals = sorted({int(t) for t in totals})
    ns = sorted({int(n) for n in ns})
    if not totals or not ns:
        raise ConfigError("give total budgets and sample counts, e.g. totals=[512, 1024], ns=[2, 4]")
    for t in totals:
        require_positive("total budget", t, "Totals are thinking tokens, e.g. 512,1024.")
    for n in ns:
        require_positive("sample count", n, "Give sample counts such as 2,4,8.")
    if len(golds) != len(questions):
        raise ConfigError(f"got {len(golds)} gold answers for {len(questions)} questions")
    sequential = sequential or BudgetForcingConfig(max(totals), num_extensions=2)
    parallel = dataclasses.replace(parallel or VoteConfig(), kind=kind)
    points: list[MatchedPoint] = []
    prompts = [build_prompt(engine.tokenizer, fmt, q, system) for q in questions]
    swept = run_budget_sweep(engine, fmt, prompts, totals, sequential, seeds=seeds)
    points += [MatchedPoint("sequential", t, 1, t, swept[t]) for t in totals]
    by_cap: dict[int, list[tuple[int, int]]] = {}
    for t in totals:
        for n in ns:
            if t // n >= 1:
                by_cap.setdefault(t // n, []).append((t, n))
    for cap, pairs in sorted(by_cap.items()):
        config = dataclasses.replace(parallel, max_thinking_tokens=cap, n=max(n for _, n in pairs))
        voted = run_vote(
            engine, fmt, questions, sorted({n for _, n in pairs}), config, seeds=seeds, system=system
        )
        points += [MatchedPoint("parallel", t, n, cap, voted[n]) for t, n in pairs]
    return compute_matched_table(points, golds, kind)
