"""Stage 3, diversity: sample domains uniformly and favour long traces inside a domain, as s1 does.

Each step picks a domain uniformly at random among those with questions left, then a question inside it with
probability proportional to 2^-rank, rank 0 being the longest remaining trace (ranks are recomputed after every
removal), and removes it; this repeats until N are chosen or the pool is empty. ``weighting`` can also be
``length`` (probability proportional to trace length) or ``uniform`` (the 1K-diverse ablation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

from .config import CurationConfig, DiversityConfig
from .difficulty import load_callable
from .domains import (
    DomainClassifier,
    KeywordClassifier,
    LLMClassifier,
    TfidfClassifier,
    assign,
    load_keywords,
)

# 2^-64 is far below float64 resolution next to the total weight (~2), so the weights of ranks past 64 are
# exactly irrelevant: truncating keeps each pick O(64) instead of O(domain size).
_RANK_WINDOW = 64
_RANK_WEIGHTS = 2.0 ** -np.arange(_RANK_WINDOW)


def build_classifier(cfg: DiversityConfig, config: CurationConfig) -> DomainClassifier | None:
    """The configured classifier (None for the domain column)."""
    keywords_path = config.resolve_path(cfg.keywords_path) if cfg.keywords_path else None
    if cfg.classifier == "column":
        return None
    keywords = load_keywords(keywords_path)
    if cfg.classifier == "keyword":
        return KeywordClassifier(keywords, unknown=cfg.unknown_label)
    if cfg.classifier == "tfidf":
        return TfidfClassifier(unknown=cfg.unknown_label, seed=KeywordClassifier(keywords, cfg.unknown_label))
    if not cfg.llm_solver:
        raise ConfigError("diversity.classifier 'llm' needs diversity.llm_solver ('package.module:callable')")
    solver = load_callable(cfg.llm_solver, "diversity.llm_solver")
    return LLMClassifier(solver, labels=cfg.labels or list(keywords), unknown=cfg.unknown_label)


def assign_domains(
    df: pd.DataFrame, cfg: DiversityConfig, config: CurationConfig, classifier: DomainClassifier | None = None
) -> pd.Series:
    """Every row's domain label."""
    clf = classifier if classifier is not None else build_classifier(cfg, config)
    kind = cfg.classifier if classifier is None else ("column" if clf is None else "custom")
    return assign(df, kind, clf, only_missing=cfg.only_missing, unknown=cfg.unknown_label)


def _grouped(df: pd.DataFrame) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """pool_index and trace length per domain, longest first (ties: pool order)."""
    groups: dict[str, list[int]] = {}
    lengths: dict[str, list[int]] = {}
    order = df.sort_values(
        ["domain", "thinking_tokens", "pool_index"], ascending=[True, False, True], kind="mergesort"
    )
    for dom, g in order.groupby("domain", sort=True):
        groups[str(dom)] = g["pool_index"].astype(int).tolist()
        lengths[str(dom)] = g["thinking_tokens"].astype(int).tolist()
    return groups, lengths


def _pick_in_domain(lens: list[int], rng: np.random.Generator, weighting: str) -> int:
    """Position of the pick inside a domain's longest-first list."""
    if weighting == "rank":
        w = _RANK_WEIGHTS[: len(lens)]
        return int(rng.choice(len(w), p=w / w.sum()))
    if weighting == "length":
        w = np.asarray(lens, dtype=np.float64) + 1.0
        return int(rng.choice(len(w), p=w / w.sum()))
    return int(rng.integers(len(lens)))


def _pick_domain(domains: list[str], bench: dict[str, float] | None, rng: np.random.Generator) -> str:
    """Uniform over the domains left, or by the benchmark weights of those left (filter.ipynb cell 21)."""
    if bench:
        names = sorted(bench)
        w = np.asarray([bench[d] for d in names], dtype=np.float64)
        return names[int(rng.choice(len(names), p=w / w.sum()))]
    return domains[int(rng.integers(len(domains)))]


def sample(
    df: pd.DataFrame,
    n: int,
    rng: np.random.Generator,
    weighting: str = "rank",
    preselected: np.ndarray | None = None,
    bench: dict[str, float] | None = None,
    bench_after: int | None = None,
) -> np.ndarray:
    """pool_index values of the chosen rows, in pick order (needs domain and thinking_tokens columns).

    preselected rows (s1's first stage) count toward n first and stay in their domains' lists, so drawing
    one again uses up the draw without adding a row, as the notebook's set does. With bench, domains are
    drawn by those weights once bench_after rows are chosen (the benchmark phase); when every weighted
    domain is used up the draw goes back to uniform (the notebook would stop with an error).
    """
    groups, lengths = _grouped(df)
    domains = sorted(groups)
    picked = [int(x) for x in (preselected if preselected is not None else [])]
    chosen = set(picked)
    weights = {d: w for d, w in (bench or {}).items() if d in groups}
    while len(picked) < n and domains:
        in_phase = bool(weights) and bench_after is not None and len(picked) >= bench_after
        d = _pick_domain(domains, weights if in_phase else None, rng)
        items, lens = groups[d], lengths[d]
        k = _pick_in_domain(lens, rng, weighting)
        item = items.pop(k)
        lens.pop(k)
        if item not in chosen:
            picked.append(item)
            chosen.add(item)
        if not items:
            domains.remove(d)
            weights.pop(d, None)
    return np.asarray(picked, dtype=np.int64)
