"""The data-ablation study on a tiny synthetic pool: curate five subsets, train each for a few steps with the
cpu_tiny recipe, evaluate; every row and column, training cost and numbers equal to the runs, resume."""

from __future__ import annotations

import json
import math

import pytest
from study_helpers import expected_cell, expected_diff, write_benchmark, write_pool

from s1eval.errors import ConfigError
from s1eval.studies.ablation import run_ablation_study
from s1eval.studies.tables import CELL_METRICS, TRAINING_METRICS

pytestmark = pytest.mark.slow

ROWS = ["s1K", "random", "diverse", "longest", "full"]
KEYS = ["s1k", "random", "diverse", "longest", "full"]
TRAIN_ARGS = ["--save_strategy", "no", "--per_device_train_batch_size", "4", "--max_length", "128"]


def _run(paths, **overrides):
    kwargs = dict(
        train_config="cpu_tiny",
        max_thinking_tokens=12,
        max_answer_tokens=4,
        out_dir=paths["root"] / "results",
        work_dir=paths["root"] / "work",
        subset_size=8,
        seed=0,
        max_steps=2,
        train_args=TRAIN_ARGS,
        engine_options={"batch_size": 8},
        progress=False,
    )
    return run_ablation_study(paths["pool"], [str(paths["bench"])], **(kwargs | overrides))


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("ablation")
    return {
        "root": root,
        "pool": write_pool(root / "pool.jsonl", 40),
        "bench": write_benchmark(root / "arith.jsonl", 4),
    }


@pytest.fixture(scope="module")
def study(paths):
    return _run(paths)


def test_table_has_every_subset_and_column(study):
    table = study.table
    assert list(table.index) == ROWS and table.index.name == "subset"
    assert list(table.columns) == [("arith", m) for m in CELL_METRICS] + [
        ("training", m) for m in TRAINING_METRICS
    ]
    assert table.attrs["baseline"] == "s1K"
    for row in ROWS:
        for metric in CELL_METRICS:
            empty = row == "s1K" and metric in ("diff", "diff_low", "diff_high", "p_value", "n_paired")
            assert math.isnan(table.loc[row, ("arith", metric)]) == empty, (row, metric)


def test_training_cost_comes_from_each_models_summary(study, paths):
    work = paths["root"] / "work"
    for row, key in zip(ROWS, KEYS, strict=True):
        summary = json.loads((work / "models" / key / "training_summary.json").read_text())
        rows_in_subset = len((work / "data" / f"{key}.jsonl").read_text().splitlines())
        assert summary["dataset"].endswith(f"{key}.jsonl")
        assert study.table.loc[row, ("training", "examples")] == summary["examples"] == rows_in_subset
        assert study.table.loc[row, ("training", "steps")] == summary["global_step"] == 2
        assert study.table.loc[row, ("training", "wall_time_s")] == summary["wall_time_s"] > 0
        assert study.table.loc[row, ("training", "train_time_s")] == summary["train_time_s"]
        assert study.table.loc[row, ("training", "tokens_seen")] == summary["tokens_seen"] > 0
    assert study.table.loc["full", ("training", "examples")] == 40  # every clean pool row
    assert all(study.table.loc[r, ("training", "examples")] == 8 for r in ROWS[:-1])


def test_numbers_equal_the_underlying_runs(study, paths):
    base = study.runs[("s1K", "arith")]
    for row, key in zip(ROWS, KEYS, strict=True):
        run_dir = study.runs[(row, "arith")]
        assert run_dir == paths["root"] / "work" / "runs" / key / "arith"
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["model_variant"] == key and manifest["model"].endswith(f"models/{key}")
        assert (
            manifest["settings"]["max_thinking_tokens"] == 12
            and manifest["settings"]["max_answer_tokens"] == 4
        )
        expected = expected_cell(run_dir)
        if row != "s1K":
            expected |= expected_diff(run_dir, base)
        for metric, value in expected.items():
            assert study.table.loc[row, ("arith", metric)] == pytest.approx(value, abs=1e-9), (row, metric)


def test_report_has_table_findings_and_the_papers_numbers_apart(study):
    md = study.markdown.read_text()
    measured, _, paper = md.partition("## The paper's numbers, not ours")
    for row in ROWS:
        assert f"| {row} |" in measured
    for name in ("| s1K |", "| 1K-random |", "| 1K-diverse |", "| 1K-longest |", "| 59K-full |"):
        assert name in paper
    assert "36.7" in paper and "36.7" not in measured
    for header in (
        "Examples",
        "arith accuracy % (95% CI)",
        "arith diff vs s1K (95% CI)",
        "Train time (s)",
        "Tokens seen",
    ):
        assert header in measured
    assert "s1K >= random" in measured and "s1K >= longest" in measured
    assert (study.out_dir / "ablation_arith.png").exists() and study.html.exists()


def test_rerun_reuses_models_and_runs(study, paths):
    work = paths["root"] / "work"
    summaries = {k: (work / "models" / k / "training_summary.json").stat().st_mtime_ns for k in KEYS}
    samples = {k: (p / "samples.jsonl").read_bytes() for k, p in study.runs.items()}
    again = _run(paths)
    assert {k: (work / "models" / k / "training_summary.json").stat().st_mtime_ns for k in KEYS} == summaries
    assert {k: (p / "samples.jsonl").read_bytes() for k, p in again.runs.items()} == samples
    assert again.table.equals(study.table)


def test_a_model_trained_on_other_data_is_refused(study, paths):
    with pytest.raises(ConfigError, match="trained on other data"):
        _run(paths, seed=1, out_dir=paths["root"] / "other")
