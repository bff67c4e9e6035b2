"""Inspect's entry point (`[project.entry-points.inspect_ai] s1eval = ...`): importing it registers every
s1eval provider (s1hf, s1vllm, s1openai, s1fake), solver, scorer, metric and reducer by name."""

from s1eval.integrations.inspect import providers, scorers, solvers  # noqa: F401
