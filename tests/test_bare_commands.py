"""The design card's bare commands work with no budget given: the default is `auto`, as in the s1 reference.

`lm_eval --model s1_bf --model_args pretrained=M --tasks s1_aime24` (lm-eval 0.4.13, after the opt-in
`s1eval lm-eval-hook install`) and `inspect eval tasks/gpqa.py --model
s1hf/M -T data_path=F` think up to the context length minus the prompt and the answer limit, then force the
answer; every ledger records the number it came to and `budget_setting: auto`. Real subprocesses, tiny model.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONTEXT = 4096  # the tiny model's max_position_embeddings

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "INSPECT_DISPLAY": "none",
        "PWD": str(REPO),
    }


def _check_auto_ledger(ledger: dict) -> None:
    assert ledger["budget_setting"] == "auto"
    assert 0 < ledger["thinking_tokens"] <= ledger["budget"] < CONTEXT
    assert ledger["outcome"] != "engine_error"


def test_bare_lm_eval_command_thinks_up_to_the_context(tiny_model_path, tmp_path, hooked_python):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            str(hooked_python),
            "-m",
            "lm_eval",
            "--model",
            "s1_bf",
            "--model_args",
            f"pretrained={tiny_model_path}",
            "--tasks",
            "s1_aime24",
            "--limit",
            "1",
            "--log_samples",
            "--output_path",
            str(out),
        ],  # fmt: skip
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (samples,) = out.rglob("samples_s1_aime24_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == 1
    _check_auto_ledger(rows[0]["s1_ledger"])


def test_bare_inspect_command_on_a_gpqa_file(tiny_model_path, tmp_path):
    data = tmp_path / "gpqa.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Record ID", "Question", "Correct Answer", *(f"Incorrect Answer {i}" for i in (1, 2, 3))]
        )
        writer.writerow(["rec1", "Which gas do plants take in? (synthetic)", "CO2", "O2", "N2", "He"])
    logs = tmp_path / "logs"
    proc = subprocess.run(
        [
            str(BIN / "inspect"),
            "eval",
            "tasks/gpqa.py",
            "--model",
            f"s1hf/{tiny_model_path}",
            "-T",
            f"data_path={data}",
            "--log-dir",
            str(logs),
        ],  # fmt: skip
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = logs.glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "success", log.error
    (sample,) = log.samples
    _check_auto_ledger(sample.metadata["ledger"])
