"""What tasks/aime24.py, tasks/math500.py and tasks/gpqa.py share: benchmark rows -> an Inspect Task.

The rows come from `s1eval.data.load_benchmark` (shipped AIME24 / MATH500 files, or the user's own copy via
`data_path`; GPQA-Diamond from the user's CSV with a seeded choice shuffle), so Inspect sees exactly the
questions, gold answers and choice orders that the CLI and lm-eval see.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Scorer
from inspect_ai.solver import Solver

import s1eval
from s1eval.data import Problem, data_hash, format_question, load_benchmark
from s1eval.errors import ConfigError, require_positive
from s1eval.integrations.inspect._errors import inspect_user_errors
from s1eval.integrations.inspect.scorers import (
    aime_answer,
    answer,
    avg_at_k,
    gpqa_answer,
    maj_at_k,
    math_answer,
)
from s1eval.integrations.inspect.solvers import SOLVERS, control


def problem_sample(problem: Problem) -> Sample:
    """One benchmark row as an Inspect Sample (the kind and the GPQA shuffle travel in the metadata)."""
    metadata: dict[str, Any] = {"kind": problem.kind, **problem.metadata}
    return Sample(
        id=problem.id,
        input=format_question(problem),
        target=problem.answer,
        choices=list(problem.choices) if problem.choices else None,
        metadata=metadata,
    )


def method_solver(
    method: str = "bf",
    *,
    max_thinking_tokens: int | None = None,
    budgets: str | Sequence[Any] | None = None,
    num_extensions: int | None = None,
    extension_string: str | None = None,
    max_answer_tokens: int | None = None,
    system: str | None = None,
    format: str | None = None,
    **settings: Any,
) -> Solver:
    """The s1eval solver for a method name, with the task options that apply to it."""
    key = method.strip().lower()
    extra = dict(settings)
    if num_extensions is not None:
        extra["num_extensions"] = num_extensions
    if extension_string is not None:
        extra["extension_strings"] = extension_string
    if max_answer_tokens is not None:
        extra["max_answer_tokens"] = max_answer_tokens
    if key in SOLVERS:
        return SOLVERS[key](max_thinking_tokens, budgets=budgets, format=format, system=system, **extra)
    return control(key, max_thinking_tokens, budgets, format, system, **extra)


def benchmark_task(
    benchmark: str,
    *,
    data_path: str | None = None,
    method: str = "bf",
    max_thinking_tokens: int | None = None,
    budgets: str | Sequence[Any] | None = None,
    num_extensions: int | None = None,
    extension_string: str | None = None,
    max_answer_tokens: int | None = None,
    epochs: int = 1,
    limit: int | None = None,
    shuffle_seed: int = 0,
    system: str | None = None,
    format: str | None = None,
    **settings: Any,
) -> Task:
    """An Inspect Task for a benchmark run with one s1eval method (see tasks/*.py for the -T options).

    Every setting is checked here, when Inspect builds the task: a mistake is one line, before any model loads."""
    with inspect_user_errors():
        return _benchmark_task(
            benchmark,
            data_path=data_path,
            method=method,
            max_thinking_tokens=max_thinking_tokens,
            budgets=budgets,
            num_extensions=num_extensions,
            extension_string=extension_string,
            max_answer_tokens=max_answer_tokens,
            epochs=epochs,
            limit=limit,
            shuffle_seed=shuffle_seed,
            system=system,
            format=format,
            **settings,
        )


def _benchmark_task(
    benchmark: str,
    *,
    data_path: str | None,
    method: str,
    max_thinking_tokens: int | None,
    budgets: str | Sequence[Any] | None,
    num_extensions: int | None,
    extension_string: str | None,
    max_answer_tokens: int | None,
    epochs: int,
    limit: int | None,
    shuffle_seed: int,
    system: str | None,
    format: str | None,
    **settings: Any,
) -> Task:
    require_positive("epochs", epochs, "Give the number of samples per question, e.g. -T epochs=8.")
    solver = method_solver(  # the settings first: a typo is reported before any file is read
        method,
        max_thinking_tokens=max_thinking_tokens,
        budgets=budgets,
        num_extensions=num_extensions,
        extension_string=extension_string,
        max_answer_tokens=max_answer_tokens,
        system=system,
        format=format,
        **settings,
    )
    data_path = resolve_data_path(data_path)
    problems = load_benchmark(benchmark, data_path, limit=limit, seed=shuffle_seed)
    if not problems:
        raise ConfigError(f"benchmark {benchmark} has no questions to run")
    kinds = {p.kind for p in problems}
    return Task(
        dataset=MemoryDataset([problem_sample(p) for p in problems], name=benchmark, location=data_path),
        solver=solver,
        scorer=benchmark_scorer(kinds.pop() if len(kinds) == 1 else None),
        epochs=Epochs(epochs, [avg_at_k(), maj_at_k()]) if epochs > 1 else None,
        metadata={
            "s1eval_version": s1eval.__version__,
            "benchmark": benchmark,
            "method": method,
            "data_hash": data_hash(problems),
            "shuffle_seed": shuffle_seed if benchmark.startswith("gpqa") else None,
        },
    )


def resolve_data_path(path: str | None) -> str | None:
    """A relative -T data_path means the directory the user ran `inspect eval` in.

    Inspect creates a task with the task file's directory as the working directory, so a relative path is
    looked up in the shell's directory ($PWD) first, then beside the task file (Inspect's convention).
    """
    if path is None:
        return None
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return str(candidate)
    for base in (os.environ.get("PWD"), os.getcwd()):
        if base and (Path(base) / candidate).exists():
            return str((Path(base) / candidate).resolve())
    return str(candidate)  # not found anywhere: the loader's error names it


def benchmark_scorer(kind: str | None) -> Scorer:
    """The scorer for one answer kind (a mixed custom file scores each sample by its own kind)."""
    return {"aime": aime_answer, "math": math_answer, "gpqa": gpqa_answer}.get(kind or "", answer)()
