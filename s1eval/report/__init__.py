"""Reports of runs: readers of s1eval / lm-eval / Inspect outputs, leaderboard and budget tables, plots, HTML.

Imports are lazy so that `s1eval --help` does not pay for pandas and matplotlib.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Report", "RunInfo", "RunSet", "read_runs", "write_report"]


def __getattr__(name: str) -> Any:
    if name in ("Report", "write_report"):
        from s1eval.report import build

        return getattr(build, name)
    if name in ("RunInfo", "RunSet", "read_runs"):
        from s1eval.report import readers

        return getattr(readers, name)
    raise AttributeError(f"module 's1eval.report' has no attribute {name!r}")
