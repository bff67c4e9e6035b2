"""`lm_eval --use_cache` with s1eval models: a rerun at another budget is not served the first budget's answers,
and a rerun with the same settings is (through the real `lm_eval` CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _run(tiny_model_path: Path, tmp_path: Path, budget: int, name: str) -> tuple[list[dict], str]:
    out = tmp_path / name
    proc = subprocess.run(
        [
            str(BIN / "lm_eval"),
            "--model",
            "s1_bf",
            "--model_args",
            f"pretrained={tiny_model_path},max_thinking_tokens={budget},max_answer_tokens=4",
            "--tasks",
            "s1_aime24",
            "--limit",
            "2",
            "--use_cache",
            str(tmp_path / "cache" / "s1"),
            "--log_samples",
            "--output_path",
            str(out),
        ],  # fmt: skip
        cwd=tmp_path,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (samples,) = out.rglob("samples_s1_aime24_*.jsonl")
    return [json.loads(line) for line in samples.read_text().splitlines()], proc.stderr


def test_use_cache_keeps_budgets_apart(tiny_model_path, tmp_path):
    first, _ = _run(tiny_model_path, tmp_path, 8, "b8")
    assert {r["s1_ledger"]["budget"] for r in first} == {8}
    other, log = _run(tiny_model_path, tmp_path, 4, "b4")
    assert "Cached requests: 0" in log
    assert {r["s1_ledger"]["budget"] for r in other} == {4}
    assert all(r["s1_ledger"]["thinking_tokens"] <= 4 for r in other)
    again, log = _run(tiny_model_path, tmp_path, 8, "b8-again")
    assert "Cached requests: 2" in log  # the same settings are served from the cache
    assert [r["resps"] for r in again] == [r["resps"] for r in first]
