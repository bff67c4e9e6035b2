"""Synthetic runs of the three shapes `s1eval report` reads, written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

BUDGETS = (512, 1024, 2048)
N_QUESTIONS = 6


def ledger(method: str, budget: Any, q: int, correct: bool, sample: int = 0) -> dict[str, Any]:
    think = (budget if isinstance(budget, int) else {"short": 700, "long": 1400}[budget]) - 10 * q - sample
    capped = q % 2 == 0
    return {
        "method": method,
        "budget": budget,
        "thinking_tokens": think,
        "answer_tokens": 20 + q,
        "extensions": 1 if q % 3 == 0 else 0,
        "capped": capped,
        "outcome": "forced" if capped else "answered",
        "rounds": [{"phase": "think", "generated": think, "stop": "budget" if capped else "delimiter"}],
    }


def is_correct(method: str, budget: Any, q: int, sample: int = 0) -> bool:
    """More budget, more questions right for BF; the opposite for RS (inverse scaling)."""
    level = BUDGETS.index(budget) if budget in BUDGETS else 1
    if method == "rs":
        level = len(BUDGETS) - 1 - level
    return q < 2 + level + (sample % 2)


def write_s1eval_run(
    root: Path,
    name: str,
    method: str = "bf",
    budgets: tuple[Any, ...] = BUDGETS,
    variant: str = "s1k",
    benchmark: str = "aime24",
    k: int = 1,
    n_questions: int = N_QUESTIONS,
) -> Path:
    run = root / name
    run.mkdir(parents=True)
    manifest = {
        "run_id": name,
        "label": f"{variant} / {method.upper()}",
        "model": "tiny/s1-test",
        "model_variant": variant,
        "method": method,
        "settings": {"extension": "Wait"},
        "budgets": list(budgets),
        "benchmark": benchmark,
        "data_hash": "sha256:abc123",
        "num_questions": n_questions,
        "s1eval_version": "0.1.0",
        "created": "2025-01-01T00:00:00Z",
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    with (run / "samples.jsonl").open("w") as fh:
        for budget in budgets:
            for q in range(n_questions):
                for s in range(k):
                    ok = is_correct(method, budget, q, s)
                    led = ledger(method, budget, q, ok, s)
                    rec = {
                        "id": f"q{q}",
                        "benchmark": benchmark,
                        "method": method,
                        "budget": budget,
                        "sample": s,
                        "correct": ok,
                        "outcome": led["outcome"],
                        "ledger": led,
                    }
                    fh.write(json.dumps(rec) + "\n")
    return run


def write_lm_eval_output(
    root: Path, method: str = "bf", budget: int = 1024, ts: str = "2025-02-01T10-00-00.000001"
) -> Path:
    """The documented lm-eval --output_path shape: <out>/<model>/results_<ts>.json + samples_<task>_<ts>.jsonl."""
    out = root / "lm_eval_out" / "tiny__s1-test"
    out.mkdir(parents=True, exist_ok=True)
    task = "s1_aime24"
    results = {
        "results": {task: {"exact_match,none": 0.5}},
        "configs": {task: {"task": task, "metric_list": [{"metric": "exact_match"}]}},
        "config": {
            "model": f"s1_{method}",
            "model_args": f"pretrained=tiny/s1-test,budget={budget},model_variant=s1k",
        },
        "task_hashes": {task: "lmhash42"},
        "model_name": "tiny/s1-test",
    }
    (out / f"results_{ts}.json").write_text(json.dumps(results))
    with (out / f"samples_{task}_{ts}.jsonl").open("w") as fh:
        for q in range(N_QUESTIONS):
            ok = is_correct(method, budget, q)
            row = {
                "doc_id": q,
                "doc": {"problem": f"question {q}", "answer": str(q)},
                "resps": [["..."]],
                "filtered_resps": ["..."],
                "exact_match": float(ok),
                "s1_ledger": ledger(method, budget, q, ok),
            }
            fh.write(json.dumps(row) + "\n")
    return root / "lm_eval_out"


def write_inspect_log(root: Path, method: str = "bf", budget: int = 2048, epochs: int = 2) -> Path:
    """A real .eval log, written by inspect_ai itself from an EvalLog built here (no model, no network)."""
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSample, EvalSpec, write_eval_log
    from inspect_ai.scorer import Score

    samples = []
    for q in range(N_QUESTIONS):
        for epoch in range(1, epochs + 1):
            ok = is_correct(method, budget, q, epoch - 1)
            samples.append(
                EvalSample(
                    id=f"q{q}",
                    epoch=epoch,
                    input=f"question {q}",
                    target=str(q),
                    scores={
                        "s1eval_math": Score(
                            value="C" if ok else "I",
                            answer=str(q),
                            metadata={"ledger": ledger(method, budget, q, ok, epoch - 1)},
                        )
                    },
                )
            )
    log = EvalLog(
        status="success",
        eval=EvalSpec(
            created="2025-02-01T10:00:00+00:00",
            task="s1eval/aime24",
            dataset=EvalDataset(
                name="aime24", samples=N_QUESTIONS, sample_ids=[f"q{q}" for q in range(N_QUESTIONS)]
            ),
            model="s1eval/fake",
            config=EvalConfig(epochs=epochs),
            solver="s1eval/budget_forcing",
            metadata={"model": "tiny/s1-test", "model_variant": "1k-random", "data_hash": "sha256:inspect"},
        ),
        samples=samples,
    )
    path = root / "inspect_logs" / "2025-02-01_aime24.eval"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(path))
    return path


@pytest.fixture
def mixed_runs(tmp_path: Path) -> list[Path]:
    """BF and RS s1eval sweeps, an lm-eval run and an Inspect log: every reader, several methods."""
    runs = tmp_path / "runs"
    return [
        write_s1eval_run(runs, "bf", "bf"),
        write_s1eval_run(runs, "rs", "rs"),
        write_s1eval_run(runs, "ccc", "ccc", budgets=("short", "long")),
        write_lm_eval_output(tmp_path, "tcc+bf", 1024),
        write_inspect_log(tmp_path),
    ]
