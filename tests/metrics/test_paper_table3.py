"""The paper's Table 3 (AIME24, s1-32B) from per-budget points typed in here.

What was typed, and why. The paper publishes Control / Scaling / Performance per method but not the per-budget
accuracies behind them, so these points are *constructed*, not read off the paper's figures:

- budget grids as the paper describes them where we know them: BF at 512..8192 thinking tokens (the x range of
  Figure 1's AIME24 panel), TCC / TCC+BF at instructed token limits 1024..16384, SCC / SCC+BF at instructed
  step limits 16..256, RS at thinking-length limits 3500..16000; CCC has two classes, whose x is each class's
  mean thinking tokens (3000 and 6000 here, invented);
- accuracies are multiples of 1/30 (AIME24 has 30 questions), the best one equals the paper's Performance,
  and each curve rises or falls as the sign of the paper's Scaling says (SCC wobbles, as a weakly positive
  method would).

So this test shows that the table code turns such points into the paper's Performance column exactly and
into the paper's Scaling *order* with the per-doubling unit; it cannot show the paper's Scaling magnitudes
(15, -24, -35, ...), which depend on the paper's own points and x values.
"""

from __future__ import annotations

import pandas as pd
import pytest

from s1eval.metrics import method_summary, normalise, scaling

N_QUESTIONS = 30

# method -> {budget: correct questions out of 30}
PAPER_POINTS: dict[str, dict[object, int]] = {
    "bf": {512: 6, 1024: 9, 2048: 12, 4096: 15, 8192: 17},  # 20.0 .. 56.7
    "tcc": {1024: 12, 2048: 11, 4096: 10, 8192: 9, 16384: 9},  # 40.0 .. 30.0
    "tcc+bf": {1024: 6, 2048: 8, 4096: 10, 8192: 11, 16384: 12},  # 20.0 .. 40.0
    "scc": {16: 10, 32: 9, 64: 11, 128: 10, 256: 11},  # wobbles up to 36.7
    "scc+bf": {16: 8, 32: 9, 64: 10, 128: 11, 256: 11},  # 26.7 .. 36.7
    "ccc": {"short": 8, "long": 11},  # 26.7, 36.7
    "rs": {3500: 12, 4000: 11, 5000: 10, 8000: 9, 16000: 8},  # 40.0 .. 26.7
}
CCC_TOKENS = {"short": 3000, "long": 6000}

# The paper's Table 3: (Control %, Scaling, Performance %, |A|)
PAPER_TABLE3 = {
    "bf": (100, 15, 56.7, 5),
    "tcc": (40, -24, 40.0, 5),
    "tcc+bf": (100, 13, 40.0, 5),
    "scc": (60, 3, 36.7, 5),
    "scc+bf": (100, 6, 36.7, 5),
    "ccc": (50, 25, 36.7, 2),
    "rs": (100, -35, 40.0, 5),
}


def paper_frame(tokens_per_step: int = 1) -> pd.DataFrame:
    """``tokens_per_step`` turns SCC's step budgets into token budgets (the paper: ~100 tokens a step)."""
    rows = []
    for method, points in PAPER_POINTS.items():
        for step_or_budget, n_correct in points.items():
            budget = step_or_budget * tokens_per_step if method.startswith("scc") else step_or_budget
            for q in range(N_QUESTIONS):
                tokens = CCC_TOKENS[budget] if method == "ccc" else budget
                rows.append(
                    {
                        "model": "simplescaling/s1-32B",
                        "variant": "s1k",
                        "benchmark": "aime24",
                        "method": method,
                        "budget": budget,
                        "qid": f"aime24-{q}",
                        "correct": q < n_correct,
                        "thinking_tokens": tokens,
                    }
                )
    return normalise(rows)


def _ordered(values: dict[str, float]) -> list[str]:
    return sorted(values, key=lambda m: values[m], reverse=True)


@pytest.fixture(scope="module")
def summary() -> dict[str, pd.Series]:
    table = method_summary(paper_frame(), unit="log2", resamples=200)
    return {r["method"]: r for _, r in table.iterrows()}


def test_performance_column_is_reproduced(summary):
    for method, (_, _, perf, n_budgets) in PAPER_TABLE3.items():
        assert round(summary[method]["performance"], 1) == perf, method
        assert summary[method]["n_budgets"] == n_budgets, method


def test_scaling_signs_are_reproduced(summary):
    for method in ("bf", "tcc+bf", "scc+bf", "scc", "ccc"):
        assert summary[method]["scaling"] > 0, method
    for method in ("rs", "tcc"):
        assert summary[method]["scaling"] < 0, method


def test_per_doubling_reproduces_the_paper_scaling_order(summary):
    ours = {m: summary[m]["scaling"] for m in PAPER_TABLE3}
    paper = {m: PAPER_TABLE3[m][1] for m in PAPER_TABLE3}
    assert _ordered(ours) == _ordered(paper) == ["ccc", "bf", "tcc+bf", "scc+bf", "scc", "tcc", "rs"]


def test_per_doubling_order_does_not_depend_on_the_step_unit():
    table = method_summary(paper_frame(tokens_per_step=100), unit="log2", resamples=200)
    ours = dict(zip(table["method"], table["scaling"], strict=True))
    assert _ordered(ours) == ["ccc", "bf", "tcc+bf", "scc+bf", "scc", "tcc", "rs"]


def test_per_1k_tokens_keeps_the_signs_but_not_the_order():
    """Per 1k tokens favours cheap budgets: BF's 512 -> 1024 step outweighs CCC's, so BF and CCC swap.

    SCC's step budgets are first turned into tokens (x100): per 1k *steps* would be meaningless.
    """
    table = method_summary(paper_frame(tokens_per_step=100), unit="1k", resamples=200)
    ours = dict(zip(table["method"], table["scaling"], strict=True))
    paper = {m: PAPER_TABLE3[m][1] for m in PAPER_TABLE3}
    assert all((ours[m] > 0) == (paper[m] > 0) for m in paper)
    assert _ordered(ours) != _ordered(paper)
    assert _ordered(ours)[:2] == ["bf", "ccc"]


def test_typed_points_match_the_metric_functions_directly():
    pct = {m: {b: 100 * c / N_QUESTIONS for b, c in pts.items()} for m, pts in PAPER_POINTS.items()}
    assert scaling(pct["bf"]) == pytest.approx(scaling({b: v for b, v in pct["bf"].items()}, "log2"))
    ccc = {CCC_TOKENS[k]: v for k, v in pct["ccc"].items()}
    assert scaling(ccc) == pytest.approx((100 * 3 / 30) / 1.0)  # one doubling, +10 points
