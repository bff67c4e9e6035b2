"""Benchmark rows as one typed record: loaders for the shipped sets, GPQA-Diamond and custom JSONL."""

from s1eval.data.gpqa import ENV_VAR as GPQA_ENV_VAR
from s1eval.data.gpqa import shuffle_choices
from s1eval.data.loader import BENCHMARKS, load_benchmark
from s1eval.data.problem import CHOICE_LETTERS, Problem, data_hash, format_question

__all__ = [
    "BENCHMARKS",
    "CHOICE_LETTERS",
    "GPQA_ENV_VAR",
    "Problem",
    "data_hash",
    "format_question",
    "load_benchmark",
    "shuffle_choices",
]
