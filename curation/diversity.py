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


def sample(df: pd.DataFrame, n: int, rng: np.random.Generator, weighting: str = "rank") -> np.ndarray:
    """pool_index values of the chosen rows, in pick order (needs domain and thinking_tokens columns)."""
    groups: dict[str, list[int]] = {}
    lengths: dict[str, list[int]] = {}
    order = df.sort_values(
        ["domain", "thinking_tokens", "pool_index"], ascending=[True, False, True], kind="mergesort"
    )
    for dom, g in order.groupby("domain", sort=True):
        groups[str(dom)] = g["pool_index"].astype(int).tolist()
        lengths[str(dom)] = g["thinking_tokens"].astype(int).tolist()
    domains = sorted(groups)
    picked: list[int] = []
    while len(picked) < n and domains:
        d = domains[int(rng.integers(len(domains)))]
        items, lens = groups[d], lengths[d]
        if weighting == "rank":
            w = _RANK_WEIGHTS[: len(items)]
            k = int(rng.choice(len(w), p=w / w.sum()))
        elif weighting == "length":
            w = np.asarray(lens, dtype=np.float64) + 1.0
            k = int(rng.choice(len(w), p=w / w.sum()))
        else:
            k = int(rng.integers(len(items)))
        picked.append(items.pop(k))
        lens.pop(k)
        if not items:
            domains.remove(d)
    return np.asarray(picked, dtype=np.int64)
