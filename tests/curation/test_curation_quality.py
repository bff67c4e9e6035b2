from __future__ import annotations

import curation_synth as synth
import pandas as pd
import pytest

from s1eval.curation import quality
from s1eval.curation.config import QualityConfig
from s1eval.errors import ConfigError


def test_quality_removes_exactly_the_planted_rows(result, synth_pool, removed_by):
    q = result.removed[result.removed["stage"] == "quality"]
    assert set(q["pool_index"]) == synth.quality_removed(synth_pool)
    for reason, rows in synth_pool.planted.items():
        assert removed_by[reason] == rows, reason
    assert result.report["stages"][0]["removed_by_reason"] == {
        k: len(v) for k, v in sorted(synth_pool.planted.items())
    }


def test_duplicates_keep_the_first_copy_and_name_it(result, synth_pool):
    dup = result.removed[result.removed["reason"] == "duplicate"].set_index("pool_index")
    for copy, first in synth_pool.duplicate_of.items():
        assert dup.loc[copy, "detail"] == f"duplicate of pool_index {first}"
        assert first in set(result.passed["pool_index"])


def _frame(**cols):
    n = len(next(iter(cols.values())))
    base = {
        "pool_index": range(n),
        "id": [str(i) for i in range(n)],
        "source": ["s"] * n,
        "question": [f"question number {i} here" for i in range(n)],
        "thinking": ["t"] * n,
        "answer": ["a"] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_dedupe_keeps_a_later_copy_when_the_first_is_broken():
    df = _frame(question=["What is 2+2?", "what is 2 + 2 ?", "What   is 2+2?"], thinking=[None, "ok", "ok"])
    r = quality.run(df, QualityConfig())
    assert list(r.kept["pool_index"]) == [1]
    assert dict(zip(r.removed["pool_index"], r.removed["reason"], strict=False)) == {
        0: "missing_thinking",
        2: "duplicate",
    }


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Find $x$ if $x^2=4$.", False),
        ("Find $x if x^2=4.", True),
        ("Costs \\$5 and $y$.", False),
        (r"$\left( x \right)$", False),
        (r"$\left( x )$", True),
        (r"\begin{align} a \end{align}", False),
        (r"\begin{align} a", True),
        ("Let $f(x) = \\frac{1}{x$.", True),
        (r"Set $\{1, 2\}$ and \leftarrow $\rightarrow$", False),
    ],
)
def test_latex_balance(text, bad):
    assert bool(quality.latex_unbalanced(pd.Series([text]))[0]) is bad


@pytest.mark.parametrize(
    ("text", "art"),
    [
        ("    A\n   / \\\n  /   \\\n B-----C\nFind the area.", True),
        ("+---+\n| x |\n+---+", True),
        ("x + y - z = 1\n2x - y + z = 3\nx - 2y + 3z = 4", False),
        ("a_1 + a_2 = a_3\na_2 + a_3 = a_4\na_3 + a_4 = a_5", False),
        ("Solve\n$$\\frac{a}{b}$$\n\\\\ next \\\\\nline", False),
        ("+---+\n| x |\nThe end of the figure", False),
    ],
)
def test_ascii_art(text, art):
    assert bool(quality.ascii_art(pd.Series([text]), 3)[0]) is art


def test_image_and_failure_patterns():
    df = _frame(
        question=[
            "See the figure below.",
            "In the diagram ![d](a.png) find x",
            "See <img src=x>",
            "plain",
            "Figure out the area of the square.",
            "plain too",
        ],
        thinking=["ok", "ok", "ok", "ERROR", "ok", "API error: upstream"],
        answer="a",
    )
    r = quality.run(df, QualityConfig())
    reasons = dict(zip(r.removed["pool_index"], r.removed["reason"], strict=False))
    assert reasons == {
        0: "image_reference",
        1: "image_reference",
        2: "image_reference",
        3: "failed_generation",
        5: "failed_generation",
    }


def test_skip_format_sources_and_toggles():
    df = _frame(question=["int main() { return $x; }", "Find $x"], source=["code", "math"])
    r = quality.run(df, QualityConfig(skip_format_sources=["code"]))
    assert list(r.kept["pool_index"]) == [0]
    r = quality.run(df, QualityConfig(check_latex=False))
    assert len(r.kept) == 2


def test_bad_settings_are_config_errors():
    df = _frame(question=["q one two three"])
    with pytest.raises(ConfigError, match="quality.require"):
        quality.run(df, QualityConfig(require=["nonexistent"]))
    with pytest.raises(ConfigError, match="failure_patterns"):
        quality.run(df, QualityConfig(failure_patterns=["(unclosed"]))
