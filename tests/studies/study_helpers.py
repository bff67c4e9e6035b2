"""Tiny benchmarks and pools written by the tests, and the study numbers recomputed straight from the run files.

`expected_cell` and `expected_diff` read samples.jsonl with json alone (not the run store, not the study code),
so a study table that drifts from its runs fails the tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from s1eval.metrics import paired_bootstrap, wilson


def write_benchmark(path: Path, n: int) -> Path:
    """n integer-kind rows (custom .jsonl benchmark)."""
    rows = [
        {"id": f"q{i}", "question": f"What is {i} + {i + 1}?", "answer": str(2 * i + 1), "kind": "integer"}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_pool(path: Path, n: int = 40) -> Path:
    """A clean synthetic pool: invented words (no overlap with AIME/MATH), four domains, varied trace lengths."""
    domains = ["Algebra", "Geometry", "Number theory", "Combinatorics"]
    rows = []
    for i in range(n):
        a, b = i % 9 + 1, (i * 7) % 11 + 1
        rows.append(
            {
                "id": f"p{i}",
                "question": f"Item {i}: how many zorblats are {a} plus {b} quenvils in the gribbet row {i}?",
                "thinking": " ".join([f"Add {a} and {b}."] * (1 + i % 6)) + f" So {a + b}.",
                "answer": f"\\boxed{{{a + b}}}",
                "solution": f"\\boxed{{{a + b}}}",
                "domain": domains[i % 4],
                "source": "synth",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_samples(run_dir: Path) -> list[dict[str, Any]]:
    lines = (Path(run_dir) / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def question_means(records: list[dict[str, Any]]) -> dict[str, float]:
    by_q: dict[str, list[float]] = {}
    for r in records:
        by_q.setdefault(str(r["id"]), []).append(1.0 if r["correct"] else 0.0)
    return {q: sum(v) / len(v) for q, v in by_q.items()}


def expected_cell(run_dir: Path) -> dict[str, float]:
    """Accuracy (%) with its Wilson interval and mean thinking tokens of one run (one sample per question)."""
    records = read_samples(run_dir)
    correct = sum(bool(r["correct"]) for r in records)
    interval = wilson(correct, len(records))
    return {
        "n_questions": len({r["id"] for r in records}),
        "accuracy": 100 * correct / len(records),
        "ci_low": 100 * interval.low,
        "ci_high": 100 * interval.high,
        "mean_thinking": float(np.mean([r["ledger"]["thinking_tokens"] for r in records])),
    }


def expected_diff(run_dir: Path, baseline_dir: Path) -> dict[str, float]:
    """Row minus baseline in points over shared questions, with the paired bootstrap on the same order."""
    x, y = question_means(read_samples(run_dir)), question_means(read_samples(baseline_dir))
    shared = [q for q in x if q in y]
    xs, ys = np.array([x[q] for q in shared]), np.array([y[q] for q in shared])
    res = paired_bootstrap(xs, ys, resamples=10_000, seed=0)
    return {
        "diff": 100 * float(np.mean(xs - ys)),
        "diff_low": 100 * res.low,
        "diff_high": 100 * res.high,
        "p_value": res.p_value,
        "n_paired": len(shared),
    }
