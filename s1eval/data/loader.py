"""`load_benchmark`: one entry point from a benchmark name (or a custom JSONL path) to Problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1eval.data.gpqa import load_gpqa
from s1eval.data.jsonl import problems_from_jsonl
from s1eval.data.problem import Problem
from s1eval.data.shipped import SHIPPED, shipped_path
from s1eval.errors import ConfigError, require_positive

BENCHMARKS: tuple[str, ...] = ("aime24", "aime25", "math500", "gpqa_diamond", "jsonl")
_ALIASES = {
    "aime_2024": "aime24",
    "aime2024": "aime24",
    "aime_2025": "aime25",
    "aime2025": "aime25",
    "math_500": "math500",
    "math-500": "math500",
    "gpqa": "gpqa_diamond",
    "gpqa-diamond": "gpqa_diamond",
    "gpqadiamond": "gpqa_diamond",
}
_GPQA_OPTS = {"use_hub"}
_JSONL_OPTS = {"kind", "default_kind"}


def load_benchmark(
    name: str, path: str | None = None, *, limit: int | None = None, seed: int = 0, **opts: Any
) -> list[Problem]:
    """Problems for a benchmark, in file order, cut to the first `limit`.

    name: aime24, aime25, math500 (shipped; `path` loads your own copy in the same layout instead),
    gpqa_diamond (`path`, else $S1EVAL_GPQA_PATH, else the gated hub dataset; `seed` fixes the choice
    shuffle), or jsonl / a path ending in .jsonl (custom rows: id, question, answer, kind; opts: kind=...
    to set every row's kind, default_kind=... for rows without one).
    """
    require_positive("limit", limit, "Leave it out to load every question.")
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in BENCHMARKS and name.endswith(".jsonl") and path is None:
        key, path = "jsonl", name
    if key not in BENCHMARKS:
        raise ConfigError(
            f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)} or a .jsonl path"
        )
    if key == "gpqa_diamond":
        _check_opts(key, opts, _GPQA_OPTS)
        problems = load_gpqa(path, seed=seed, **opts)
    elif key == "jsonl":
        _check_opts(key, opts, _JSONL_OPTS)
        if path is None:
            raise ConfigError(
                "benchmark 'jsonl' needs path=/path/to/rows.jsonl (rows: id, question, answer, kind)"
            )
        problems = problems_from_jsonl(path, **opts)
    else:
        _check_opts(key, opts, set())
        source = Path(path) if path is not None else shipped_path(key)
        problems = problems_from_jsonl(source, kind=SHIPPED[key][1])
    return problems[:limit] if limit is not None else problems


def _check_opts(name: str, opts: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(opts) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for benchmark {name}; known: {known}")
