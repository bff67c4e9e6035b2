"""What every stage hands back: the rows it kept, the rows it removed (with a reason each) and a summary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

REMOVED_COLUMNS = ["pool_index", "id", "source", "stage", "reason", "detail"]


@dataclass
class StageResult:
    """Kept rows, removed rows (pool_index, id, source, stage, reason, detail) and stage facts for the report."""

    kept: pd.DataFrame
    removed: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def empty_removed() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "pool_index" else object) for c in REMOVED_COLUMNS}
    )


def split_by_reason(
    df: pd.DataFrame, reasons: pd.Series, stage: str, detail: pd.Series | None = None
) -> StageResult:
    """Rows whose reason is set are removed under that reason; the others are kept."""
    bad = reasons.notna().to_numpy()
    removed = df.loc[bad, ["pool_index", "id", "source"]].copy()
    removed["stage"] = stage
    removed["reason"] = reasons[bad].astype(str).to_numpy()
    removed["detail"] = detail[bad].to_numpy() if detail is not None else None
    counts = removed["reason"].value_counts()
    info = {"removed_by_reason": {k: int(counts[k]) for k in sorted(counts.index)}}
    return StageResult(
        kept=df.loc[~bad].copy(), removed=removed.reset_index(drop=True)[REMOVED_COLUMNS], info=info
    )


def first_reason(checks: list[tuple[str, pd.Series]], index: pd.Index) -> pd.Series:
    """The first failing check's name per row (None where all pass); checks are boolean masks in order."""
    out = pd.Series(None, index=index, dtype=object)
    for name, mask in checks:
        hit = mask.fillna(False).to_numpy(dtype=bool) & out.isna().to_numpy()
        out[hit] = name
    return out


_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def union_pattern(patterns: list[str]) -> str:
    """One alternation of several patterns, each keeping its own leading inline flags as a scoped group."""
    parts = []
    for p in patterns:
        m = _FLAGS.match(p)
        if m:
            flags = m.group(1)
            body = p[m.end() :]
            if "m" in flags or "s" in flags or "i" in flags:
                parts.append(f"(?{flags}:{body})")
                continue
        parts.append(f"(?:{p})")
    return "|".join(parts)
