"""The interventions study on the tiny model: one resumable run per row, every number recomputed from the runs'
own files, the ledger fields each intervention adds, and the CLI."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys

import pytest
from study_helpers import read_samples, write_benchmark

from s1eval.studies.interventions import BASELINE, run_interventions_study

pytestmark = pytest.mark.slow

BUDGETS = [8, 16]
ROWS = ["early_stop", "wrap_up:grace=4", "alphaone:p_wait=0", "dynasor:interval=4:probe_tokens=3"]
SETTINGS = dict(budgets=BUDGETS, max_answer_tokens=4, sampling={"temperature": 2.0}, progress=False)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_benchmark(tmp_path_factory.mktemp("bench") / "tinyset.jsonl", 5)


@pytest.fixture(scope="module")
def study(tiny_engine, bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("interventions")
    return run_interventions_study(
        tiny_engine,
        [str(bench)],
        interventions=ROWS,
        out_dir=out / "results",
        work_dir=out / "work",
        **SETTINGS,
    )


def test_every_row_is_a_run_with_its_intervention_in_every_ledger(study):
    assert [label for label, _ in study.runs] == [BASELINE, *ROWS]
    for (label, _), run in study.runs.items():
        records = read_samples(run)
        assert sorted({r["budget"] for r in records}) == BUDGETS and len(records) == 5 * len(BUDGETS)
        for r in records:
            assert r["ledger"]["thinking_tokens"] <= r["budget"]
            assert r["ledger"].get("intervention") == (None if label == BASELINE else label)
    probes = [r["ledger"] for r in read_samples(study.runs[(ROWS[3], "tinyset")])]
    assert all(led["probes"] >= 1 and led["probe_tokens"] > 0 for led in probes)


def test_summary_numbers_equal_the_runs(study):
    rows = list(csv.DictReader((study.out_dir / "summary.csv").open()))
    assert [r["row"] for r in rows] == [BASELINE, *ROWS]
    for r in rows:
        records = read_samples(study.runs[(r["row"], "tinyset")])
        top = [x for x in records if x["budget"] == max(BUDGETS)]
        assert float(r["accuracy"]) == pytest.approx(100 * sum(x["correct"] for x in top) / len(top))
        generated = sum(
            x["ledger"]["thinking_tokens"] + x["ledger"]["answer_tokens"] + x["ledger"].get("probe_tokens", 0)
            for x in records
        )
        correct = sum(x["correct"] for x in records)
        expected = generated / correct if correct else math.nan
        assert (math.isnan(expected) and r["tokens_per_correct"] == "") or float(
            r["tokens_per_correct"]
        ) == pytest.approx(expected, rel=1e-5)
        within = sum(x["ledger"]["thinking_tokens"] <= x["budget"] for x in records) / len(records)
        assert float(r["control"]) == pytest.approx(100 * within)
        assert float(r["mean_forced"]) == pytest.approx(
            sum(x["ledger"]["forced_tokens"] for x in records) / len(records), rel=1e-5
        )


def test_report_names_each_row_and_the_paired_checks(study):
    text = study.markdown.read_text()
    for row in [BASELINE, *ROWS]:
        assert f"| {row} |" in text
    assert "## Paired checks against BF" in text and "tokens per correct" in text


def test_cli_resumes_the_runs_and_writes_the_same_tables(study, tiny_model_path, bench, tmp_path):
    work = study.out_dir.parent / "work"
    before = {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()}
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    args = ["study", "interventions", "--model", str(tiny_model_path), "--batch-size", "8", "--benchmarks", str(bench),
            "--budgets", "8,16", "--interventions", ",".join(ROWS), "--max-answer-tokens", "4",
            "--temperature", "2.0", "--out", str(tmp_path / "cli"), "--work-dir", str(work)]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "s1eval.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "## Paired checks against BF" in proc.stdout
    assert {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()} == before
    by_budget = (tmp_path / "cli" / "by_budget.csv").read_text()
    assert by_budget == (study.out_dir / "by_budget.csv").read_text()
