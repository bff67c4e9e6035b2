"""The extrapolation study on the tiny model: every row and column, numbers equal to the runs, resume, the CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from study_helpers import expected_cell, expected_diff, read_samples, write_benchmark

from s1eval.errors import ConfigError
from s1eval.formats import S1
from s1eval.studies import run_extrapolation_study
from s1eval.studies.tables import CELL_METRICS

pytestmark = pytest.mark.slow

ROWS = ["no extrapolation", "2x none", "2x Alternatively", "2x Hmm", "2x Wait", "2x cycle"]
KEYS = ["no_extrapolation", "2x_none", "2x_alternatively", "2x_hmm", "2x_wait", "2x_cycle"]
SETTINGS = dict(max_thinking_tokens=12, max_answer_tokens=4, sampling={"temperature": 2.0}, progress=False)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_benchmark(tmp_path_factory.mktemp("bench") / "tinyset.jsonl", 5)


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    from s1eval.engines.hf import HFEngine

    return HFEngine(str(tiny_model_path), batch_size=8)


@pytest.fixture(scope="module")
def study(engine, bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("extrapolation")
    return run_extrapolation_study(
        engine, [str(bench)], out_dir=out / "results", work_dir=out / "work", **SETTINGS
    )


def test_table_has_every_strategy_and_column(study):
    table = study.table
    assert list(table.index) == ROWS
    assert table.index.name == "strategy"
    assert list(table.columns) == [("tinyset", m) for m in CELL_METRICS]
    assert table.attrs["baseline"] == "no extrapolation"
    # every cell is filled except the baseline's difference to itself
    for row in ROWS:
        for metric in CELL_METRICS:
            value = table.loc[row, ("tinyset", metric)]
            empty = row == "no extrapolation" and metric in (
                "diff",
                "diff_low",
                "diff_high",
                "p_value",
                "n_paired",
            )
            assert math.isnan(value) == empty, (row, metric)


def test_numbers_equal_the_underlying_runs(study):
    base = study.runs[("no extrapolation", "tinyset")]
    for row, key in zip(ROWS, KEYS, strict=True):
        run_dir = study.runs[(row, "tinyset")]
        assert run_dir == study.out_dir.parent / "work" / "runs" / key / "tinyset"
        expected = expected_cell(run_dir)
        if row != "no extrapolation":
            expected |= expected_diff(run_dir, base)
        for metric, value in expected.items():
            assert study.table.loc[row, ("tinyset", metric)] == pytest.approx(value, abs=1e-9), (row, metric)


def test_each_run_used_its_strategy_and_the_shared_budget(study):
    strings = {
        "2x_none": [""],
        "2x_alternatively": ["Alternatively"],
        "2x_hmm": ["Hmm"],
        "2x_wait": ["Wait"],
        "2x_cycle": ["Wait", "Hmm", "Alternatively"],
    }
    for row, key in zip(ROWS, KEYS, strict=True):
        run_dir = study.runs[(row, "tinyset")]
        settings = json.loads((run_dir / "manifest.json").read_text())["settings"]
        assert settings["max_thinking_tokens"] == 12 and settings["max_answer_tokens"] == 4
        assert settings["num_extensions"] == (0 if key == "no_extrapolation" else 2)
        if key in strings:
            assert settings["extension_strings"] == strings[key]
        records = read_samples(run_dir)
        assert len(records) == 5
        for r in records:
            assert r["ledger"]["thinking_tokens"] <= 12
            assert r["ledger"]["extensions"] <= settings["num_extensions"]
            appended = [
                x["forced"]
                for x in r["ledger"]["rounds"]
                if x["phase"] == "think"
                and x["stop"] != "budget"
                and x.get("forced") not in (None, S1.think_end)
            ]
            assert len(appended) == r["ledger"]["extensions"]
            if key == "2x_cycle":
                assert appended == ["Wait", "Hmm"][: len(appended)]
            else:
                assert all(a == strings[key][0] for a in appended)


def test_report_files_keep_the_paper_numbers_apart(study):
    md = study.markdown.read_text()
    measured, _, rest = md.partition("## The paper's numbers, not ours")
    assert rest, "the paper's reference table has its own labelled section"
    for row in ROWS:
        assert f"| {row} |" in measured and f"| {row} |" in rest
    assert "53.3" in rest and "53.3" not in measured  # the paper's 2x Wait AIME24 score stays in its section
    assert (
        "tinyset accuracy % (95% CI)" in measured and "tinyset diff vs no extrapolation (95% CI)" in measured
    )
    assert "Wait >= no extrapolation" in measured
    html = study.html.read_text()
    assert "The paper&#x27;s numbers, not ours" in html and "data:image/png;base64," in html
    assert {p.name for p in study.files} >= {
        "report.md",
        "index.html",
        "table.csv",
        "extrapolation_tinyset.png",
    }


def test_rerun_reuses_every_run(study, engine, bench):
    before = {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()}
    again = run_extrapolation_study(
        engine, [str(bench)], out_dir=study.out_dir, work_dir=study.out_dir.parent / "work", **SETTINGS
    )
    assert {k: (p / "samples.jsonl").read_bytes() for k, p in again.runs.items()} == before
    assert again.table.equals(study.table)


def test_a_cell_made_with_other_settings_is_refused(study, engine, bench):
    settings = SETTINGS | {"max_answer_tokens": 5}
    with pytest.raises(ConfigError, match="holds a run with another settings"):
        run_extrapolation_study(
            engine, [str(bench)], out_dir=study.out_dir, work_dir=study.out_dir.parent / "work", **settings
        )


def test_cli_reuses_the_runs_and_prints_the_table(study, tiny_model_path, bench, tmp_path):
    work = study.out_dir.parent / "work"
    before = {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()}
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    args = ["study", "extrapolation", "--model", str(tiny_model_path), "--batch-size", "8", "--benchmarks", str(bench),
            "--max-thinking-tokens", "12", "--max-answer-tokens", "4", "--temperature", "2.0",
            "--out", str(tmp_path / "cli"), "--work-dir", str(work)]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "s1eval.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    for row in ROWS:
        assert row in proc.stdout
    assert "2x Wait >= no extrapolation" in proc.stdout
    assert {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()} == before
    assert (tmp_path / "cli" / "table.csv").read_text() == (study.out_dir / "table.csv").read_text()
