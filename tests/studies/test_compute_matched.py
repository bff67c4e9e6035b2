"""The compute-matched table: sequential BF vs parallel voting at the same total thinking budget."""

from __future__ import annotations

import re

import pytest

from s1eval.control.base import ControlResult
from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.control.ledger import Ledger
from s1eval.control.voting import VoteConfig
from s1eval.engines.fake import FakeEngine
from s1eval.errors import ConfigError
from s1eval.formats import S1
from s1eval.studies.compute_matched import (
    MatchedPoint,
    compute_matched_markdown,
    compute_matched_table,
    run_compute_matched,
)


def result(answer: str, thinking_tokens: int, outcome: str = "answered") -> ControlResult:
    ledger = Ledger(method="x", budget=None, thinking_tokens=thinking_tokens, outcome=outcome)
    return ControlResult(prompt="", thinking="", answer=f"\\boxed{{{answer}}}", ledger=ledger)


def test_table_scores_both_approaches_per_total_budget():
    golds = ["1", "2"]
    points = [
        MatchedPoint("parallel", 100, 2, 50, [result("1", 90), result("2", 80)]),
        MatchedPoint("sequential", 100, 1, 100, [result("1", 100, "forced"), result("5", 60)]),
        MatchedPoint("sequential", 50, 1, 50, [result("9", 50), result("9", 50)]),
    ]
    table = compute_matched_table(points, golds, "integer")
    assert list(table["total_budget"]) == [50, 100, 100]
    assert list(table["approach"]) == ["sequential", "sequential", "parallel"]
    assert list(table["accuracy"]) == [0.0, 50.0, 100.0]
    assert list(table["mean_thinking"]) == [50.0, 80.0, 85.0]
    assert list(table["share_forced"]) == [0.0, 0.5, 0.0]
    assert list(table["setting"]) == ["BF 50", "BF 100", "vote 2 x 50"]
    md = compute_matched_markdown(table)
    assert md.splitlines()[0].startswith("| Total budget | Approach | Setting | Accuracy %")
    assert "| 100 | parallel | vote 2 x 50 | 100.0 | 85 | 0 | 2 |" in md
    with pytest.raises(ValueError):
        compute_matched_table([MatchedPoint("parallel", 1, 1, 1, [result("1", 1)])], golds, "integer")


def test_run_matches_totals_and_splits_them_over_samples(tiny_tokenizer):
    def script(context: str, call_index: int) -> str:  # right only after 60 tokens of thinking
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            return ("\\boxed{8}" if thinking.count("x") >= 60 else "\\boxed{4}") + "<|im_end|>"
        return "x" * 30 + S1.think_end

    engine = FakeEngine(tiny_tokenizer, script)
    table = run_compute_matched(
        engine,
        S1,
        ["q1", "q2"],
        ["8", "8"],
        kind="integer",
        totals=[40, 80],
        ns=[2, 4],
        sequential=BudgetForcingConfig(80, num_extensions=1),
        parallel=VoteConfig(max_answer_tokens=8),
    )
    rows = {(r.total_budget, r.setting): r for r in table.itertuples()}
    assert set(rows) == {(40, "BF 40"), (40, "vote 2 x 20"), (40, "vote 4 x 10"),
                         (80, "BF 80"), (80, "vote 2 x 40"), (80, "vote 4 x 20")}  # fmt: skip
    assert rows[(80, "BF 80")].accuracy == 100.0 and rows[(40, "BF 40")].accuracy == 0.0  # the extension pays
    assert rows[(80, "vote 2 x 40")].accuracy == 0.0 and rows[(80, "vote 2 x 40")].mean_thinking == 60
    for r in table.itertuples():
        assert r.mean_thinking <= r.total_budget
    think = [r for r in engine.requests if S1.think_end not in tiny_tokenizer.decode(r.context_ids)]
    caps = sorted(
        {r.max_new_tokens for r in think if not re.search("Wait", tiny_tokenizer.decode(r.context_ids))}
    )
    assert {10, 20, 40} <= set(caps)
    with pytest.raises(ConfigError):
        run_compute_matched(engine, S1, ["q"], ["1", "2"], kind="integer", totals=[10])
