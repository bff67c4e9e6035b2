"""Inspect's entry point (`[project.entry-points.inspect_ai] s1eval = ...`): importing it registers every
s1eval provider (s1hf, s1vllm, s1openai, s1fake), solver, scorer, metric, reducer and task by name.

The tasks are the same functions that `inspect eval tasks/gpqa.py` loads from a checkout (those files are links
to `benchmarks/`); here they are also registered as `s1eval/aime24`, `s1eval/math500` and `s1eval/gpqa_diamond`,
so `inspect eval s1eval/gpqa_diamond` works after `pip install s1eval` alone.
"""

from inspect_ai import task

from s1eval.integrations.inspect import providers, scorers, solvers  # noqa: F401
from s1eval.integrations.inspect._names import qualified
from s1eval.integrations.inspect.benchmarks.aime24 import aime24
from s1eval.integrations.inspect.benchmarks.gpqa import gpqa_diamond
from s1eval.integrations.inspect.benchmarks.math500 import math500

for _benchmark_task in (aime24, gpqa_diamond, math500):
    task(name=qualified(_benchmark_task.__name__))(_benchmark_task.__wrapped__)
