"""GPQA-Diamond (198 questions) with an s1eval control method, from your own copy of the data.

    inspect eval tasks/gpqa.py --model s1hf/simplescaling/s1.1-32B -T data_path=gpqa_diamond.csv \
        -T max_thinking_tokens=8000

GPQA's text is not shipped (its authors ask that it not be published): pass data_path= to the official
gpqa_diamond.csv, or set S1EVAL_GPQA_PATH, or accept the gated hub dataset Idavidrein/gpqa and log in.
The four choices are shuffled per question from (shuffle_seed, question id); the seed is in every sample's
metadata. Other -T options as in tasks/aime24.py.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task

from s1eval.integrations.inspect.tasks import benchmark_task


# Inspect reads a task's -T options from its signature, so each of the three tasks spells them out; what they do
# is in one place, `benchmark_task`.
@task
def gpqa_diamond(
    data_path: str | None = None,
    method: str = "bf",
    max_thinking_tokens: int | None = None,
    budgets: str | None = None,
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
    return benchmark_task(
        "gpqa_diamond",
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
