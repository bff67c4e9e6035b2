from __future__ import annotations

import curation_synth as synth
import pandas as pd
import pytest

from s1eval.curation import difficulty, tokens
from s1eval.curation.config import DifficultyConfig
from s1eval.curation.pool import to_bool
from s1eval.errors import ConfigError, DataError


def test_removes_exactly_the_easy_rows(result, synth_pool, removed_by):
    assert removed_by["solved"] == synth.easy(synth_pool)
    assert result.report["difficulty"]["solved_by_model"] == {"qwen32b": 60, "qwen7b": 70}
    assert not (set(result.hard["pool_index"]) & synth.easy(synth_pool))


def _df(n=6):
    return pd.DataFrame(
        {
            "pool_index": range(n),
            "id": [str(i) for i in range(n)],
            "source": "s",
            "question": [f"What is {i} + {i}?" for i in range(n)],
            "solution": [f"$\\boxed{{{2 * i}}}$" for i in range(n)],
            "thinking": "t",
            "answer": "a",
        }
    )


def test_drop_if_all():
    df = _df(3)
    df["solved:a"] = pd.array([True, True, False], dtype="boolean")
    df["solved:b"] = pd.array([True, False, pd.NA], dtype="boolean")
    assert list(difficulty.run(df, DifficultyConfig(drop_if="any")).kept["pool_index"]) == [2]
    assert list(difficulty.run(df, DifficultyConfig(drop_if="all")).kept["pool_index"]) == [1, 2]


def test_solver_callables_and_default_grader():
    calls = []

    def weak(questions: list[str]) -> list[str]:  # solves only even-numbered questions
        calls.append(len(questions))
        out = []
        for q in questions:
            i = int(q.split()[2])
            out.append(f"so the answer is $\\boxed{{{2 * i}}}$" if i % 2 == 0 else "\\boxed{-1}")
        return out

    r = difficulty.run(_df(6), DifficultyConfig(batch_size=4), solvers={"weak": weak})
    assert list(r.kept["pool_index"]) == [1, 3, 5]
    assert set(r.removed["detail"]) == {"weak"} and calls == [4, 2]
    assert r.info["solved_by_model"] == {"weak": 3}


def test_solver_only_fills_unknown_results():
    df = _df(4)
    df["solved:m"] = pd.array([False, pd.NA, pd.NA, True], dtype="boolean")
    seen = []

    def solver(qs):
        seen.extend(qs)
        return ["\\boxed{0}"] * len(qs)

    r = difficulty.run(df, DifficultyConfig(), solvers={"m": solver}, grader=lambda p, ref: [True] * len(p))
    assert seen == ["What is 1 + 1?", "What is 2 + 2?"]
    assert list(r.kept["pool_index"]) == [0]


def test_no_results_skips_the_filter():
    r = difficulty.run(_df(3), DifficultyConfig())
    assert len(r.kept) == 3 and r.info["solve_filter"].startswith("skipped")


def test_solver_import_strings_and_errors():
    with pytest.raises(ConfigError, match="package.module:callable"):
        difficulty.run(_df(2), DifficultyConfig(solvers={"x": "nocolon"}))
    with pytest.raises(ConfigError, match="cannot be imported"):
        difficulty.run(_df(2), DifficultyConfig(solvers={"x": "no_such_module_xyz:f"}))
    r = difficulty.run(
        _df(2),
        DifficultyConfig(solvers={"echo": "curation_synth:echo_solver"}),
        grader=lambda p, ref: [a.startswith("What is 1") for a in p],
    )
    assert list(r.kept["pool_index"]) == [0]


def test_final_answer_and_grader():
    assert difficulty.final_answer("x \\boxed{\\frac{1}{2}} y") == "\\frac{1}{2}"
    assert difficulty.final_answer("The final answer is 42.") == "42."
    assert difficulty.default_grader(["$\\boxed{ 42 }$", "41", ""], ["\\boxed{42}", "42", ""]) == [
        True,
        False,
        False,
    ]


def test_to_bool():
    s = to_bool(pd.Series(["Yes", "no", None, 1, 0.0, "correct", True]), "g")
    assert (
        s.tolist()[:2] == [True, False]
        and s.isna().tolist()[2]
        and s.tolist()[3:] == [True, False, True, True]
    )
    with pytest.raises(DataError, match="grade column 'g'"):
        to_bool(pd.Series(["maybe"]), "g")


def test_token_counts():
    assert tokens.regex_counter(["Let x = 12.", "", "abc def"]) == [6, 0, 2]
    df = pd.DataFrame(
        {"thinking": ["a b c", "a b"], "thinking_tokens": pd.array([100, pd.NA], dtype="Int64")}
    )
    assert tokens.thinking_lengths(df, tokens.regex_counter).tolist() == [100, 2]


def test_hf_tokenizer_counter(tiny_model_path):
    count = tokens.make_counter(str(tiny_model_path))
    n = count(["hello world", "hello world hello world hello world"])
    assert 0 < n[0] < n[1]
    with pytest.raises(ConfigError, match="difficulty.tokenizer"):
        tokens.make_counter("/nonexistent/tokenizer/path")


def test_regex_counter_engines_agree():
    texts = ["x\u00a0y\u2003z é 中文 \x0b", "Let $\\frac{12}{3}$ = 4.", "", "tab\tsep\nnew line\r\n", None]
    assert tokens.regex_counter(texts) == tokens.python_regex_counter(texts)
