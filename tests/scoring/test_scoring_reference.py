"""The issue's acceptance checks on the shipped data: reference round trips and false positives."""

import pytest

from s1eval.data import load_benchmark
from s1eval.scoring import check_equivalence, extract_answer, normalize_math, score_sample


@pytest.fixture(scope="module")
def math500():
    return load_benchmark("math500")


def test_math500_reference_solutions_round_trip(math500):
    misses = [
        (p.id, score_sample(p.metadata["solution"], "", p.answer, "math").pred, p.answer)
        for p in math500
        if not score_sample(p.metadata["solution"], "", p.answer, "math").correct
    ]
    assert len(misses) <= 0.01 * len(math500), misses


def test_math500_answers_round_trip_through_math_verify(math500):
    """The same check without the string fast path: math_verify itself must agree on every answer."""
    from s1eval.scoring.bounded import run_bounded
    from s1eval.scoring.equivalence import math_equal

    misses = []
    for p in math500:
        pred = extract_answer(p.metadata["solution"], "math")
        ok, equal, _ = run_bounded(math_equal, pred, p.answer)
        if not (ok and equal):
            misses.append(p.id)
    assert len(misses) <= 0.01 * len(math500), misses


def test_next_problem_false_positives(math500):
    """Each answer against the next problem's: judged equal (for different answers) in <= 0.5% of pairs."""
    pairs = list(zip(math500, math500[1:] + math500[:1], strict=True))
    false_positives = [
        (a.answer, b.answer)
        for a, b in pairs
        if normalize_math(a.answer) != normalize_math(b.answer)
        and check_equivalence(a.answer, b.answer, "math").equal
    ]
    assert len(false_positives) <= 0.005 * len(pairs), false_positives


def test_aime24_reference_answers_round_trip():
    problems = load_benchmark("aime24")
    assert len(problems) == 30
    for p in problems:
        for text in (
            f"\\boxed{{{p.answer}}}",
            f"The answer is {p.answer}.",
            f"Final Answer: {int(p.answer):03d}",
        ):
            scored = score_sample(text, "", p.answer, "aime")
            assert scored.correct and scored.pred == p.answer, (p.id, text)
        assert p.answer in p.metadata["solution"]
