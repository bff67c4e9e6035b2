"""`s1eval generate` as a user runs it: a real subprocess on the tiny model, resume, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run(args, **kw):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "s1eval.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        **kw,
    )


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"What is {i} + {i}?"}) + "\n" for i in range(3))
    )
    return path


def test_generate_sweep_writes_one_row_per_id_and_budget_and_resumes(tiny_model_path, prompts, tmp_path):
    out = tmp_path / "out.jsonl"
    args = [
        "generate",
        "--model",
        str(tiny_model_path),
        "--input",
        str(prompts),
        "--output",
        str(out),
        "--extensions",
        "1",
        "--budgets",
        "4,8,16",
        "--max-answer-tokens",
        "6",
        "--chunk-size",
        "2",
    ]
    first = run(args)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["id"], r["budget"]) for r in rows) == sorted(
        (f"q{i}", b) for i in range(3) for b in (4, 8, 16)
    )
    for r in rows:
        assert set(r) == {"id", "prompt", "budget", "output", "answer", "ledger"}
        assert r["ledger"]["thinking_tokens"] <= r["budget"] == r["ledger"]["budget"]
    # a rerun finds everything done and adds nothing
    again = run(args)
    assert again.returncode == 0 and "resuming: 3 of 3" in again.stderr
    assert len(out.read_text().splitlines()) == 9
    # a torn last line (a killed run) is cut off and that prompt's rows are redone
    lines = out.read_text().splitlines(keepends=True)
    kept = [ln for ln in lines if json.loads(ln)["id"] != "q2"]
    out.write_text("".join(kept) + '{"id": "q2", "prom')
    third = run(args)
    assert third.returncode == 0, third.stderr
    rows3 = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["id"], r["budget"]) for r in rows3) == sorted((r["id"], r["budget"]) for r in rows)
    by_key = {(r["id"], r["budget"]): r for r in rows}
    assert all(by_key[(r["id"], r["budget"])]["output"] == r["output"] for r in rows3)


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--max-thinking-tokens", "0"], "'0' is not a positive number of tokens"),
        (["--max-thinking-tokens", "8", "--format", "llama"], "unknown thinking format"),
        (["--max-thinking-tokens", "8", "--set", "bogus=1"], "unknown setting(s) bogus"),
    ],
)
def test_bad_settings(tiny_model_path, prompts, tmp_path, extra, expected):
    res = run(
        [
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(prompts),
            "--output",
            str(tmp_path / "o.jsonl"),
            *extra,
        ]
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("error: ") and expected in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_input_names_the_line(tiny_model_path, prompts, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "ok"}\n{"id": "b"}\n')
    res = run(
        [
            "generate",
            "--model",
            str(tiny_model_path),
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--max-thinking-tokens",
            "4",
        ]
    )
    assert res.returncode == 2 and "line 2" in res.stderr and "Traceback" not in res.stderr
    missing = run(
        [
            "generate",
            "--model",
            str(tmp_path / "no-model"),
            "--input",
            str(prompts),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--max-thinking-tokens",
            "4",
        ]
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
