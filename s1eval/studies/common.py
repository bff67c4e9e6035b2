"""What both studies share: benchmarks by name or path, one resumable run per table cell, and the result.

A study is a grid of (row, benchmark) cells. Each cell is an ordinary `s1eval eval` run directory under
`<work>/runs/<row>/<benchmark>`, so `s1eval report` reads it, and a rerun of the study resumes every cell from
its own samples. A cell directory made with other settings is refused rather than mixed into the table.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.control.methods import PreparedMethod
from s1eval.data import Problem, load_benchmark
from s1eval.errors import ConfigError
from s1eval.report.plots import safe_name
from s1eval.runs.evaluate import RunSpec, evaluate

Benchmarks = str | Sequence[str] | Mapping[str, Sequence[Problem]]
"""'aime24,math500', ['aime24', 'rows.jsonl', 'gpqa_diamond=/data/gpqa.csv'], or {name: problems}."""


@dataclass
class StudyResult:
    """A finished study: its table (one row per strategy or subset), the cell runs and the files written."""

    name: str
    table: pd.DataFrame
    out_dir: Path
    runs: dict[tuple[str, str], Path]
    files: list[Path] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def markdown(self) -> Path:
        return self.out_dir / "report.md"

    @property
    def html(self) -> Path:
        return self.out_dir / "index.html"


SHIPPED_LAYOUT = ("aime24", "aime25", "math500")
"""Benchmarks whose NAME=PATH form reads your own copy in the shipped layout (and keeps the benchmark's kind)."""


def split_benchmarks(benchmarks: str | Sequence[str]) -> list[str]:
    items = benchmarks.split(",") if isinstance(benchmarks, str) else list(benchmarks)
    items = [str(b).strip() for b in items if str(b).strip()]
    if not items:
        raise ConfigError("give at least one benchmark, e.g. --benchmarks aime24,math500")
    return items


def benchmark_name(item: str) -> str:
    """The cell name of a benchmark: 'aime24', the stem of 'data/rows.jsonl', the name of 'name=path'."""
    name = item.split("=", 1)[0] if "=" in item else item
    return Path(name).stem if name.endswith(".jsonl") else name


def load_benchmarks(
    benchmarks: Benchmarks, *, limit: int | None = None, seed: int = 0
) -> dict[str, list[Problem]]:
    """Benchmark name -> its problems (the first `limit`), in the order given; names must be unique."""
    if isinstance(benchmarks, Mapping):
        loaded = {str(k): list(v)[:limit] if limit else list(v) for k, v in benchmarks.items()}
    else:
        loaded = {}
        for item in split_benchmarks(benchmarks):
            name = benchmark_name(item)
            if name in loaded:
                raise ConfigError(f"benchmark {name!r} is given twice; name one with NAME=PATH")
            source, _, path = item.partition("=")
            if path and path.endswith(".jsonl") and source.lower() not in SHIPPED_LAYOUT:
                source = "jsonl"  # NAME=rows.jsonl: custom rows under their own name
            loaded[name] = load_benchmark(source, path or None, limit=limit, seed=seed)
    for name, problems in loaded.items():
        if not problems:
            raise ConfigError(f"benchmark {name!r} has no questions; check its file or --limit")
    return loaded


def cell_dir(work_dir: Path, row_key: str, benchmark: str) -> Path:
    return Path(work_dir) / "runs" / safe_name(row_key) / safe_name(benchmark)


STUDY_FIX = "delete that folder or give the study another --work-dir"


def run_cell(
    prepared: PreparedMethod,
    problems: Sequence[Problem],
    run_dir: Path,
    spec: RunSpec,
    *,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """One table cell: evaluate (resuming whatever the run directory already holds) and return its records.

    A cell whose run directory holds another model's or settings' run is refused (the table would mix both).
    """
    spec = dataclasses.replace(spec, reuse_fix=STUDY_FIX)
    if not progress:
        return evaluate(prepared, problems, run_dir, spec)
    from tqdm.auto import tqdm

    total = len(problems) * spec.samples
    with tqdm(total=total, desc=f"{spec.label} on {spec.benchmark}", unit="sample", leave=False) as bar:
        return evaluate(prepared, problems, run_dir, spec, progress=bar.update)


@contextmanager
def study_engine(
    model: Any, engine: str = "hf", engine_options: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """The engine a study runs on: `model` itself when it is an Engine, else loaded from its path or hub id
    (with `engine` and `engine_options`) and unloaded when the study is done with it."""
    if not isinstance(model, (str, Path)):
        yield model
        return
    from s1eval.engines import create_engine

    eng = create_engine(engine, str(model), **dict(engine_options or {}))
    try:
        yield eng
    finally:
        unload_engine(eng)


def unload_engine(engine: Any) -> None:
    """Free an engine's memory before the next model loads (the ablation holds one model at a time)."""
    engine.close()
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - engines other than hf run without torch
        pass


def display_path(path: Path, base: Path) -> str:
    """A path relative to the study's output folder, else to the working directory (reports carry no machine
    paths where they can be avoided)."""
    for root in (Path(base), Path.cwd()):
        try:
            return str(Path(path).resolve().relative_to(root.resolve()))
        except ValueError:
            continue
    return str(path)
