"""Stage 1, quality: drop rows the model should never be trained on.

In order (a row is reported under its first failing check): missing fields, one of two rule sets (each with
the opt-in drop of traces graded incorrect), then duplicate questions (the first surviving copy in pool order is kept; by
default after case/space/punctuation normalisation, with dedupe: exact on the exact text).

- generic: failed API calls in the trace or answer, broken formatting in the question (unbalanced LaTeX,
  image references, ASCII-art figures), sources in skip_format_sources exempt from the format checks;
- s1 (filter.ipynb): rows missing a featurized value (cell 4), then [asy] unless the source is AIME,
  ![Image], p{i}. numbering and bold digits (cell 7).
Checks are vectorised pandas string operations.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

from .config import QualityConfig
from .pool import solved_columns
from .stage import StageResult, first_reason, split_by_reason, union_pattern

STAGE = "quality"
# Failed API calls leave short error payloads; looking at the head of a field keeps long traces cheap.
FAILURE_SCAN_CHARS = 500
_DRAW = re.compile(r"[|/\\#]|[-_=*+.~]{2,}")
_WORD = re.compile(r"[A-Za-z]{3}|\\[A-Za-z]")
# s1's rules, as filter.ipynb cell 7 writes them. f"p{i}." for some i in 1..999 is exactly this pattern.
S1_NUMBERING = r"p[1-9][0-9]{0,2}\."
S1_BOLD_NUMBER = r"\*\*(?=.*\d)[^\s\]]*\*\*"
S1_ASY_KEEP = "AIME"  # 'AIME' in source_type keeps an [asy] question
# Canonical columns s1's featurization fills (domain, gemini_length, isgeminicorrect), plus solved:<model>.
FEATURE_FIELDS = ("domain", "thinking_tokens", "trace_grade")


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


def source_matches(sources: pd.Series, entries: list[str]) -> np.ndarray:
    """Where an entry is a case-insensitive prefix of the source or of one of its /-separated parts.

    Real source values carry paths (LiveCodeBench/release_v1, codegenning/usacobench_formatted), so an exact
    match would miss them: LiveCodeBench, codegen and USACO all match here.
    """
    text = sources.fillna("").astype(str)
    wanted = tuple(e.lower() for e in entries if e)
    if not wanted:
        return np.zeros(len(text), dtype=bool)

    def hit(src: str) -> bool:
        low = src.lower()
        return any(part.startswith(wanted) for part in (low, *low.split("/")))

    memo = {src: hit(src) for src in text.unique()}
    return text.map(memo).to_numpy(dtype=bool)


def feature_columns(df: pd.DataFrame, names: list[str] | None) -> list[str]:
    """The featurized columns a row must have under s1's rules (None: all the pool carries)."""
    if names is None:
        return [c for c in FEATURE_FIELDS if c in df.columns] + solved_columns(df)
    absent = [n for n in names if n not in df.columns]
    if absent:
        raise ConfigError(
            f"quality.features names {absent}, which the pool does not have; map them in pool.columns "
            "(or pool.features) or remove them"
        )
    return list(names)


def s1_format_checks(df: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """filter.ipynb cell 7: [asy], ![Image], p{i}. and bold digits drop a question, but [asy] in an AIME
    question keeps it whatever else it holds (the notebook's elif branch)."""
    q = df["question"].fillna("").astype(str)
    asy = q.str.contains("[asy]", regex=False)
    keep = asy & df["source"].fillna("").astype(str).str.contains(S1_ASY_KEEP, regex=False)
    checks = [
        ("asy_figure", asy),
        ("image_placeholder", q.str.contains("![Image]", regex=False)),
        ("p_numbering", q.str.contains(S1_NUMBERING, regex=True)),
        ("bold_number", q.str.contains(S1_BOLD_NUMBER, regex=True)),
    ]
    return [(name, mask & ~keep) for name, mask in checks]


def _required_checks(df: pd.DataFrame, cfg: QualityConfig) -> list[tuple[str, pd.Series]]:
    """Missing required fields: both rule sets start with these (a row without a trace cannot be trained)."""
    checks: list[tuple[str, pd.Series]] = []
    for name in cfg.require:
        if name not in df.columns:
            raise ConfigError(
                f"quality.require names {name!r}, which the pool does not have; map it in "
                "pool.columns or remove it from quality.require"
            )
        checks.append((f"missing_{name}", is_blank(df[name])))
    return checks


def _incorrect_check(df: pd.DataFrame, cfg: QualityConfig) -> list[tuple[str, pd.Series]]:
    """Traces graded incorrect, when asked for (s1 keeps them: s1K holds wrong Gemini traces)."""
    if cfg.drop_incorrect_traces and "trace_grade" in df.columns:
        return [("incorrect_trace", df["trace_grade"].eq(False))]
    return []


def _generic_checks(df: pd.DataFrame, cfg: QualityConfig) -> list[tuple[str, pd.Series]]:
    """Failed API calls, incorrect traces (opt-in), then LaTeX balance, image references and ASCII art."""
    checks: list[tuple[str, pd.Series]] = []
    if cfg.failure_patterns:
        failed = _compile(cfg.failure_patterns, "failure_patterns")
        mask = pd.Series(False, index=df.index)
        for name in ("thinking", "answer"):
            if name in df.columns:
                head = df[name].fillna("").astype(str).str.slice(0, FAILURE_SCAN_CHARS)
                mask |= head.str.contains(failed, regex=True)
        checks.append(("failed_generation", mask))
    checks += _incorrect_check(df, cfg)
    for f in cfg.format_fields:
        if f not in df.columns:
            raise ConfigError(f"quality.format_fields names {f!r}, which the pool does not have; remove it")
    exempt = source_matches(df["source"], cfg.skip_format_sources)
    images = (
        _compile(cfg.image_patterns, "image_patterns") if cfg.check_images and cfg.image_patterns else None
    )
    for f in cfg.format_fields:
        text = df[f]
        if cfg.check_latex:
            checks.append(("unbalanced_latex", latex_unbalanced(text) & ~exempt))
        if images:
            checks.append(("image_reference", text.fillna("").astype(str).str.contains(images) & ~exempt))
        if cfg.check_ascii_art:
            checks.append(("ascii_art", ascii_art(text, cfg.ascii_art_min_lines) & ~exempt))
    return checks


def _mark_duplicates(df: pd.DataFrame, reasons: pd.Series, detail: pd.Series, exact: bool) -> None:
    """Flag later copies among the rows still alive (the first copy in pool order is kept), in place."""
    alive = reasons.isna().to_numpy()
    key = df["question"].fillna("").astype(str) if exact else normalize_question(df["question"])
    dup = np.zeros(len(df), dtype=bool)
    dup[alive] = key[alive].duplicated(keep="first").to_numpy()
    first_of = key[alive].drop_duplicates(keep="first")
    origin = pd.Series(df.loc[first_of.index, "pool_index"].to_numpy(), index=first_of.to_numpy())
    detail[dup] = [f"duplicate of pool_index {int(origin[k])}" for k in key[dup]]
    reasons[dup] = "duplicate"


def run(df: pd.DataFrame, cfg: QualityConfig) -> StageResult:
    """Apply the quality checks; see the module docstring for the order."""
    if not cfg.enabled:
        return split_by_reason(df, pd.Series(None, index=df.index, dtype=object), STAGE)
    checks = _required_checks(df, cfg)
    features: list[str] = []
    if cfg.rules == "s1":
        features = feature_columns(df, cfg.features)
        if features:
            checks.append(("missing_features", df[features].isna().any(axis=1)))
        checks += _incorrect_check(df, cfg) + s1_format_checks(df)
    else:
        checks += _generic_checks(df, cfg)
    reasons = first_reason(checks, df.index)
    detail = pd.Series(None, index=df.index, dtype=object)
    lacking = (reasons == "missing_features").to_numpy()
    if lacking.any():
        na = df.loc[lacking, features].isna().to_numpy()
        detail[lacking] = [",".join(f for f, m in zip(features, row, strict=True) if m) for row in na]
    if cfg.dedupe:
        _mark_duplicates(df, reasons, detail, exact=cfg.dedupe == "exact")
    return split_by_reason(df, reasons, STAGE, detail)
