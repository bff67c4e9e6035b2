"""The real `lm_eval` and `s1eval lm-eval` commands in subprocesses, offline, on a tiny model.

Each run indexes lm-eval's ~15k built-in tasks (as every lm-eval run does), so these are slow; budgets are
tiny so the generation itself takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
BUDGET, ANSWER = 32, 16


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def outputs(out_dir: Path, task: str) -> tuple[dict, list[dict]]:
    (results_file,) = out_dir.rglob("results_*.json")
    (samples_file,) = out_dir.rglob(f"samples_{task}_*.jsonl")
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    return json.loads(results_file.read_text()), samples


def check_run(proc: subprocess.CompletedProcess, out_dir: Path, limit: int) -> list[dict]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    results, samples = outputs(out_dir, "s1_math500")
    metrics = results["results"]["s1_math500"]
    assert "exact_match,none" in metrics and "thinking_tokens,none" in metrics
    assert metrics["s1_ledger,none"] == 1.0  # every sample within its budget
    s1 = results["config"]["s1"]
    assert s1["method"] == "bf" and s1["budget"] == BUDGET and s1["settings"]["max_answer_tokens"] == ANSWER
    assert len(samples) == limit
    for sample in samples:
        ledger = sample["s1_ledger"]
        assert ledger["method"] == "bf" and ledger["budget"] == BUDGET
        assert ledger["thinking_tokens"] <= BUDGET and ledger["answer_tokens"] <= ANSWER
        assert (
            sum(r["generated"] for r in ledger["rounds"] if r["phase"] == "think")
            == ledger["thinking_tokens"]
        )
        assert "exact_match" in sample
    return samples


def model_args(path: Path, **extra: object) -> str:
    args = {"pretrained": path, "max_thinking_tokens": BUDGET, "max_answer_tokens": ANSWER, **extra}
    return ",".join(f"{k}={v}" for k, v in args.items())


def test_lm_eval_command_runs_s1_bf_on_s1_math500(tiny_model_path, tmp_path):
    out = tmp_path / "out"
    proc = run(
        [
            str(BIN / "s1eval"),
            "lm-eval",
            "--model",
            "s1_bf",
            "--model_args",
            model_args(tiny_model_path),
            "--tasks",
            "s1_math500",
            "--limit",
            "4",
            "--log_samples",
            "--output_path",
            str(out),
        ],
        tmp_path,
    )
    check_run(proc, out, 4)
    assert "s1_math500" in proc.stdout and "exact_match" in proc.stdout  # lm-eval's results table


def test_wrapper_command_with_chat_template_system_instruction_batch_seed_and_intervention(
    tiny_model_path, tmp_path
):
    out = tmp_path / "out"
    proc = run(
        [
            str(BIN / "s1eval"),
            "lm-eval",
            "run",
            "--model",
            "s1_bf",
            "--model_args",
            model_args(tiny_model_path, intervention="dynasor:interval=8:probe_tokens=2"),
            "--tasks",
            "s1_math500",
            "--limit",
            "3",
            "--batch_size",
            "2",
            "--seed",
            "7",
            "--apply_chat_template",
            "--system_instruction",
            "Reason briefly.",
            "--log_samples",
            "--output_path",
            str(out),
        ],
        tmp_path,
    )
    samples = check_run(proc, out, 3)
    results, _ = outputs(out, "s1_math500")
    assert results["config"]["s1"]["engine"]["batch_size"] == 2 and results["config"]["random_seed"] == 7
    # an intervention spec survives lm-eval's comma/equals splitting of --model_args, and every ledger has it
    spec = "dynasor:interval=8:probe_tokens=2"
    assert results["config"]["s1"]["settings"]["intervention"] == spec
    for sample in samples:
        ledger = sample["s1_ledger"]
        assert ledger["intervention"] == spec
        probes = [r for r in ledger["rounds"] if r["phase"] == "probe"]
        assert len(probes) == ledger["probes"] and sum(r["generated"] for r in probes) == ledger.get(
            "probe_tokens", 0
        )
    prompt = samples[0]["arguments"]["gen_args_0"]["arg_0"]
    assert "<|im_start|>system\nReason briefly.<|im_end|>" in prompt and prompt.endswith(
        "<|im_start|>think\n"
    )


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        ("bare", {"max_thinking_tokns": 8}, "unknown model arg(s) max_thinking_tokns for --model s1_bf"),
        (
            "wrapper",
            {"max_thinking_tokens": 0},
            "max_thinking_tokens= in --model_args must be a positive integer",
        ),
    ],
)
def test_bad_model_args_fail_with_one_line(tiny_model_path, tmp_path, command, extra, message, request):
    # bare: lm-eval's own command after the opt-in `s1eval lm-eval-hook install`; wrapper: `s1eval lm-eval`
    if command == "bare":
        prefix = [str(request.getfixturevalue("hooked_python")), "-m", "lm_eval"]
    else:
        prefix = [str(BIN / "s1eval"), "lm-eval"]
    args = f"pretrained={tiny_model_path}," + ",".join(f"{k}={v}" for k, v in extra.items())
    proc = run(
        [
            *prefix,
            "--model",
            "s1_bf",
            "--model_args",
            args,
            "--tasks",
            "s1_math500",
            "--limit",
            "1",
        ],
        tmp_path,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert message in last and "error:" in last
