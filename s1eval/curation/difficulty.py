"""Stage 2, difficulty: drop questions that reference models solve; trace length then ranks what is left.

The paper drops a question when either Qwen2.5-7B-Instruct or Qwen2.5-32B-Instruct solves it (graded by
Claude). Results come in as grade columns (pool.columns.grades, truthy = solved; the s1-59k preset maps s1's
isqwen7bcorrect/isqwen32bcorrect) or are produced here by running Solver callables and a Grader; s1eval's
engines plug in through those two small interfaces. With require_grades (the paper's config) a pool without
either is refused instead of passing through unfiltered.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

from .config import DifficultyConfig
from .pool import SOLVED_PREFIX, solved_columns
from .stage import StageResult, split_by_reason

STAGE = "difficulty"

Solver = Callable[[list[str]], list[str]]
"""Questions in, model answers (free text) out, same length and order."""

Grader = Callable[[list[str], list[str]], list[bool]]
"""(model answers, reference solutions) -> solved flags."""


def load_callable(spec: str, key: str) -> Callable[..., Any]:
    """Import "package.module:attribute" (the form configs use to name a solver or grader)."""
    if ":" not in spec:
        raise ConfigError(f"{key} must look like 'package.module:callable', got {spec!r}")
    mod_name, attr = spec.split(":", 1)
    try:
        obj: Any = importlib.import_module(mod_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{key} {spec!r} cannot be imported ({exc}); check the module path") from None
    if not callable(obj):
        raise ConfigError(f"{key} {spec!r} is not callable")
    return obj


def _boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, braces matched."""
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def final_answer(text: str) -> str:
    """The answer a free-text response commits to: last \\boxed{}, else after 'answer is'/'Answer:', else last line."""
    text = text or ""
    boxed = _boxed(text)
    if boxed is not None:
        return boxed
    m = re.findall(r"(?i)(?:final answer(?: is)?|answer is|answer:)\s*[:=]?\s*(.+)", text)
    if m:
        return m[-1]
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _norm(ans: str) -> str:
    a = re.sub(r"\\(?:left|right|!|,|;|displaystyle)", "", ans)
    a = re.sub(r"\\text\{([^}]*)\}", r"\1", a)
    a = re.sub(r"[\s$]", "", a)
    return a.rstrip(".").lower()


def default_grader(predictions: list[str], references: list[str]) -> list[bool]:
    """Exact match of normalised final answers; a stand-in until s1eval.scoring is plugged in."""
    return [
        bool(_norm(final_answer(p))) and _norm(final_answer(p)) == _norm(final_answer(r))
        for p, r in zip(predictions, references, strict=False)
    ]


def grade_with_solvers(
    df: pd.DataFrame,
    solvers: dict[str, Solver],
    grader: Grader,
    batch_size: int = 64,
    on_batch: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Add solved:<name> for each solver, running it only on rows whose result is not already known."""
    out = df.copy()
    refs_col = "solution" if "solution" in df.columns else "answer"
    for name, solver in sorted(solvers.items()):
        col = SOLVED_PREFIX + name
        if col not in out:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="boolean")
        todo = out.index[out[col].isna().to_numpy()]
        for i in range(0, len(todo), batch_size):
            idx = todo[i : i + batch_size]
            qs = out.loc[idx, "question"].fillna("").astype(str).tolist()
            answers = list(solver(qs))
            if len(answers) != len(qs):
                raise ConfigError(f"solver {name!r} returned {len(answers)} answers for {len(qs)} questions")
            refs = out.loc[idx, refs_col].fillna("").astype(str).tolist()
            out.loc[idx, col] = pd.array([bool(x) for x in grader(answers, refs)], dtype="boolean")
            if on_batch:
                on_batch(len(idx))
    return out


def missing_grades_message(origin: str) -> str:
    """One line that says how to give the paper's difficulty filter its inputs, or how to turn it off."""
    return (
        f"difficulty: pool {origin!r} has no reference-model grades, so the paper's difficulty filter cannot "
        "run; join s1's featurized columns isqwen7bcorrect/isqwen32bcorrect (pool.features: a table with "
        "question plus those columns, or map them in pool.columns.grades), or set difficulty.solvers and "
        "difficulty.grader, or turn the stage off explicitly with difficulty: {enabled: false}"
    )


def check_ready(
    df: pd.DataFrame, cfg: DifficultyConfig, origin: str, solvers: dict[str, Solver] | None = None
) -> None:
    """Refuse, before any work is done, a run that requires grades and has neither grades nor solvers."""
    if cfg.enabled and cfg.require_grades and not (solved_columns(df) or cfg.solvers or solvers):
        raise ConfigError(missing_grades_message(origin))


def _reasons(df: pd.DataFrame, cols: list[str], cfg: DifficultyConfig) -> tuple[pd.Series, pd.Series]:
    """solved (with the models that solved it) per row, or ungraded where a grade is unknown and dropped."""
    names = [c[len(SOLVED_PREFIX) :] for c in cols]
    solved = np.column_stack([df[c].fillna(False).to_numpy(dtype=bool) for c in cols])
    drop = solved.any(axis=1) if cfg.drop_if == "any" else solved.all(axis=1)
    reasons = pd.Series(None, index=df.index, dtype=object)
    detail = pd.Series(None, index=df.index, dtype=object)
    reasons[drop] = "solved"
    detail[drop] = [",".join(n for n, s in zip(names, row, strict=False) if s) for row in solved[drop]]
    if cfg.unknown == "drop":
        unknown = np.column_stack([df[c].isna().to_numpy() for c in cols])
        lost = unknown.any(axis=1) & ~drop
        reasons[lost] = "ungraded"
        detail[lost] = [",".join(n for n, u in zip(names, row, strict=False) if u) for row in unknown[lost]]
    return reasons, detail


def run(
    df: pd.DataFrame,
    cfg: DifficultyConfig,
    solvers: dict[str, Solver] | None = None,
    grader: Grader | None = None,
) -> StageResult:
    """Drop rows solved by any (or all) reference models; rows without results are kept unless
    unknown: drop (s1 drops them: filter.ipynb cell 4 removes every row with a missing feature)."""
    if not cfg.enabled:
        result = split_by_reason(df, pd.Series(None, index=df.index, dtype=object), STAGE)
        result.info["solve_filter"] = "disabled"
        return result
    all_solvers: dict[str, Solver] = {
        k: load_callable(v, f"difficulty.solvers.{k}") for k, v in cfg.solvers.items()
    }
    all_solvers.update(solvers or {})
    if all_solvers:
        g = grader or (load_callable(cfg.grader, "difficulty.grader") if cfg.grader else default_grader)
        df = grade_with_solvers(df, all_solvers, g, cfg.batch_size)
    cols = solved_columns(df)
    if not cols:
        if cfg.require_grades:
            raise ConfigError(missing_grades_message("<pool>"))
        result = split_by_reason(df, pd.Series(None, index=df.index, dtype=object), STAGE)
        result.info["solve_filter"] = "skipped: no grade columns (pool.columns.grades) or solvers configured"
        return result
    names = [c[len(SOLVED_PREFIX) :] for c in cols]
    reasons, detail = _reasons(df, cols, cfg)
    result = split_by_reason(df, reasons, STAGE, detail)
    unknown = "dropped" if cfg.unknown == "drop" else "kept"
    result.info["solve_filter"] = f"drop if {cfg.drop_if} of {names} solved; unknown grades {unknown}"
    result.info["solved_by_model"] = {
        n: int(df[c].fillna(False).astype(bool).sum()) for n, c in zip(names, cols, strict=False)
    }
    result.info["unknown_by_model"] = {n: int(df[c].isna().sum()) for n, c in zip(names, cols, strict=False)}
    return result
