"""Bad input through the real front ends: `s1eval`, `lm_eval` and `inspect eval`, each in a subprocess.

Every row must fail with a non-zero exit, no traceback, one line that names the field, and (for the rows that
point at a finished output) leave that output byte for byte as it was. Rows that passed before the table was
written stay in it so they keep passing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "COLUMNS": "1000",  # Inspect prints its errors with rich, which wraps at the terminal width
        "INSPECT_DISPLAY": "plain",  # with "none" Inspect prints no error at all
        "PWD": str(REPO),
    }


def _run(cmd: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)


def _check_one_line(proc: subprocess.CompletedProcess, *expected: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-2000:]
    assert "Traceback" not in text, text[-3000:]
    lines = [ln for ln in text.splitlines() if "error:" in ln]
    assert lines, text[-2000:]
    assert any(all(e in ln for e in expected) for ln in lines), (expected, lines)


@pytest.fixture(scope="module")
def work(tiny_model_path, tmp_path_factory):
    """Prompts, a finished output of them, a regular file (no folder can be made under it), bad inputs."""
    root = tmp_path_factory.mktemp("bad-input")
    prompts = root / "in.jsonl"
    prompts.write_text('{"id": "a", "prompt": "What is 1+1?"}\n{"id": "b", "prompt": "What is 2+2?"}\n')
    (root / "latin1.jsonl").write_bytes('{"id": "a", "prompt": "caf\xe9"}\n'.encode("latin-1"))
    (root / "surrogate.jsonl").write_text('{"id": "a", "prompt": "x \\ud800 y"}\n')
    (root / "broken.jsonl").write_text('{"id": "a", "prompt": "ok"}\n{"id": "b", "prompt": \n')
    (root / "a_file").write_text("not a folder")
    (root / "no_answer.csv").write_text("Question,Incorrect Answer 1\nq,a\n")
    done = root / "done.jsonl"
    first = _run(
        [
            str(BIN / "s1eval"),
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(prompts),
            "--output",
            str(done),
            "--max-thinking-tokens",
            "4",
            "--max-answer-tokens",
            "4",
        ]  # fmt: skip
    )
    assert first.returncode == 0, first.stderr
    return root


NO_CUDA = not torch.cuda.is_available()
GENERATE_ROWS = [
    # (id, extra args, expected in the error line)
    ("budget word", ["--budgets", "512,abc"], ["'abc' is not one", "--budgets"]),
    ("budget classes for bf", ["--budgets", "short,long"], ["'short' is not one"]),
    ("fractional budget", ["--budgets", "8.5"], ["'8.5' is not one"]),
    ("budget 0", ["--max-thinking-tokens", "0"], ["--max-thinking-tokens"]),
    (
        "cap below sweep",
        ["--max-thinking-tokens", "8", "--budgets", "16,32"],
        ["--max-thinking-tokens 8", "below"],
    ),
    ("chunk size 0", ["--max-thinking-tokens", "4", "--chunk-size", "0"], ["--chunk-size"]),
    ("batch size 0", ["--max-thinking-tokens", "4", "--batch-size", "0"], ["--batch-size"]),
    ("dtype", ["--max-thinking-tokens", "4", "--dtype", "float17"], ["--dtype"]),
    ("device", ["--max-thinking-tokens", "4", "--device", "tpu9"], ["--device"]),
    ("temperature", ["--max-thinking-tokens", "4", "--temperature", "-1"], ["--temperature"]),
    ("top-p", ["--max-thinking-tokens", "4", "--top-p", "5"], ["--top-p"]),
    ("budget past the context", ["--max-thinking-tokens", "5000"], ["does not fit", "--max-thinking-tokens"]),
    ("unknown format", ["--max-thinking-tokens", "8", "--format", "llama"], ["unknown thinking format"]),
    ("unknown setting", ["--max-thinking-tokens", "8", "--set", "bogus=1"], ["unknown setting(s) bogus"]),
    (
        "unreachable server",
        [
            "--max-thinking-tokens",
            "4",
            "--engine",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--max-retries",
            "0",
        ],
        ["cannot reach", "--base-url"],
    ),  # fmt: skip
]
if NO_CUDA:
    GENERATE_ROWS.append(
        ("cuda without a GPU", ["--max-thinking-tokens", "4", "--device", "cuda"], ["--device cuda"])
    )


@pytest.mark.parametrize(
    ("extra", "expected"), [r[1:] for r in GENERATE_ROWS], ids=[r[0] for r in GENERATE_ROWS]
)
def test_generate_refuses_bad_settings_and_keeps_the_finished_output(
    work, tiny_model_path, tmp_path, extra, expected
):
    out = tmp_path / "out.jsonl"
    shutil.copy(work / "done.jsonl", out)
    shutil.copy(work / "done.jsonl.run.json", tmp_path / "out.jsonl.run.json")
    before = out.read_bytes()
    proc = _run(
        [
            str(BIN / "s1eval"),
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(work / "in.jsonl"),
            "--output",
            str(out),
            *extra,
        ]  # fmt: skip
    )
    _check_one_line(proc, *expected)
    assert proc.returncode == 2
    assert out.read_bytes() == before


INPUT_ROWS = [
    ("latin1.jsonl", ["latin1.jsonl:1", "not UTF-8"]),
    ("surrogate.jsonl", ["surrogate.jsonl:1", "lone surrogate"]),
    ("broken.jsonl", ["broken.jsonl:2", "not valid JSON"]),
    ("missing.jsonl", ["missing.jsonl does not exist"]),
]


@pytest.mark.parametrize(("name", "expected"), INPUT_ROWS, ids=[r[0] for r in INPUT_ROWS])
def test_generate_refuses_bad_input_files(work, tiny_model_path, tmp_path, name, expected):
    proc = _run(
        [
            str(BIN / "s1eval"),
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(work / name),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--max-thinking-tokens",
            "4",
        ]  # fmt: skip
    )
    _check_one_line(proc, *expected)
    assert not (tmp_path / "o.jsonl").exists()


def test_outputs_that_cannot_be_written_are_refused_before_the_model_runs(work, tiny_model_path, tmp_path):
    blocked = work / "a_file"
    gen = _run(
        [
            str(BIN / "s1eval"),
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(work / "in.jsonl"),
            "--output",
            str(blocked / "o.jsonl"),
            "--max-thinking-tokens",
            "4",
        ]  # fmt: skip
    )
    _check_one_line(gen, "--output", "cannot be written")
    ev = _run(
        [
            str(BIN / "s1eval"),
            "eval",
            "--model",
            str(tiny_model_path),
            "-b",
            "aime24",
            "--limit",
            "1",
            "--run-dir",
            str(blocked / "run"),
            "--max-thinking-tokens",
            "4",
        ]  # fmt: skip
    )
    _check_one_line(ev, "--run-dir", "cannot be written")
    rep = _run([str(BIN / "s1eval"), "report", str(work / "in.jsonl"), "--out", str(tmp_path / "report")])
    _check_one_line(rep)
    assert not (tmp_path / "report").exists()  # a failed report leaves no empty folder behind
    missing = _run(
        [
            str(BIN / "s1eval"),
            "eval",
            "--model",
            str(tmp_path / "no-model"),
            "-b",
            "aime24",
            "--run-dir",
            str(tmp_path / "r"),
            "--max-thinking-tokens",
            "4",
        ]  # fmt: skip
    )
    _check_one_line(missing, "does not exist")


LM_EVAL_ROWS = [
    ("ccc class", "at=medium,max_tokens=8", "s1_aime24", ["at=short in --model_args"], "s1_ccc"),
    ("budget 0", "max_thinking_tokens=0", "s1_aime24", ["max_thinking_tokens= in --model_args"]),
    (
        "temperature",
        "max_thinking_tokens=4,temperature=-1",
        "s1_aime24",
        ["temperature=-1.0 in --model_args", "must be >= 0"],
    ),
    ("dtype", "max_thinking_tokens=4,dtype=float17", "s1_aime24", ["dtype='float17' in --model_args"]),
    ("typo", "max_thinking_tokns=4", "s1_aime24", ["unknown model arg(s) max_thinking_tokns"]),
    ("gpqa without a file", "max_thinking_tokens=4", "s1_gpqa_diamond", ["--metadata", "gpqa_path"]),
]


@pytest.mark.parametrize(
    ("args", "task", "expected", "model"),
    [(*r[1:4], r[4] if len(r) > 4 else "s1_bf") for r in LM_EVAL_ROWS],
    ids=[r[0] for r in LM_EVAL_ROWS],
)
def test_lm_eval_refuses_bad_model_args_in_lm_eval_spelling(
    tiny_model_path, tmp_path, args, task, expected, model
):
    env_gpqa = os.environ.pop("S1EVAL_GPQA_PATH", None)
    try:
        proc = _run(
            [
                str(BIN / "s1eval"),
                "lm-eval",
                "--model",
                model,
                "--model_args",
                f"pretrained={tiny_model_path},{args}",
                "--tasks",
                task,
                "--limit",
                "1",
                "--output_path",
                str(tmp_path / "out"),
            ]  # fmt: skip
        )
    finally:
        if env_gpqa is not None:
            os.environ["S1EVAL_GPQA_PATH"] = env_gpqa
    _check_one_line(proc, *expected)
    assert "--data-path" not in proc.stderr and "-T data_path" not in proc.stderr


def test_lm_eval_takes_batch_size_in_model_args_as_with_model_hf(tiny_model_path, tmp_path):
    out = tmp_path / "out"
    proc = _run(
        [
            str(BIN / "s1eval"),
            "lm-eval",
            "--model",
            "s1_bf",
            "--model_args",
            f"pretrained={tiny_model_path},max_thinking_tokens=4,max_answer_tokens=4,batch_size=2",
            "--tasks",
            "s1_aime24",
            "--limit",
            "2",
            "--output_path",
            str(out),
        ]  # fmt: skip
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (results,) = out.rglob("results_*.json")
    assert json.loads(results.read_text())["config"]["s1"]["engine"]["batch_size"] == 2


INSPECT_ROWS = [
    ("missing GPQA file", ["-T", "data_path=missing.csv"], ["-T data_path=", "not found"]),
    (
        "GPQA without its answer column",
        ["-T", "data_path={work}/no_answer.csv"],
        ["missing column(s) Correct Answer"],
    ),
    ("unknown task option", ["-T", "foo=1", "-T", "max_thinking_tokens=4"], ["unknown setting(s) foo"]),
    ("budget 0", ["-T", "max_thinking_tokens=0"], ["-T max_thinking_tokens="]),
    ("budget word", ["-T", "budgets=4,abc"], ["'abc' is not one", "-T budgets="]),
    ("dtype", ["-T", "max_thinking_tokens=4", "-M", "dtype=float17"], ["-M dtype="]),
    (
        "temperature",
        ["-T", "max_thinking_tokens=4", "--temperature", "-1"],
        ["--temperature -1", "must be >= 0"],
    ),
]


@pytest.mark.parametrize(
    ("extra", "expected"), [r[1:] for r in INSPECT_ROWS], ids=[r[0] for r in INSPECT_ROWS]
)
def test_inspect_fails_when_the_task_is_built_with_inspect_spelling(
    work, tiny_model_path, tmp_path, extra, expected
):
    extra = [e.replace("{work}", str(work)) for e in extra]
    proc = _run(
        [
            str(BIN / "inspect"),
            "eval",
            "tasks/gpqa.py",
            "--model",
            f"s1hf/{tiny_model_path}",
            "--limit",
            "1",
            "--log-dir",
            str(tmp_path / "logs"),
            *extra,
        ]  # fmt: skip
    )
    _check_one_line(proc, *expected)
    assert not list((tmp_path / "logs").glob("*.eval"))  # refused before any sample ran
