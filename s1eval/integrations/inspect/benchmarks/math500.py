"""MATH500 (500 problems, shipped) with an s1eval control method.

    inspect eval tasks/math500.py --model s1hf/simplescaling/s1.1-32B -T max_thinking_tokens=8000

-T options: data_path (your own copy, same JSONL layout), method (bf, tcc, scc, ccc, rs, vote, tcc+bf, scc+bf),
max_thinking_tokens (default: --reasoning-tokens), budgets (e.g. 512,1024,2048: one anytime sweep),
num_extensions, extension_string (Wait, Hmm, Alternatively, none, cycle, A|B), max_answer_tokens, epochs
(k samples per question, reduced to avg@k and maj@k), limit, system, format (s1, r1), and any other setting
of the method by name.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task

from s1eval.integrations.inspect.tasks import benchmark_task


# Inspect reads a task's -T options from its signature, so each of the three tasks spells them out; what they do
# is in one place, `benchmark_task`.
@task
def math500(
    data_path: str | None = None,
    method: str = "bf",
    max_thinking_tokens: int | None = None,
    budgets: str | None = None,
    num_extensions: int | None = None,
    extension_string: str | None = None,
    max_answer_tokens: int | None = None,
    epochs: int = 1,
    limit: int | None = None,
    system: str | None = None,
    format: str | None = None,
    **settings: Any,
) -> Task:
    return benchmark_task(
        "math500",
        data_path=data_path,
        method=method,
        max_thinking_tokens=max_thinking_tokens,
        budgets=budgets,
        num_extensions=num_extensions,
        extension_string=extension_string,
        max_answer_tokens=max_answer_tokens,
        epochs=epochs,
        limit=limit,
        system=system,
        format=format,
        **settings,
    )
