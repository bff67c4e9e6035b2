"""extract_answer: every place the issue lists, per kind."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s1eval.errors import ConfigError
from s1eval.scoring import extract_answer, last_boxed


@pytest.mark.parametrize(
    "text, expected",
    [
        ("so $\\boxed{\\frac{1}{\\sqrt{2}}}$.", "\\frac{1}{\\sqrt{2}}"),
        ("\\boxed{\\left\\{ 1, 2 \\right\\}}", "\\left\\{ 1, 2 \\right\\}"),
        ("first \\boxed{1} then corrected \\boxed{2}", "2"),
        ("\\fbox{42}", "42"),
        ("\\boxed 7", "7"),
        ("work\nFinal Answer: 12", "12"),
        ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
        ("**Final Answer**\n\\[\\boxed{x^2}\\]", "x^2"),
        ("Final Answer:\n$\\{1,2\\}$", "\\{1,2\\}"),
        ("we get $x=3$ and then $y = 7$", "y = 7"),
        ("so \\(x = 9\\) at the end", "x = 9"),
        ("The answer is 5.", "5"),
        (" \\frac{1}{2}", "\\frac{1}{2}"),
        ("\\text{Evelyn}", "\\text{Evelyn}"),
    ],
)
def test_math_places(text, expected):
    assert extract_answer(text, "math") == expected


def test_boxed_takes_priority_over_later_dollars():
    assert extract_answer("\\boxed{4} and then $x$ is a variable", "math") == "4"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "nothing here at all, really", "\\boxed{unbalanced", "I think the integral diverges"],
)
def test_math_nothing(text):
    assert extract_answer(text, "math") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\\boxed{033}", "33"),
        ("The answer is 33.", "33"),
        ("\\boxed{1,000}", "1000"),
        ("\\boxed{33 \\text{ cm}}", "33"),
        ("so 33 degrees\nFinal Answer: 33^\\circ", "33"),
        ("Final Answer: 25 degrees", "25"),
        ("$m+n = 204$", "204"),
        ("x \\boxed{12.0}", "12"),
        ("The answer is 1,234 dollars.", "1234"),
        ("\\boxed{\\$ 45}", "45"),
        (" 7", "7"),
    ],
)
def test_aime(text, expected):
    assert extract_answer(text, "aime") == expected


@pytest.mark.parametrize("text", ["\\boxed{\\frac12}", "\\boxed{-5}", "\\boxed{2\\sqrt{3}}", "no number"])
def test_aime_not_an_integer(text):
    assert extract_answer(text, "aime") is None


def test_integer_kind_allows_negatives():
    assert extract_answer("\\boxed{-5}", "integer") == "-5"
    assert extract_answer("The answer is 123456.", "integer") == "123456"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Answer: C", "C"),
        ("I pick (B) because", "B"),
        ("\\boxed{C}", "C"),
        ("\\boxed{\\text{(D)}}", "D"),
        ("the answer is A", "A"),
        ("The correct answer is (C).", "C"),
        ("**Answer:** B", "B"),
        ("Option D is correct", "D"),
        ("C", "C"),
        ("B) 42 kelvin", "B"),
        ("(A) looked plausible but the answer is D", "D"),
    ],
)
def test_gpqa(text, expected):
    assert extract_answer(text, "gpqa") == expected


@pytest.mark.parametrize("text", ["The answer is a bit unclear", "nothing here", "Answer: E"])
def test_gpqa_nothing(text):
    assert extract_answer(text, "gpqa") is None


def test_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError):
        extract_answer("\\boxed{1}", "essay")


def test_nested_braces():
    assert last_boxed("\\boxed{\\frac{a}{b^{2}}} end") == "\\frac{a}{b^{2}}"


@given(
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["\\boxed{%s}", "The answer is %s.", "Final Answer: %s"]),
)
def test_aime_round_trip_any_integer(n, template):
    assert extract_answer(template % f"{n:03d}", "aime") == str(n)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\{}$()[]boxedfracAnswer: 0123456789.\n")), max_size=300))
def test_extraction_never_raises(text):
    for kind in ("math", "aime", "integer", "gpqa"):
        extract_answer(text, kind)


def test_bold_final_answer_line():
    assert extract_answer("**Final Answer:** 12", "aime") == "12"
    assert extract_answer("**Final Answer:** $\\frac12$", "math") == "\\frac12"


@pytest.mark.parametrize(
    "text", ["\\boxed{" * 5000, "\\[ x" * 7000, "\\( x" * 7000, "$$ x" * 7000, "the answer is " * 1500]
)
def test_unclosed_delimiters_stay_fast(text):
    import time

    start = time.perf_counter()
    for kind in ("math", "aime", "gpqa"):
        extract_answer(text, kind)
    assert time.perf_counter() - start < 1.0
