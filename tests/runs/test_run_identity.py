"""One run identity per store, readers that see what resume sees, and runs that say when they failed.

Each test runs the real `s1eval` command (its `main`, in this process: a subprocess per call would cost a
torch import each) on tiny real models: two, built with different seeds, so "another model" really gives
other samples. The all-failed run goes through a real subprocess, as a user's shell sees its exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from s1eval.runs.identity import identity_differences, identity_from_manifest
from s1eval.runs.store import RunStore, read_latest

pytestmark = pytest.mark.slow


@dataclass
class Result:
    returncode: int
    stderr: str


@pytest.fixture
def cli(capsys):
    """Run `s1eval ARGS` through its entry point and return its exit status and stderr."""
    from s1eval.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        return Result(code, capsys.readouterr().err)

    return run


def subprocess_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "s1eval.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def other_model(tmp_path_factory):
    from s1eval.testing.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-other"), seed=1)


def eval_args(model: Path, run_dir: Path, *extra: str) -> list[str]:
    return ["eval", "--model", str(model), "-b", "math500", "--limit", "3", "--budgets", "4,8",
            "--max-answer-tokens", "4", "--run-dir", str(run_dir), *extra]  # fmt: skip


def test_reusing_a_run_dir_with_another_model_is_refused(cli, tiny_model_path, other_model, tmp_path):
    run_dir = tmp_path / "run"
    assert cli(*eval_args(tiny_model_path, run_dir)).returncode == 0
    second = cli(*eval_args(other_model, run_dir))
    assert second.returncode == 2
    assert "Traceback" not in second.stderr
    line = second.stderr.strip().splitlines()[-1]
    assert "model" in line and "--run-dir" in line and "--overwrite" in line, line
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model"] == str(tiny_model_path)
    assert len(read_latest(run_dir)) == 6  # nothing of the other model was added

    replaced = cli(*eval_args(other_model, run_dir, "--overwrite"))
    assert replaced.returncode == 0, replaced.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model"] == str(other_model)
    records = read_latest(run_dir)
    assert len(records) == 6 and len((run_dir / "samples.jsonl").read_text().splitlines()) == 6


def test_same_model_retrained_in_place_is_another_identity(cli, tiny_model_path, tmp_path):
    """A local path names a folder, not weights: a model retrained into the same folder is a new run."""
    import shutil

    from s1eval.testing.tiny_model import build_tiny_model

    model = tmp_path / "model"
    shutil.copytree(tiny_model_path, model)
    run_dir = tmp_path / "run"
    assert cli(*eval_args(model, run_dir)).returncode == 0
    shutil.rmtree(model)
    build_tiny_model(model, seed=3)
    again = cli(*eval_args(model, run_dir))
    assert again.returncode == 2 and "model_revision" in again.stderr, again.stderr


def test_a_run_may_grow_by_budgets_and_the_manifest_says_so(cli, tiny_model_path, tmp_path):
    run_dir = tmp_path / "run"
    base = ["eval", "--model", str(tiny_model_path), "-b", "math500", "--limit", "2",
            "--max-thinking-tokens", "16", "--max-answer-tokens", "4", "--run-dir", str(run_dir)]  # fmt: skip
    assert cli(*base, "--budgets", "4,8").returncode == 0
    grown = cli(*base, "--budgets", "8,16")
    assert grown.returncode == 0, grown.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["budgets"] == [4, 8, 16]
    assert sorted(r["budget"] for r in read_latest(run_dir)) == [4, 4, 8, 8, 16, 16]


def test_report_counts_each_key_once_after_a_torn_line_and_a_rerun(cli, tiny_model_path, tmp_path):
    run_dir = tmp_path / "run"
    assert cli(*eval_args(tiny_model_path, run_dir, "--chunk-size", "1")).returncode == 0
    samples = run_dir / "samples.jsonl"
    text = samples.read_text()
    samples.write_text(text[: len(text) - 40])  # a SIGKILL in the middle of the last line
    assert cli(*eval_args(tiny_model_path, run_dir, "--chunk-size", "1")).returncode == 0
    lines = samples.read_text().splitlines()
    keys = {json.loads(line)["key"] for line in lines}
    assert len(lines) > len(keys) == 6  # the rerun rewrote the torn unit's other budget too
    out = tmp_path / "report"
    rep = cli("report", str(run_dir), "--out", str(out), "--resamples", "100")
    assert rep.returncode == 0, rep.stderr
    import pandas as pd

    budgets = pd.read_csv(out / "budgets.csv")
    assert budgets["n_samples"].tolist() == [3, 3], budgets


def test_report_sees_the_retry_not_the_error(tmp_path):
    """An engine error and its successful retry share a key: the report counts the retry only."""
    from s1eval.report.readers import read_runs

    store = RunStore(tmp_path / "run")
    store.write_manifest({"model": "m", "method": "bf", "benchmark": "math500", "label": "bf"})
    ledger = {
        "method": "bf",
        "budget": 8,
        "thinking_tokens": 0,
        "answer_tokens": 0,
        "outcome": "engine_error",
    }
    error = {"key": "k1", "id": "q1", "budget": 8, "sample": 0, "correct": False, "outcome": "engine_error",
             "ledger": ledger}  # fmt: skip
    retry = error | {"correct": True, "outcome": "answered",
                     "ledger": ledger | {"thinking_tokens": 6, "answer_tokens": 2, "outcome": "answered"}}  # fmt: skip
    other = retry | {"key": "k2", "id": "q2"}
    store.append([error, other])
    store.append([retry])
    frame = read_runs([tmp_path / "run"]).frame
    assert len(frame) == 2
    assert set(frame["outcome"]) == {"answered"}
    assert frame["thinking_tokens"].mean() == 6


def test_generate_rerun_with_other_settings_is_refused_or_overwritten(
    cli, tiny_model_path, other_model, tmp_path
):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"{i} + {i}?"}) + "\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    base = ["generate", "--input", str(prompts), "--output", str(out), "--max-thinking-tokens", "6",
            "--max-answer-tokens", "3"]  # fmt: skip
    assert cli(*base, "--model", str(tiny_model_path)).returncode == 0
    first = out.read_text()
    for change in (["--model", str(other_model)], ["--model", str(tiny_model_path), "--extensions", "1"]):
        again = cli(*base, *change)
        assert again.returncode == 2, again.stderr
        assert (
            "--output" in again.stderr and "--overwrite" in again.stderr and "Traceback" not in again.stderr
        )
        assert out.read_text() == first
    replaced = cli(*base, "--model", str(other_model), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and out.read_text() != first
    same = cli(*base, "--model", str(other_model))  # the same settings resume: nothing to do
    assert same.returncode == 0 and "3 of 3 prompts already" in same.stderr


def test_generate_refuses_to_write_into_its_input(cli, tiny_model_path, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"id": "q", "prompt": "1 + 1?"}) + "\n")
    before = prompts.read_text()
    for extra in ([], ["--budgets", "4,8"]):
        res = cli("generate", "--model", str(tiny_model_path), "--input", str(prompts), "--output",
                  str(prompts), "--max-thinking-tokens", "8", *extra)  # fmt: skip
        assert res.returncode == 2 and "--input" in res.stderr and "Traceback" not in res.stderr
        assert prompts.read_text() == before


def test_duplicate_budgets_run_once(cli, tiny_model_path, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"id": "q", "prompt": "1 + 1?"}) + "\n")
    out = tmp_path / "out.jsonl"
    res = cli("generate", "--model", str(tiny_model_path), "--input", str(prompts), "--output", str(out),
              "--budgets", "8,4,8", "--max-answer-tokens", "3")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert sorted(json.loads(line)["budget"] for line in out.read_text().splitlines()) == [4, 8]
    run_dir = tmp_path / "run"
    res = cli("eval", "--model", str(tiny_model_path), "-b", "math500", "--limit", "1", "--budgets", "8,4,8",
              "--max-answer-tokens", "3", "--run-dir", str(run_dir))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads((run_dir / "manifest.json").read_text())["budgets"] == [8, 4]
    assert len(read_latest(run_dir)) == 2


def test_a_run_where_every_sample_failed_exits_non_zero(tiny_engine, tiny_model_path, tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "engines"))
    from fake_server import FakeVLLMServer, FaultPlan

    faults = FaultPlan(rate=1.0, max_faults=10_000, kinds=("400",))
    with FakeVLLMServer(tiny_engine, str(tiny_model_path), faults=faults) as server:
        run_dir = tmp_path / "run"
        res = subprocess_cli("eval", "--engine", "openai", "--base-url", server.base_url, "--model", str(tiny_model_path),
                  "-b", "math500", "--limit", "3", "--max-thinking-tokens", "8", "--max-answer-tokens", "3",
                  "--run-dir", str(run_dir))  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "all 3 samples failed with engine_error" in last and "rerun" in last, last


def test_identity_differences_name_the_field():
    old = {"model": "a", "settings": {"num_extensions": 1, "max_thinking_tokens": 8}, "seed": 0}
    new = {"model": "b", "settings": {"num_extensions": 2, "max_thinking_tokens": 8}, "seed": 0}
    assert identity_differences(old, new) == ["model (a -> b)", "settings.num_extensions (1 -> 2)"]
    legacy = identity_from_manifest({"model": "a", "settings": {"format": "s1", "seed": 3, "samples": 2}})
    assert legacy["format"] == "s1" and legacy["seed"] == 3 and "samples" not in legacy["settings"]
