"""Remaining-budget markers: one text format, the same positions in training data and in generation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1eval.control.conditional import StepConditionalConfig, TokenConditionalConfig, run_conditional
from s1eval.control.markers import (
    MarkerSchedule,
    insert_markers,
    step_marker,
    steps_for,
    strip_markers,
    token_marker,
)
from s1eval.engines.fake import FakeEngine
from s1eval.errors import ConfigError
from s1eval.formats import S1


def test_marker_text_is_the_papers():
    assert token_marker(3500) == "<|im_start|>3500 tokens left\n"
    assert step_marker(7) == "<|im_start|>7 steps left\n"
    assert token_marker(-5) == "<|im_start|>0 tokens left\n"
    assert steps_for(2000) == 20 and steps_for(40) == 1


def test_schedule_positions_and_texts():
    tokens = MarkerSchedule("tokens", 350, interval=100)
    assert tokens.positions(1000) == [100, 200, 300]
    assert [tokens.text(p) for p in (100, 300)] == [token_marker(250), token_marker(50)]
    assert tokens.positions(200) == [100]  # a marker at the very end is left out
    steps = MarkerSchedule("steps", 3, interval=100, step_tokens=100)
    assert steps.positions(1000) == [100, 200]  # at 300 tokens no step is left: no marker
    assert [steps.text(p) for p in steps.positions(1000)] == [step_marker(2), step_marker(1)]
    with pytest.raises(ConfigError):
        MarkerSchedule("words", 3)


def test_insert_markers_counts_down_to_the_end_of_the_trace(tiny_tokenizer):
    trace = "x" * 250  # one token per x with the tiny tokenizer
    marked = insert_markers(trace, tiny_tokenizer, interval=100)
    assert marked == "x" * 100 + token_marker(150) + "x" * 100 + token_marker(50) + "x" * 50
    steps = insert_markers(trace, tiny_tokenizer, unit="steps", interval=100, budget=4)
    assert steps == "x" * 100 + step_marker(3) + "x" * 100 + step_marker(2) + "x" * 50


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet=st.sampled_from(list("abc xyz019+=.\n\\{}é→")), max_size=400),
    interval=st.integers(min_value=1, max_value=60),
    unit=st.sampled_from(["tokens", "steps"]),
)
def test_insert_markers_keeps_the_trace_and_marks_every_interval(tiny_tokenizer, text, interval, unit):
    marked = insert_markers(text, tiny_tokenizer, unit=unit, interval=interval, step_tokens=20)
    assert strip_markers(marked) == text
    total = len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])
    budget = total if unit == "tokens" else -(-total // 20)
    expected = MarkerSchedule(unit, budget, interval, 20).positions(total) if total else []
    assert marked.count("<|im_start|>") == len(expected)


def _counting_script(length: int):
    """A model that thinks `length` x-tokens in all (however the thinking is chunked), then answers."""

    def script(context: str, call_index: int) -> str:
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            return "The answer is \\boxed{7}.<|im_end|>"
        return "x" * max(0, length - thinking.count("x")) + S1.think_end

    return script


@pytest.mark.parametrize(
    ("config", "unit"), [(TokenConditionalConfig, "tokens"), (StepConditionalConfig, "steps")]
)
def test_generation_puts_markers_where_training_data_has_them(tiny_tokenizer, config, unit):
    engine = FakeEngine(tiny_tokenizer, _counting_script(340))
    cfg = config(markers=True, marker_interval=100, max_tokens=2000)
    [res] = run_conditional(engine, S1, ["q"], [1000], cfg, method="tcc", unit=unit)[1000]
    budget = 1000 if unit == "tokens" else 10
    assert res.thinking == insert_markers(
        strip_markers(res.thinking), tiny_tokenizer, unit=unit, budget=budget
    )
    assert res.ledger.extra["markers"] == 3
    assert res.ledger.thinking_tokens == 340  # markers are forced, not generated
