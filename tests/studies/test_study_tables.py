"""Study tables, findings and inputs on hand-made records (fast): the numbers a reader can check by hand."""

from __future__ import annotations

import math

import pytest
from study_helpers import write_benchmark

from s1eval.data import Problem
from s1eval.errors import ConfigError
from s1eval.metrics import wilson
from s1eval.studies import ablation_findings, default_strategies, extrapolation_findings, load_benchmarks
from s1eval.studies.findings import CONTRADICTED, NOT_SHOWN, SHOWN, classify
from s1eval.studies.tables import PAPER_EXTRAPOLATION, display_rows, markdown, paper_rows, study_table


def records(correct: list[list[bool]], thinking: int = 100) -> list[dict]:
    """One record per (question, sample): correct[q][s]."""
    return [
        {
            "id": f"q{q}",
            "sample": s,
            "correct": c,
            "outcome": "answered" if c else "no_answer",
            "ledger": {"thinking_tokens": thinking + q},
        }
        for q, row in enumerate(correct)
        for s, c in enumerate(row)
    ]


def test_one_sample_per_question_uses_wilson_and_a_paired_difference():
    base = records([[True], [False], [False], [False]], thinking=10)
    better = records([[True], [True], [True], [False]], thinking=20)
    table = study_table(
        {("none", "b"): base, ("wait", "b"): better}, ["none", "wait"], ["b"], "none", index_name="strategy"
    )
    interval = wilson(3, 4)
    row = table.loc["wait"]
    assert row[("b", "accuracy")] == 75.0 and row[("b", "k")] == 1 and row[("b", "n_questions")] == 4
    assert row[("b", "ci_low")] == pytest.approx(100 * interval.low)
    assert row[("b", "ci_high")] == pytest.approx(100 * interval.high)
    assert row[("b", "mean_thinking")] == 21.5
    assert row[("b", "answered")] == 75.0
    assert row[("b", "diff")] == pytest.approx(50.0) and row[("b", "n_paired")] == 4
    assert row[("b", "diff_low")] <= 50.0 <= row[("b", "diff_high")]
    assert 0 < row[("b", "p_value")] <= 1
    assert math.isnan(table.loc["none", ("b", "diff")])


def test_several_samples_per_question_average_within_questions_and_pair_on_shared_ones():
    base = records([[True, False], [False, False], [True, True]])
    other = records([[True, True], [True, False]])  # q2 missing: only q0, q1 are paired
    table = study_table({("a", "b"): base, ("x", "b"): other}, ["a", "x"], ["b"], "a")
    assert table.loc["a", ("b", "accuracy")] == pytest.approx(100 * (0.5 + 0 + 1) / 3)
    assert table.loc["a", ("b", "k")] == 2
    assert table.loc["x", ("b", "diff")] == pytest.approx(100 * ((1 - 0.5) + (0.5 - 0)) / 2)
    assert table.loc["x", ("b", "n_paired")] == 2


def test_a_missing_cell_leaves_its_numbers_empty_not_zero():
    table = study_table({("a", "b"): records([[True]])}, ["a", "x"], ["b"], "a")
    assert math.isnan(table.loc["x", ("b", "accuracy")]) and math.isnan(table.loc["x", ("b", "diff")])


def test_display_has_every_row_and_column_and_text_is_left_aligned():
    cells = {(r, b): records([[True], [False]]) for r in ("none", "wait") for b in ("aime24", "math500")}
    table = study_table(cells, ["none", "wait"], ["aime24", "math500"], "none")
    columns, rows = display_rows(table, row_header="Strategy")
    headers = [c for c, _ in columns]
    assert headers == [
        "Strategy",
        "aime24 accuracy % (95% CI)",
        "aime24 thinking tokens",
        "aime24 diff vs none (95% CI)",
        "math500 accuracy % (95% CI)",
        "math500 thinking tokens",
        "math500 diff vs none (95% CI)",
    ]
    assert [r["cells"]["Strategy"][0] for r in rows] == ["none", "wait"]
    assert rows[0]["cells"]["aime24 diff vs none (95% CI)"][0] == "baseline"
    assert rows[1]["cells"]["aime24 diff vs none (95% CI)"][0] == "+0.0 [+0.0, +0.0], p=1.000"
    md = markdown(columns, rows).splitlines()
    assert md[1].startswith("| --- | ---: |")
    assert len(md) == 4


def test_training_columns_come_from_the_summaries():
    cells = {(r, "b"): records([[True]]) for r in ("s1K", "random")}
    summaries = {
        "s1K": {"examples": 8, "global_step": 3, "wall_time_s": 1.5, "train_time_s": 1.0, "tokens_seen": 900},
        "random": {
            "examples": 8,
            "global_step": 3,
            "wall_time_s": 2.5,
            "train_time_s": 2.0,
            "tokens_seen": 1000,
        },
    }
    table = study_table(cells, ["s1K", "random"], ["b"], "s1K", training=summaries)
    assert table.loc["random", ("training", "tokens_seen")] == 1000
    assert table.loc["s1K", ("training", "steps")] == 3
    columns, rows = display_rows(table, row_header="Subset")
    assert [c for c, _ in columns][-3:] == ["Train steps", "Train time (s)", "Tokens seen"]
    assert rows[1]["cells"]["Tokens seen"][0] == "1,000"

    # a reproducible table (the committed demo) leaves the clock out: steps and tokens still give the cost
    timeless = study_table(cells, ["s1K", "random"], ["b"], "s1K", training=summaries, wall_times=False)
    assert list(timeless["training"].columns) == ["examples", "steps", "tokens_seen"]
    columns, rows = display_rows(timeless, row_header="Subset")
    assert [c for c, _ in columns][-2:] == ["Train steps", "Tokens seen"]
    assert "Train time (s)" not in rows[0]["cells"]


@pytest.mark.parametrize(
    ("low", "high", "status"),
    [(0.1, 5.0, SHOWN), (-5.0, -0.1, CONTRADICTED), (-1.0, 1.0, NOT_SHOWN), (0.0, 0.0, NOT_SHOWN)],
)
def test_a_finding_is_claimed_only_when_the_interval_excludes_zero(low, high, status):
    assert classify(low, high) == status


def test_findings_read_the_right_sign():
    # wait is 3/4 vs 0/4 without extrapolation; random beats s1K in the ablation
    cells = {
        ("no extrapolation", "b"): records([[False]] * 8),
        ("2x Wait", "b"): records([[True]] * 8),
    }
    table = study_table(cells, ["no extrapolation", "2x Wait"], ["b"], "no extrapolation")
    [finding] = extrapolation_findings(table)
    assert finding.status == SHOWN and finding.diff == pytest.approx(100.0)
    assert "holds" in finding.sentence()

    cells = {("s1K", "b"): records([[False]] * 8), ("random", "b"): records([[True]] * 8)}
    table = study_table(cells, ["s1K", "random"], ["b"], "s1K")
    [finding] = ablation_findings(table, ["random"])
    assert finding.claim == "s1K >= random"
    assert finding.status == CONTRADICTED and finding.diff == pytest.approx(-100.0)
    assert finding.high < 0 and "does not hold" in finding.sentence()


def test_paper_rows_are_the_papers_numbers():
    columns, rows = paper_rows(PAPER_EXTRAPOLATION, "Strategy")
    assert [c for c, _ in columns] == ["Strategy", "AIME 2024", "MATH 500", "GPQA Diamond"]
    by_name = {r["cells"]["Strategy"][0]: r["cells"] for r in rows}
    assert by_name["2x Wait"]["AIME 2024"][0] == "53.3"
    assert by_name["2x cycle"]["MATH 500"][0] == "not in the paper"


def test_default_strategies_follow_the_paper():
    labels = [(s.label, s.num_extensions, s.extension_strings) for s in default_strategies(2)]
    assert labels[0][:2] == ("no extrapolation", 0)
    assert labels[1:] == [
        ("2x none", 2, ("",)),
        ("2x Alternatively", 2, ("Alternatively",)),
        ("2x Hmm", 2, ("Hmm",)),
        ("2x Wait", 2, ("Wait",)),
        ("2x cycle", 2, ("Wait", "Hmm", "Alternatively")),
    ]
    assert [s.label for s in default_strategies(3, ["wait"])] == ["no extrapolation", "3x Wait"]
    with pytest.raises(ConfigError, match="unknown strategies"):
        default_strategies(2, ["wiat"])


def test_benchmarks_by_path_by_name_and_in_memory(tmp_path):
    path = write_benchmark(tmp_path / "rows.jsonl", 5)
    loaded = load_benchmarks(f"{path},mine={path}", limit=3)
    assert list(loaded) == ["rows", "mine"] and [len(v) for v in loaded.values()] == [3, 3]
    assert loaded["rows"][0].kind == "integer"
    with pytest.raises(ConfigError, match="given twice"):
        load_benchmarks([str(path), str(path)])
    problems = [Problem(id="a", question="1+1?", answer="2", kind="integer")]
    assert load_benchmarks({"own": problems})["own"] == problems
    with pytest.raises(ConfigError, match="no questions"):
        load_benchmarks({"empty": []})
