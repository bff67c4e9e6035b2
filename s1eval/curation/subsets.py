"""The paper's ablation subsets, all drawn from the same pool and seed.

- full: everything that passes quality (and decontamination), or with subsets.full_from: pool every loaded
  row - the paper's 59K-full is the whole pool (the pipeline builds that one);
- random: N uniformly at random from full (1K-random: quality only);
- diverse: N with domains sampled uniformly and questions uniformly inside a domain (1K-diverse);
- longest: the N longest traces in full (1K-longest);
- s1k: quality, then difficulty, then (with s1's selection switched on) the first stage, then diversity with
  long traces favoured and, for the last 30%, domains weighted like the benchmarks (s1K).
Each subset gets its own random stream derived from (seed, subset name), so adding or dropping one subset
never changes another.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from . import selection
from .config import DiversityConfig
from .diversity import sample


def rng_for(seed: int, name: str) -> np.random.Generator:
    """A random stream that depends only on the seed and the subset's name."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def _rows(df: pd.DataFrame, pool_indices: np.ndarray) -> pd.DataFrame:
    chosen = df[df["pool_index"].isin(pool_indices)]
    return chosen.sort_values("pool_index", kind="mergesort").reset_index(drop=True)


def s1k_pick(
    hard: pd.DataFrame, n: int, rng: np.random.Generator, weighting: str, cfg: DiversityConfig | None
) -> np.ndarray:
    """pool_index of s1K: the first stage (when enabled), then the diversity draw up to n."""
    if cfg is None:
        return sample(hard, n, rng, weighting)
    first = selection.first_stage(hard, cfg.first_stage, n, rng) if cfg.first_stage.enabled else None
    bench = None
    if cfg.benchmark_phase.enabled:
        bench = selection.benchmark_weights(hard, cfg.benchmark_phase)
    after = round(cfg.benchmark_phase.after * n)
    return sample(hard, n, rng, weighting, preselected=first, bench=bench, bench_after=after)


def build(
    name: str,
    passed: pd.DataFrame,
    hard: pd.DataFrame,
    n: int,
    seed: int,
    weighting: str = "rank",
    diversity: DiversityConfig | None = None,
) -> pd.DataFrame:
    """One subset (rows sorted by pool_index). passed: after quality; hard: after difficulty too."""
    rng = rng_for(seed, name)
    if name == "full":
        return passed.sort_values("pool_index", kind="mergesort").reset_index(drop=True)
    if name == "random":
        pos = rng.choice(len(passed), size=min(n, len(passed)), replace=False)
        return _rows(passed, passed["pool_index"].to_numpy()[pos])
    if name == "longest":
        top = passed.sort_values(["thinking_tokens", "pool_index"], ascending=[False, True], kind="mergesort")
        return _rows(passed, top["pool_index"].to_numpy()[:n])
    if name == "diverse":
        return _rows(passed, sample(passed, n, rng, "uniform"))
    if name == "s1k":
        return _rows(hard, s1k_pick(hard, n, rng, weighting, diversity))
    raise ValueError(f"unknown subset {name!r}")
