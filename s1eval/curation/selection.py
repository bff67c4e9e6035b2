"""s1's selection before and inside the diversity draw (filter.ipynb, "Selection").

- first stage (cell 14): questions whose trace is graded correct and that come from the benchmark-like
  sources (GPQA, AIME 1983-2024), or from MATH with a trace longer than 5,600 tokens, are all taken first;
- benchmark phase (cells 17 and 21): once 700 of the 1,000 are chosen, the draw stops picking domains
  uniformly and picks them by how often they occur among the AIME questions plus the GPQA ones, GPQA's
  counts scaled to half of AIME's total.
Both read the difficulty-filtered pool, as the notebook reads geminiall after its filters.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

from .config import BenchmarkPhaseConfig, FirstStageConfig


def check_ready(df: pd.DataFrame, cfg: FirstStageConfig) -> None:
    """Refuse a first stage that needs trace grades the pool does not have (it would take nothing)."""
    if cfg.require_correct_trace and "trace_grade" not in df.columns:
        raise ConfigError(
            "diversity.first_stage needs trace grades (s1's isgeminicorrect, pool.columns.trace_grade); "
            "map them, or set diversity.first_stage.require_correct_trace: false, or enabled: false"
        )


def first_stage_mask(df: pd.DataFrame, cfg: FirstStageConfig) -> pd.Series:
    """Rows the first stage takes (cell 14): correct trace, and an exact benchmark source or a long one."""
    check_ready(df, cfg)
    source = df["source"].fillna("").astype(str)
    correct = (
        df["trace_grade"].fillna(False).astype(bool)
        if cfg.require_correct_trace
        else pd.Series(True, index=df.index)
    )
    exact = source.isin(cfg.sources)
    long_source = pd.Series(False, index=df.index)
    for s in cfg.long_sources:
        long_source |= source.str.contains(s, regex=False)
    long_trace = df["thinking_tokens"].astype(np.int64) > cfg.min_tokens
    return correct & (exact | (~exact & long_source & long_trace))


def first_stage(df: pd.DataFrame, cfg: FirstStageConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """pool_index of the first-stage rows (in pool order); when they outnumber n, n of them at random."""
    picked = np.sort(df.loc[first_stage_mask(df, cfg).to_numpy(), "pool_index"].to_numpy(dtype=np.int64))
    if len(picked) > n:  # the notebook never meets this (393 < 1,000); a smaller N gets a random share
        picked = np.sort(rng.choice(picked, size=n, replace=False))
    return picked


def benchmark_weights(df: pd.DataFrame, cfg: BenchmarkPhaseConfig) -> dict[str, float]:
    """Domain -> weight of the benchmark phase (cell 17); domains with weight 0 are left out."""
    source = df["source"].fillna("").astype(str)
    domain = df["domain"].astype(str)
    anchor = Counter(domain[source == cfg.anchor].tolist())
    total = Counter(anchor)
    anchor_size = sum(anchor.values())
    for other, share in sorted(cfg.others.items()):
        counts = Counter(domain[source == other].tolist())
        size = sum(counts.values())
        if size == 0:
            continue
        ratio = share * anchor_size / size
        total.update({d: int(c * ratio) for d, c in counts.items()})  # int() as the notebook truncates
    return {d: float(w) for d, w in sorted(total.items()) if w > 0}


def describe(df: pd.DataFrame, first: np.ndarray, weights: dict[str, float] | None, n: int) -> dict[str, Any]:
    """What the report says about the selection: first-stage rows by source (and how many of them fit in
    N), benchmark-phase weights."""
    rows = df[df["pool_index"].isin(first)]
    vc = rows["source"].astype(str).value_counts()
    by_source = {k: int(vc[k]) for k in sorted(vc.index)}
    out: dict[str, Any] = {
        "first_stage": {"rows": len(rows), "taken": min(len(rows), n), "by_source": by_source}
    }
    if weights is not None:
        total = sum(weights.values()) or 1.0
        out["benchmark_phase"] = {d: round(w / total, 4) for d, w in weights.items()}
    return out
