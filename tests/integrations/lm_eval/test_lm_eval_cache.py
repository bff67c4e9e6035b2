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
            str(BIN / "s1eval"),
            "lm-eval",
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


@pytest.mark.parametrize("system", [None, "Be brief."])
def test_cache_requests_with_the_chat_template_is_reused_by_a_new_process(tiny_model_path, tmp_path, system):
    """lm-eval stores the chat-rendered requests; a second `lm_eval` process reads them back and must prompt
    the method with the same (system, question) parts, not refuse them or prompt with the rendered text."""

    def run(name: str) -> tuple[list[dict], str]:
        out = tmp_path / name
        args = [str(BIN / "s1eval"), "lm-eval", "--model", "s1_bf",
                "--model_args", f"pretrained={tiny_model_path},max_thinking_tokens=8,max_answer_tokens=4",
                "--tasks", "s1_aime24", "--limit", "2", "--cache_requests", "true", "--apply_chat_template",
                "--log_samples", "--output_path", str(out)]  # fmt: skip
        if system:
            args += ["--system_instruction", system]
        proc = subprocess.run(
            args,
            cwd=tmp_path,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                 "TOKENIZERS_PARALLELISM": "false", "LM_HARNESS_CACHE_PATH": str(tmp_path / "requests")},
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        (samples,) = out.rglob("samples_s1_aime24_*.jsonl")
        return [json.loads(line) for line in samples.read_text().splitlines()], proc.stderr

    first, built = run("first")
    assert "Building contexts for s1_aime24" in built
    again, log = run("again")
    assert "Building contexts for s1_aime24" not in log  # the stored requests were used
    assert [r["arguments"] for r in again] == [r["arguments"] for r in first]
    assert [r["resps"] for r in again] == [r["resps"] for r in first]  # the same prompts gave the same output
    if system:
        assert all(system in r["arguments"]["gen_args_0"]["arg_0"] for r in again)
