"""The real `inspect eval` on the shipped task files with a tiny local model, read back with Inspect's log API.

Also: budget forcing through Inspect gives the same ledger and answer as `s1eval generate` on the same model,
questions and greedy settings (both run as subprocesses of the real CLIs).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import EvalLog, read_eval_log

from s1eval.data import format_question, load_benchmark, shuffle_choices

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
OUTCOMES = {"answered", "forced", "truncated", "no_answer", "extraction_failed", "engine_error"}

pytestmark = pytest.mark.slow


def _env(log_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "INSPECT_LOG_DIR": str(log_dir),
        "INSPECT_DISPLAY": "none",
        "PWD": str(REPO),  # the shell's directory, which a relative -T data_path is taken from
    }


def _inspect_eval(log_dir: Path, *args: str) -> EvalLog:
    proc = subprocess.run(
        [str(BIN / "inspect"), "eval", *args, "--display", "none"],
        cwd=REPO,
        env=_env(log_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    logs = sorted(log_dir.glob("*.eval"))
    assert len(logs) == 1, logs
    log = read_eval_log(str(logs[0]))
    assert log.status == "success", log.error
    return log


def _metrics(log: EvalLog) -> dict[str, float]:
    return {name: m.value for score in log.results.scores for name, m in score.metrics.items()}


def _check_ledger(ledger: dict, budget: int) -> None:
    assert ledger["method"] == "bf" and ledger["budget"] == budget
    assert 0 <= ledger["thinking_tokens"] <= budget  # never over budget
    assert ledger["thinking_tokens"] == sum(r["generated"] for r in ledger["rounds"] if r["phase"] == "think")
    assert ledger["outcome"] in OUTCOMES


@pytest.fixture(scope="module")
def math_log(tiny_model_path, tmp_path_factory) -> EvalLog:
    return _inspect_eval(
        tmp_path_factory.mktemp("inspect-math"),
        "tasks/math500.py",
        "--model",
        f"s1hf/{tiny_model_path}",
        "--limit",
        "4",
        "-T",
        "max_thinking_tokens=24",
        "-T",
        "num_extensions=1",
        "-T",
        "max_answer_tokens=12",
    )


def test_math500_eval_scores_every_sample_with_its_ledger(math_log, tiny_model_path):
    assert math_log.eval.model == f"s1hf/{tiny_model_path}"
    assert len(math_log.samples) == 4
    metrics = _metrics(math_log)
    for name in ("accuracy", "stderr", "mean_thinking_tokens", *(f"share_{o}" for o in OUTCOMES)):
        assert name in metrics, name
    assert sum(metrics[f"share_{o}"] for o in OUTCOMES) == pytest.approx(1.0)
    for sample in math_log.samples:
        ledger = sample.metadata["ledger"]
        _check_ledger(ledger, 24)
        score = sample.scores["math_answer"]
        assert score.value in ("C", "I")
        assert score.metadata["ledger"] == ledger  # the ledger is in the score metadata too
        assert score.metadata["outcome"] in OUTCOMES
        assert score.metadata["kind"] == "math" and score.metadata["gold"] == sample.target
        # inspect view: the ledger is an info event of the sample's transcript
        infos = [e for e in sample.events if e.event == "info" and e.source == "s1eval"]
        assert [e.data["ledger"] for e in infos] == [ledger]
        # the answer phase is the message text, the thinking its reasoning block
        assert sample.output.message.text == sample.metadata["s1eval"]["answer"]
    assert metrics["mean_thinking_tokens"] == pytest.approx(
        sum(s.metadata["ledger"]["thinking_tokens"] for s in math_log.samples) / 4
    )
    usage = math_log.stats.model_usage[f"s1hf/{tiny_model_path}"]
    assert usage.output_tokens == sum(
        s.metadata["ledger"]["thinking_tokens"] + s.metadata["ledger"]["answer_tokens"]
        for s in math_log.samples
    )


def test_budget_forcing_through_inspect_equals_s1eval_generate(math_log, tiny_model_path, tmp_path):
    problems = load_benchmark("math500", limit=4)
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": p.id, "prompt": format_question(p)}) + "\n" for p in problems)
    )
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [
            str(BIN / "s1eval"),
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(prompts),
            "--output",
            str(out),
            "--max-thinking-tokens",
            "24",
            "--extensions",
            "1",
            "--max-answer-tokens",
            "12",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(expected) == {s.id for s in math_log.samples}
    for sample in math_log.samples:
        row = expected[sample.id]
        assert sample.input == row["prompt"]
        assert sample.metadata["ledger"] == row["ledger"]
        assert sample.metadata["s1eval"]["answer"] == row["answer"]
        reasoning = "".join(c.reasoning for c in sample.output.message.content if c.type == "reasoning")
        assert row["output"].startswith(reasoning)


SYNTHETIC_GPQA = [
    ("Synthetic item {i}: which made-up gas is inert?", "Zephyrium", "Blorpine", "Quaxite", "Frindle"),
    ("Synthetic item {i}: which invented unit measures glow?", "Lumen-ish", "Kilowobble", "Drift", "Snark"),
    ("Synthetic item {i}: pick the fictional prime label.", "P-seven", "Q-nine", "R-four", "S-six"),
]


@pytest.fixture(scope="module")
def gpqa_log(tiny_model_path, tmp_path_factory) -> tuple[EvalLog, Path]:
    work = tmp_path_factory.mktemp("inspect-gpqa")
    data = work / "synthetic_gpqa.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"]
        )
        for i in range(4):
            q, *choices = SYNTHETIC_GPQA[i % len(SYNTHETIC_GPQA)]
            writer.writerow([q.format(i=i), *choices])
    log = _inspect_eval(
        work / "logs",
        "tasks/gpqa.py",
        "--model",
        f"s1hf/{tiny_model_path}",
        "-T",
        f"data_path={os.path.relpath(data, REPO)}",  # relative to where `inspect eval` runs, not to tasks/
        "-T",
        "shuffle_seed=3",
        "-T",
        "budgets=8,16",
        "-T",
        "max_answer_tokens=8",
    )
    return log, data


def test_gpqa_eval_from_a_user_csv_with_a_budget_sweep(gpqa_log):
    log, data = gpqa_log
    assert log.eval.task_args["data_path"] == os.path.relpath(data, REPO)
    assert log.eval.dataset.location == str(data)
    assert len(log.samples) == 4
    metrics = _metrics(log)
    assert {"accuracy", "stderr", "acc@8", "acc@16", "mean_thinking_tokens"} <= set(metrics)
    for sample in log.samples:
        # the choice shuffle is the loader's, seeded by shuffle_seed and recorded per sample
        order, letter = shuffle_choices(str(sample.id), 3)
        assert sample.target == letter and sample.metadata["shuffle_seed"] == 3
        assert sample.metadata["choice_order"] == order
        assert "A) " in sample.input and "D) " in sample.input
        # the reported run is the largest budget; every budget of the sweep has its own ledger and verdict
        _check_ledger(sample.metadata["ledger"], 16)
        results = sample.metadata["s1eval"]["results"]
        assert set(results) == {"8", "16"}
        for budget, res in results.items():
            _check_ledger(res["ledger"], int(budget))
        score = sample.scores["gpqa_answer"]
        assert set(score.metadata["per_budget"]) == {"8", "16"}
        assert score.metadata["per_budget"]["16"]["correct"] == (score.value == "C")
    for budget in (8, 16):
        hits = [s.scores["gpqa_answer"].metadata["per_budget"][str(budget)]["correct"] for s in log.samples]
        assert metrics[f"acc@{budget}"] == pytest.approx(sum(hits) / len(hits))
