"""is_equivalent: math_verify for math, integers for aime, letters for gpqa; never an exception."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s1eval.scoring import check_equivalence, is_equivalent


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("0.5", "\\frac{1}{2}"),
        ("\\dfrac{1}{2}", "\\frac12"),
        ("1/2", "\\frac{1}{2}"),
        ("[0,1)", "[0, 1)"),
        ("\\{1,2\\}", "\\{2,1\\}"),
        ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("30", "30^\\circ"),
        ("864", "864 \\mbox{ inches}^2"),
        ("5.4", "5.4 \\text{ cents}"),
        ("Evelyn", "\\text{Evelyn}"),
        ("C", "\\text{(C)}"),
        ("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}"),
        ("x+1", "1+x"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
    ],
)
def test_math_equal(pred, gold):
    assert is_equivalent(pred, gold, "math")


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("2", "3"),
        ("(0,1]", "[0,1]"),
        ("\\begin{pmatrix}1\\\\3\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("\\frac{1}{3}", "0.34"),
        ("Evelyn", "\\text{Bob}"),
        ("", "1"),
    ],
)
def test_math_not_equal(pred, gold):
    assert not is_equivalent(pred, gold, "math")


def test_aime_and_integer_compare_numbers():
    assert is_equivalent("033", "33", "aime")
    assert is_equivalent("33", "33 \\text{ degrees}", "aime")
    assert not is_equivalent("34", "33", "aime")
    assert is_equivalent("-5", "-5.0", "integer")
    assert not is_equivalent("abc", "33", "aime")


def test_gpqa_compares_letters():
    assert is_equivalent("C", "C", "gpqa")
    assert is_equivalent("(c)", "C", "gpqa")
    assert not is_equivalent("B", "C", "gpqa")


def test_pathological_input_times_out_instead_of_hanging():
    verdict = check_equivalence("9^{9^{9^{9}}}", "3", "math", timeout_s=1)
    assert not verdict.equal
    assert verdict.error.startswith("timeout")


def test_overlong_prediction_is_refused():
    verdict = check_equivalence("1+" * 2000 + "1", "3", "math")
    assert not verdict.equal and verdict.error


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\{}^_()[]frac0123456789+-*/=.,x ")), max_size=40))
def test_equivalence_never_raises(text):
    for kind in ("math", "aime", "integer", "gpqa"):
        verdict = check_equivalence(text, "\\frac{1}{2}", kind, timeout_s=0.5)
        assert isinstance(verdict.equal, bool)
