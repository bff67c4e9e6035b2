"""The real `lm_eval` command with the methods whose x-axis is not tokens (`s1_ccc`, `s1_vote`), offline.

The `s1_ledger` metric (`in_budget_share`) compares thinking tokens with a token budget: a class budget
(ccc) has none and is left out instead of crashing the run (issue 20, item 1); a vote is scored per sample
against the per-sample cap, not the summed thinking against n (issue 20, item 6).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
TASK = "s1_math500"
LIMIT = 2


def lm_eval(model: str, model_args: dict[str, object], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [
        str(BIN / "s1eval"),
        "lm-eval",
        "--model",
        model,
        "--model_args",
        ",".join(f"{k}={v}" for k, v in model_args.items()),
        "--tasks",
        TASK,
        "--limit",
        str(LIMIT),
        "--log_samples",
        "--output_path",
        str(cwd / "out"),
    ]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def written(proc: subprocess.CompletedProcess, cwd: Path) -> tuple[dict, list[dict]]:
    """lm-eval's task metrics and sample rows, after checking the run ended well and wrote both files."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    results_files = list((cwd / "out").rglob("results_*.json"))
    samples_files = list((cwd / "out").rglob(f"samples_{TASK}_*.jsonl"))
    assert len(results_files) == 1 and len(samples_files) == 1, (results_files, samples_files)
    samples = [json.loads(line) for line in samples_files[0].read_text().splitlines()]
    assert len(samples) == LIMIT
    metrics = json.loads(results_files[0].read_text())["results"][TASK]
    assert "exact_match,none" in metrics and "s1_ledger,none" in metrics
    return metrics, samples


def test_lm_eval_s1_ccc_writes_results_and_leaves_the_class_budget_out(tiny_model_path, tmp_path):
    args = {"pretrained": tiny_model_path, "at": "short", "max_tokens": 8, "max_answer_tokens": 4}
    metrics, samples = written(lm_eval("s1_ccc", args, tmp_path), tmp_path)
    for sample in samples:
        ledger = sample["s1_ledger"]
        assert ledger["method"] == "ccc" and ledger["budget"] == "short" and ledger["class"] == "short"
        assert ledger["thinking_tokens"] <= 8 and ledger["answer_tokens"] <= 4
    # a class is not a number of tokens: no "within budget" share, rather than a TypeError
    assert math.isnan(metrics["s1_ledger,none"])


def test_lm_eval_s1_vote_ledger_metric_is_per_sample_within_the_sample_cap(tiny_model_path, tmp_path):
    n, cap = 2, 8
    args = {"pretrained": tiny_model_path, "n": n, "max_thinking_tokens": cap, "max_answer_tokens": 4}
    metrics, samples = written(lm_eval("s1_vote", args, tmp_path), tmp_path)
    ledgers = [sample["s1_ledger"] for sample in samples]
    for ledger in ledgers:
        assert ledger["method"] == "vote" and ledger["budget"] == n and ledger["sample_budget"] == cap
        assert len(ledger["sample_thinking_tokens"]) == n
        assert sum(ledger["sample_thinking_tokens"]) == ledger["thinking_tokens"]
    per_sample = [t for ledger in ledgers for t in ledger["sample_thinking_tokens"]]
    expected = sum(t <= cap for t in per_sample) / len(per_sample)
    apples_to_oranges = sum(ledger["thinking_tokens"] <= ledger["budget"] for ledger in ledgers) / len(
        ledgers
    )
    assert expected != apples_to_oranges  # the tiny model thinks past n tokens in total, so the two differ
    assert metrics["s1_ledger,none"] == pytest.approx(expected)
    assert expected == 1.0  # each sample is budget-forced at its cap


def test_in_budget_share_by_kind_of_budget():
    """Token budgets keep their meaning; class budgets and uncapped votes have no share; votes count samples."""
    from s1eval.integrations.lm_eval.response import in_budget_share

    bf = [
        {"method": "bf", "budget": 8, "thinking_tokens": 8},
        {"method": "rs", "budget": 8, "thinking_tokens": 9},
    ]
    assert in_budget_share(bf) == 0.5
    assert in_budget_share([[{"method": "tcc", "budget": None, "thinking_tokens": 99}]]) == 1.0
    assert math.isnan(in_budget_share([{"method": "ccc", "budget": "long", "thinking_tokens": 3}]))
    vote = {"method": "vote", "budget": 3, "thinking_tokens": 30, "sample_budget": 10}
    assert in_budget_share([vote | {"sample_thinking_tokens": [10, 9, 11]}]) == pytest.approx(2 / 3)
    assert math.isnan(
        in_budget_share([vote | {"sample_budget": None, "sample_thinking_tokens": [10, 9, 11]}])
    )
    mixed = [bf[0], {"method": "ccc", "budget": "short", "thinking_tokens": 3}, None]
    assert in_budget_share(mixed) == 1.0
