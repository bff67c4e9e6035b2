"""The curation run: load -> quality -> contamination -> lengths -> domains -> difficulty -> subsets -> report.

Stages whose inputs are missing (grades the paper's config requires, trace grades for s1's first stage) are
refused right after loading, before the slow ones run. s1's first stage and benchmark phase run inside the
s1k subset (subsets.py, selection.py).

``curate`` computes everything in memory (solvers, graders, classifiers and eval sets can be passed in as
Python objects); ``write_outputs`` writes the subsets, the removed rows and the report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import contamination, difficulty, diversity, export, quality, report, selection, subsets
from .config import CurationConfig, subset_key
from .contamination import EvalSet
from .domains import DomainClassifier
from .pool import load_pool
from .stage import REMOVED_COLUMNS, empty_removed
from .tokens import TokenCounter, lazy_counter, thinking_lengths

STEPS = ("load", "quality", "contamination", "tokens", "domains", "difficulty", "subsets", "report")


@dataclass
class CurationResult:
    """Everything one run produced."""

    config: CurationConfig
    pool: pd.DataFrame
    passed: pd.DataFrame  # after quality and decontamination, with domain and thinking_tokens
    hard: pd.DataFrame  # after difficulty too
    subsets: dict[str, pd.DataFrame]
    removed: pd.DataFrame
    report: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    def to_dataset(self, subset: str = "s1k") -> Any:
        """One subset as a datasets.Dataset (messages + question/thinking/answer) for the SFT recipe."""
        return export.to_dataset(self.subsets[subset_key(subset)], self.config.export)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=len(STEPS), desc="curate", unit="stage", leave=True)


@contextmanager
def _step(name: str, timings: dict[str, float], bar: Any) -> Iterator[None]:
    if bar is not None:
        bar.set_postfix_str(name)
    t0 = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t0, 3)
    if bar is not None:
        bar.update(1)


def _origin(config: CurationConfig) -> str:
    return config.pool.path or config.pool.hub or "<in-memory>"


def _check_ready(
    df: pd.DataFrame, config: CurationConfig, names: list[str], solvers: dict[str, difficulty.Solver] | None
) -> None:
    """Refuse, before the slow stages, a run whose configured stages lack their inputs."""
    difficulty.check_ready(df, config.difficulty, _origin(config), solvers)
    if "s1k" in names and config.diversity.first_stage.enabled:
        selection.check_ready(df, config.diversity.first_stage)


def _domain_counts(df: pd.DataFrame, config: CurationConfig) -> dict[str, Any]:
    """How many domain labels came from the pool's own column and how many a classifier gave."""
    from_column = 0
    if "domain" in df.columns:
        dom = df["domain"]
        from_column = int((dom.notna() & (dom.fillna("").astype(str).str.strip() != "")).sum())
    return {
        "classifier": config.diversity.classifier,
        "from_column": from_column,
        "classified": len(df) - from_column,
    }


def _whole_pool(
    pool: pd.DataFrame, passed: pd.DataFrame, counter: TokenCounter, unknown: str
) -> pd.DataFrame:
    """Every loaded row (the paper's 59K-full): rows that passed keep their domain and length; the others get
    a length from the counter and their pool domain (or the unknown label)."""
    rest = pool[~pool["pool_index"].isin(passed["pool_index"])].copy()
    rest["thinking_tokens"] = thinking_lengths(rest, counter)
    dom = rest["domain"] if "domain" in rest.columns else pd.Series(None, index=rest.index, dtype=object)
    blank = dom.isna() | (dom.fillna("").astype(str).str.strip() == "")
    rest["domain"] = dom.where(~blank, unknown).astype(str)
    whole = pd.concat([passed, rest[passed.columns.intersection(rest.columns)]], ignore_index=True)
    return whole.sort_values("pool_index", kind="mergesort").reset_index(drop=True)


def _selection_info(hard: pd.DataFrame, config: CurationConfig, names: list[str]) -> dict[str, Any]:
    """The first stage and benchmark phase as the report shows them (empty when switched off)."""
    cfg = config.diversity
    if "s1k" not in names or not (cfg.first_stage.enabled or cfg.benchmark_phase.enabled):
        return {}
    first = np.zeros(0, dtype=np.int64)
    if cfg.first_stage.enabled:
        first = hard.loc[
            selection.first_stage_mask(hard, cfg.first_stage).to_numpy(), "pool_index"
        ].to_numpy()
    weights = selection.benchmark_weights(hard, cfg.benchmark_phase) if cfg.benchmark_phase.enabled else None
    return selection.describe(hard, first, weights, config.subsets.n)


def curate(
    config: CurationConfig,
    *,
    pool: pd.DataFrame | None = None,
    subset_names: list[str] | None = None,
    solvers: dict[str, difficulty.Solver] | None = None,
    grader: difficulty.Grader | None = None,
    classifier: DomainClassifier | None = None,
    eval_sets: list[EvalSet] | None = None,
    counter: TokenCounter | None = None,
    progress: bool = False,
) -> CurationResult:
    """Run the pipeline. pool: an already canonical frame (see pool.canonicalize) instead of config.pool."""
    timings: dict[str, float] = {}
    bar = _progress(progress)
    names = [subset_key(s) for s in (subset_names or config.subsets.names)]
    names = list(dict.fromkeys(names))
    try:
        with _step("load", timings, bar):
            df = pool if pool is not None else load_pool(config)
            _check_ready(df, config, names, solvers)
        with _step("quality", timings, bar):
            q = quality.run(df, config.quality)
        with _step("contamination", timings, bar):
            c = contamination.run(q.kept, config.contamination, config, eval_sets=eval_sets)
        with _step("tokens", timings, bar):
            passed = c.kept.copy()
            count = counter or lazy_counter(config.difficulty.tokenizer)
            passed["thinking_tokens"] = thinking_lengths(passed, count)
        with _step("domains", timings, bar):
            domain_info = _domain_counts(passed, config)
            passed["domain"] = diversity.assign_domains(passed, config.diversity, config, classifier)
        with _step("difficulty", timings, bar):
            d = difficulty.run(passed, config.difficulty, solvers=solvers, grader=grader)
            hard = d.kept
        with _step("subsets", timings, bar):
            sub = config.subsets
            chosen = {
                name: (
                    _whole_pool(df, passed, count, config.diversity.unknown_label)
                    if name == "full" and sub.full_from == "pool"
                    else subsets.build(
                        name, passed, hard, sub.n, config.seed, config.diversity.weighting, config.diversity
                    )
                )
                for name in names
            }
            selection_info = _selection_info(hard, config, names)
        with _step("report", timings, bar):
            parts = [r.removed for r in (q, c, d) if len(r.removed)]
            removed = pd.concat(parts, ignore_index=True) if parts else empty_removed()
            removed = removed.sort_values("pool_index", kind="mergesort").reset_index(drop=True)[
                REMOVED_COLUMNS
            ]
            rep = report.build(
                config=config,
                origin=_origin(config),
                pool=df,
                stages=[("quality", q.kept, q), ("contamination", c.kept, c), ("difficulty", hard, d)],
                passed=passed,
                hard=hard,
                subsets=chosen,
                stage_infos={
                    "quality": q.info,
                    "contamination": c.info,
                    "difficulty": d.info,
                    "domains": domain_info,
                    "selection": selection_info,
                },
            )
    finally:
        if bar is not None:
            bar.close()
    return CurationResult(config, df, passed, hard, chosen, removed, rep, timings)


def write_outputs(result: CurationResult, out_dir: str | Path | None = None) -> list[Path]:
    """Subsets (jsonl/parquet), removed.jsonl, report.json/.md and timings.json (the only non-reproducible file)."""
    out = Path(out_dir or result.config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    paths: list[Path] = []
    for name, df in result.subsets.items():
        paths += export.write_subset(df, name, out, result.config.export)
    if result.config.export.write_removed:
        path = out / "removed.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for rec in result.removed.to_dict("records"):
                rec["pool_index"] = int(rec["pool_index"])
                rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        paths.append(path)
    paths += report.write(result.report, out)
    timings = dict(result.timings)
    timings["export"] = round(time.perf_counter() - t0, 3)
    timings["total"] = round(sum(timings.values()), 3)
    (out / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    result.timings = timings
    return paths


def run(
    config: CurationConfig,
    out_dir: str | Path | None = None,
    subset_names: list[str] | None = None,
    progress: bool = False,
    on_done: Callable[[CurationResult], None] | None = None,
) -> CurationResult:
    """curate + write_outputs: what the CLI does."""
    result = curate(config, subset_names=subset_names, progress=progress)
    write_outputs(result, out_dir)
    if on_done:
        on_done(result)
    return result
