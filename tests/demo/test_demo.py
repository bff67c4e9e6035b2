"""The demo end to end at a reduced size (fewer steps, smaller sets): the artefacts exist and agree.

The reduced run trains each model for a few recipe steps only, so its accuracies are low; what is checked is
that every number in the written report can be recomputed from the run directories, that the curation
stages removed the planted rows, and that the task's traces are what the demo claims.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from examples.demo import task
from examples.demo.pipeline import DemoConfig, run_demo
from examples.demo.pool import build_pool


# --------------------------------------------------------------------------- the task (fast)
def test_trace_lines_compute_the_answer():
    spec = task.Spec(start=3, op="sub", step=4, n=3)
    assert spec.question() == "Start at 3. Subtract 4 mod 10, 3 times."
    assert spec.values() == [9, 5, 1]
    assert spec.lines(1, 3) == "3:+6=9 2:+6=5 1:+6=1"


def test_long_traces_stop_lazily_or_wait_at_the_same_point():
    rng = random.Random(0)
    spec = task.Spec(start=1, op="add", step=7, n=8)
    seen = set()
    for _ in range(200):
        trace = task.write_trace(spec, rng)
        seen.add(trace.style)
        lazy_line = spec.line(spec.n - task.LAZY_LEFT)  # the line after which LAZY_LEFT steps are left
        if trace.style == "lazy":
            assert trace.thinking.endswith(lazy_line)
            assert trace.answer != spec.answer()
        else:
            assert lazy_line + "\nWait " in trace.thinking
            assert trace.answer == spec.answer()
    assert seen == {"lazy", "wait"}


def test_pool_and_test_set_are_disjoint_and_planted_rows_exist():
    pool_specs, test_specs = task.split_specs(40, seed=1)
    assert not set(pool_specs) & set(test_specs)
    rows = build_pool(pool_specs, test_specs, seed=1)
    kinds = {r["planted"] for r in rows if r["planted"]}
    assert kinds == {"failed_api", "missing_answer", "figure", "duplicate", "contaminated"}


# --------------------------------------------------------------------------- the reduced demo (slow)
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(
        out=root / "results",
        workdir=root / "work",
        test_size=30,
        subset_size=80,
        max_steps=12,
        batch_size=8,
        budgets=(8, 32, 64),
        extensions=(1,),
        prompt_budgets=(16, 64),
        rs_tries=2,
        vote_n=2,
        resamples=200,
        parallel=2,
        interventions=("early_stop", "dynasor:interval=8:probe_tokens=2"),
        rl_steps=3,
        rl_budget=32,
        rl_extensions=1,
        rl_generations=4,
        rl_batch=8,
        log=lambda _: None,
    )
    summary = run_demo(cfg)
    return cfg, summary


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _records(cfg: DemoConfig) -> dict[tuple[str, str], list[dict]]:
    """(variant, method) -> records, read straight from the run dirs' samples.jsonl."""
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for manifest in (cfg.workdir / "runs").glob("*/*/manifest.json"):
        meta = json.loads(manifest.read_text())
        rows = [json.loads(line) for line in (manifest.parent / "samples.jsonl").read_text().splitlines()]
        out[(meta["model_variant"], meta["method"])] += rows
    return out


@pytest.mark.slow
def test_artefacts_exist(demo):
    cfg, summary = demo
    for name in ("README.md", "report.md", "index.html", "leaderboard.csv", "budgets.csv", "summary.json",
                 "curation.md", f"scaling_{task.BENCHMARK}.png", f"scaling_{task.BENCHMARK}.svg"):  # fmt: skip
        assert (cfg.out / name).is_file(), name
    assert json.loads((cfg.out / "summary.json").read_text())["findings"] == summary["findings"]
    for name in cfg.ablation_subsets:  # the recipe really trained each model for the steps asked
        assert summary["training"][name]["global_step"] == cfg.max_steps
        assert (cfg.workdir / "ablation" / "models" / name / "model.safetensors").is_file()


@pytest.mark.slow
def test_curation_removed_the_planted_rows(demo):
    cfg, _ = demo
    removed = [
        json.loads(line)
        for line in (cfg.workdir / "ablation" / "data" / "removed.jsonl").read_text().splitlines()
    ]
    reasons = {r["reason"] for r in removed}
    assert {"duplicate", "failed_generation", "missing_answer", "image_reference", "solved"} <= reasons
    assert any(r["reason"].startswith("contaminated") for r in removed)
    for name in cfg.subsets:
        rows = (cfg.workdir / "ablation" / "data" / f"{name}.jsonl").read_text().splitlines()
        assert len(rows) == cfg.subset_size
        assert all(json.loads(r)["planted"] in (None, "duplicate") for r in rows)


@pytest.mark.slow
def test_tables_equal_what_the_run_dirs_recompute(demo):
    cfg, _ = demo
    records = _records(cfg)
    budgets = _csv(cfg.out / "budgets.csv")
    assert {(r["variant"], r["method"]) for r in budgets} == set(records)
    per_budget: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for row in budgets:
        key = (row["variant"], row["method"])
        recs = [r for r in records[key] if str(r["budget"]) == row["budget"]]
        assert recs, row
        acc = 100 * sum(r["correct"] for r in recs) / len(recs)
        assert float(row["accuracy"]) == pytest.approx(acc, abs=1e-3)
        per_budget[key][row["budget"]] = acc
    for row in _csv(cfg.out / "leaderboard.csv"):
        key = (row["variant"], row["method"])
        assert float(row["performance"]) == pytest.approx(max(per_budget[key].values()), abs=1e-3)
        if row["method"] == "bf":
            assert float(row["control"]) == 100.0
            assert all(r["ledger"]["thinking_tokens"] <= r["budget"] for r in records[key])


@pytest.mark.slow
def test_summary_and_note_agree_with_the_runs(demo):
    cfg, summary = demo
    test_rows = [json.loads(line) for line in (cfg.workdir / "data" / "test.jsonl").read_text().splitlines()]
    long_ids = {r["id"] for r in test_rows if r["long"]}
    records = _records(cfg)
    big = max(cfg.budgets)
    main = cfg.subsets[0]
    for k, variant in (("0", main), ("1", f"{main} +1xWait")):
        recs = [r for r in records[(variant, "bf")] if r["budget"] == big and r["id"] in long_ids]
        got = summary["wait_effect"][main][k]["long"]
        assert got["n"] == len(recs) == len(long_ids)
        assert got["correct"] == sum(r["correct"] for r in recs)
    note = (cfg.out / "README.md").read_text()
    for row in _csv(cfg.out / "leaderboard.csv"):
        assert f"{float(row['performance']):.1f}" in note
    assert summary["findings"]
    for finding in summary["findings"]:  # interval-based, as the studies' findings
        assert finding["sentence"] in note
        assert "95% CI" in finding["sentence"]
        assert finding["status"] in ("shown", "not shown", "contradicted")


@pytest.mark.slow
def test_the_studies_ran_on_the_demo_models(demo):
    cfg, summary = demo
    for study in ("extrapolation", "ablation"):
        for name in ("report.md", "index.html", "table.csv"):
            assert (cfg.out / study / name).is_file(), (study, name)
        assert summary["studies"][study]["findings"], study
    table = _csv(cfg.out / "ablation" / "table.csv")
    assert len(table) >= len(cfg.ablation_subsets)
    # the study reused the models the demo trained (it stamps them; it did not train its own copies)
    for name in cfg.ablation_subsets:
        model = cfg.workdir / "ablation" / "models" / name
        trained = json.loads((model / "training_summary.json").read_text())
        assert trained["global_step"] == summary["training"][name]["global_step"]
    readme = (cfg.out / "README.md").read_text()
    assert "The paper's studies on this demo" in readme
    for study in summary["studies"].values():
        for finding in study["findings"]:
            assert finding["sentence"] in readme


@pytest.mark.slow
def test_the_interventions_table_is_each_row_s_own_run(demo):
    cfg, summary = demo
    out = cfg.out / "interventions"
    rows = _csv(out / "summary.csv")
    assert [r["row"] for r in rows] == ["BF", *cfg.interventions]
    manifests = list(cfg.workdir.glob(f"interventions/runs/*/{task.BENCHMARK}/manifest.json"))
    assert len(manifests) == 1 + len(cfg.interventions)
    for manifest in manifests:  # each row's run carries its intervention in every ledger (BF none)
        records = _samples(manifest.parent)
        specs = {r["ledger"].get("intervention") for r in records}
        assert len(specs) == 1 and specs <= {None, *cfg.interventions}
    readme = (cfg.out / "README.md").read_text()
    assert "interventions/report.md" in readme and "What this table does not show" in readme
    tokens = summary["studies"]["interventions"]["forced_text_tokens"]
    assert set(tokens) == {"early_stop", "wrap_up", "dynasor"} and all(n > 0 for n in tokens.values())


@pytest.mark.slow
def test_the_rl_table_compares_the_sft_runs_with_the_grpo_model_s_own(demo):
    cfg, summary = demo
    rl = summary["rl"]
    assert rl["training"]["global_step"] == cfg.rl_steps
    grpo = cfg.workdir / "rl" / "grpo"
    rollouts = [json.loads(line) for line in (grpo / "rollouts.jsonl").read_text().splitlines()]
    assert len(rollouts) == cfg.rl_steps * cfg.rl_batch
    assert all(r["ledger"]["thinking_tokens"] <= cfg.rl_budget for r in rollouts)
    rows = _csv(cfg.out / "rl" / "by_budget.csv")
    main = cfg.subsets[0]
    for plan, k in (("bf", 0), (f"bf+wait{cfg.rl_extensions}", cfg.rl_extensions)):
        sft = _samples(cfg.workdir / "runs" / main / plan)
        rlr = _samples(cfg.workdir / "rl" / "runs" / "grpo" / plan)
        for label, recs in (("SFT", sft), ("SFT+GRPO", rlr)):
            for b in cfg.budgets:
                at = [r for r in recs if r["budget"] == b]
                (row,) = [
                    r
                    for r in rows
                    if r["row"] == label
                    and r["benchmark"]
                    == (f"BF with {k} forced Wait{'s' if k > 1 else ''}" if k else "BF, no extension")
                    and int(float(r["budget"])) == b
                ]
                assert float(row["accuracy"]) == pytest.approx(100 * sum(r["correct"] for r in at) / len(at))
    assert all(f["sentence"] in (cfg.out / "README.md").read_text() for f in rl["findings"])


def _samples(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
