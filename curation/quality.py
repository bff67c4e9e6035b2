"""Stage 1, quality: drop rows the model should never be trained on.

In order (a row is reported under its first failing check): missing fields, failed API calls in the trace or
answer, traces graded incorrect (opt-in), broken formatting in the question (unbalanced LaTeX, image
references, ASCII-art figures) and duplicate questions (after case/space/punctuation normalisation; the first
surviving copy in pool order is kept). Checks are vectorised pandas string operations.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

from .config import QualityConfig
from .stage import StageResult, first_reason, split_by_reason, union_pattern

STAGE = "quality"
# Failed API calls leave short error payloads; looking at the head of a field keeps long traces cheap.
FAILURE_SCAN_CHARS = 500
_DRAW = re.compile(r"[|/\\#]|[-_=*+.~]{2,}")
_WORD = re.compile(r"[A-Za-z]{3}|\\[A-Za-z]")


def is_blank(series: pd.Series) -> pd.Series:
    """Missing, empty or whitespace-only cells."""
    return series.isna() | (series.fillna("").astype(str).str.strip() == "")


def latex_unbalanced(text: pd.Series) -> pd.Series:
    """Odd number of unescaped $, or \\begin/\\end, \\left/\\right or {/} counts that differ."""
    t = text.fillna("").astype(str)
    dollars = t.str.count(r"(?<!\\)\$")
    begins, ends = t.str.count(r"\\begin\{"), t.str.count(r"\\end\{")
    lefts, rights = t.str.count(r"\\left(?![A-Za-z])"), t.str.count(r"\\right(?![A-Za-z])")
    opens, closes = t.str.count(r"(?<!\\)\{"), t.str.count(r"(?<!\\)\}")
    return (dollars % 2 == 1) | (begins != ends) | (lefts != rights) | (opens != closes)


def _art_line(line: str) -> bool:
    s = line.strip()
    if len(s) < 2 or _WORD.search(s):
        return False
    drawn = sum(len(m.group(0)) for m in _DRAW.finditer(s))
    return drawn >= 2 and (drawn + s.count(" ")) / len(s) >= 0.5


def _has_art(text: str, min_lines: int) -> bool:
    run = 0
    for line in text.split("\n"):
        run = run + 1 if _art_line(line) else 0
        if run >= min_lines:
            return True
    return False


def ascii_art(text: pd.Series, min_lines: int = 3) -> pd.Series:
    """min_lines consecutive lines that are mostly drawing characters (|/\\#, runs of -_=+*) with no words."""
    t = text.fillna("").astype(str)
    # Only texts with enough lines and some drawing character can hold a figure: skip the rest cheaply.
    maybe = (t.str.count("\n") >= min_lines - 1) & t.str.contains(r"[|/\\#]|[-_=*+]{2}", regex=True)
    out = pd.Series(False, index=t.index)
    if maybe.any():
        out[maybe] = [_has_art(x, min_lines) for x in t[maybe]]
    return out


def normalize_question(text: pd.Series) -> pd.Series:
    """Lowercase, punctuation and LaTeX spacing dropped, whitespace collapsed: the duplicate key."""
    t = text.fillna("").astype(str).str.lower()
    t = t.str.replace(r"[^\w]+", " ", regex=True)
    return t.str.strip()


def _compile(patterns: list[str], key: str) -> str:
    pattern = union_pattern(patterns)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"quality.{key} holds an invalid regular expression ({exc}); fix or remove it"
        ) from None
    return pattern


def run(df: pd.DataFrame, cfg: QualityConfig) -> StageResult:
    """Apply the quality checks; see the module docstring for the order."""
    if not cfg.enabled:
        return split_by_reason(df, pd.Series(None, index=df.index, dtype=object), STAGE)
    checks: list[tuple[str, pd.Series]] = []
    for name in cfg.require:
        if name not in df.columns:
            raise ConfigError(
                f"quality.require names {name!r}, which the pool does not have; map it in "
                "pool.columns or remove it from quality.require"
            )
        checks.append((f"missing_{name}", is_blank(df[name])))
    if cfg.failure_patterns:
        failed = _compile(cfg.failure_patterns, "failure_patterns")
        mask = pd.Series(False, index=df.index)
        for name in ("thinking", "answer"):
            if name in df.columns:
                head = df[name].fillna("").astype(str).str.slice(0, FAILURE_SCAN_CHARS)
                mask |= head.str.contains(failed, regex=True)
        checks.append(("failed_generation", mask))
    if cfg.drop_incorrect_traces and "trace_grade" in df.columns:
        checks.append(("incorrect_trace", df["trace_grade"].eq(False)))

    exempt = df["source"].isin(cfg.skip_format_sources).to_numpy()
    fields = [f for f in cfg.format_fields if f in df.columns]
    for f in cfg.format_fields:
        if f not in df.columns:
            raise ConfigError(f"quality.format_fields names {f!r}, which the pool does not have; remove it")
    images = (
        _compile(cfg.image_patterns, "image_patterns") if cfg.check_images and cfg.image_patterns else None
    )
    for f in fields:
        text = df[f]
        if cfg.check_latex:
            checks.append(("unbalanced_latex", latex_unbalanced(text) & ~exempt))
        if images:
            checks.append(("image_reference", text.fillna("").astype(str).str.contains(images) & ~exempt))
        if cfg.check_ascii_art:
            checks.append(("ascii_art", ascii_art(text, cfg.ascii_art_min_lines) & ~exempt))

    reasons = first_reason(checks, df.index)
    if cfg.dedupe:
        alive = reasons.isna().to_numpy()
        key = normalize_question(df["question"])
        dup = np.zeros(len(df), dtype=bool)
        dup[alive] = key[alive].duplicated(keep="first").to_numpy()
        first_of = key[alive].drop_duplicates(keep="first")
        origin = pd.Series(df.loc[first_of.index, "pool_index"].to_numpy(), index=first_of.to_numpy())
        detail = pd.Series(None, index=df.index, dtype=object)
        detail[dup] = [f"duplicate of pool_index {int(origin[k])}" for k in key[dup]]
        reasons[dup] = "duplicate"
        return split_by_reason(df, reasons, STAGE, detail)
    return split_by_reason(df, reasons, STAGE)
