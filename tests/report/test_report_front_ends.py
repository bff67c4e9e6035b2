"""`s1eval report` over an lm-eval run and an Inspect run of the same tiny model (issue 20, item 10).

Real `lm_eval` and `inspect eval` subprocesses write the runs; the real `s1eval report` CLI reads them at 80
columns. The two front ends stay two rows, named by their source; the runs' s1eval version is known; the header
is a few lines with the runs and their settings in a table of their own; 2 questions x 2 epochs give an
interval that is not [0.0, 0.0]; and the terminal leaderboard fits the terminal.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

import s1eval

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _env(columns: int = 200) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "INSPECT_DISPLAY": "none",
        "COLUMNS": str(columns),
        "PWD": str(REPO),
    }


def _run(args: list[str], cwd: Path, columns: int = 200) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=_env(columns), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (args[:3], proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def two_front_ends(tiny_model_path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("front-ends")
    budget = "max_thinking_tokens=16,max_answer_tokens=8"
    _run(
        [str(BIN / "s1eval"), "lm-eval", "--model", "s1_bf", "--model_args", f"pretrained={tiny_model_path},{budget}",
         "--tasks", "s1_aime24", "--limit", "2", "--log_samples", "--output_path", str(root / "lm_eval")],
        cwd=root,
    )  # fmt: skip
    _run(
        [str(BIN / "inspect"), "eval", "tasks/aime24.py", "--model", f"s1hf/{tiny_model_path}", "--limit", "2",
         "-T", "epochs=2", "-T", "max_thinking_tokens=16", "-T", "max_answer_tokens=8",
         "--log-dir", str(root / "inspect")],
        cwd=REPO,
    )  # fmt: skip
    return root


def test_report_keeps_front_ends_apart_and_records_versions(two_front_ends, tmp_path):
    out = tmp_path / "report"
    proc = _run(
        [str(BIN / "s1eval"), "report", str(two_front_ends), "--out", str(out), "--resamples", "200"],
        cwd=tmp_path,
        columns=80,
    )
    with (out / "leaderboard.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["source"] for r in rows) == ["inspect", "lm_eval"]  # two rows, never one pooled row
    assert len({r["system"] for r in rows}) == 2, [r["system"] for r in rows]
    assert {r["system"].rsplit(" ", 1)[-1] for r in rows} == {"[inspect]", "[lm_eval]"}

    md = (out / "report.md").read_text()
    header = md.split("## Overview", 1)[0]
    assert f"**s1eval version of the runs**: {s1eval.__version__}" in header
    assert "{" not in header  # no settings JSON in the header: they are in the Runs table
    assert len(header.splitlines()) < 20
    runs = md.split("## Runs", 1)[1]
    assert "max_thinking_tokens=16" in runs and "lm_eval" in runs and "inspect" in runs

    inspect_row = next(r for r in rows if r["source"] == "inspect")
    assert inspect_row["n_questions"] == "2" and inspect_row["k"] == "2"
    assert float(inspect_row["ci_high"]) > float(inspect_row["ci_low"])  # not a collapsed [x, x] interval

    paired = md.split("## Paired comparisons", 1)[1].split("##", 1)[0]
    assert "[lm_eval]" in paired and "[inspect]" in paired  # the same questions, paired across front ends
    assert "| 2 |" in paired

    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "[lm_eval]" in proc.stdout and "[inspect]" in proc.stdout


def test_an_inspect_budget_sweep_reports_every_budget(tiny_model_path, tmp_path):
    _run(
        [str(BIN / "inspect"), "eval", "tasks/aime24.py", "--model", "s1fake/tiny",
         "-M", f"tokenizer={tiny_model_path}", "-T", "budgets=8,16,32", "--limit", "2",
         "--log-dir", str(tmp_path / "logs")],
        cwd=REPO,
    )  # fmt: skip
    out = tmp_path / "report"
    _run([str(BIN / "s1eval"), "report", str(tmp_path / "logs"), "--out", str(out), "--resamples", "200"],
         cwd=tmp_path)  # fmt: skip
    with (out / "budgets.csv").open() as handle:
        budgets = sorted(int(r["budget"]) for r in csv.DictReader(handle))
    assert budgets == [8, 16, 32]
    with (out / "leaderboard.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["n_budgets"] == "3" and row["n_questions"] == "2"
