"""Rejection sampling: tries until the thinking fits, what it cost, and never over budget unless it says so."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1eval.control.base import derive_seed
from s1eval.control.methods import get_method, settings_from_kwargs
from s1eval.control.rejection import RejectionSamplingConfig, run_rejection_sampling
from s1eval.engines.fake import FakeEngine
from s1eval.errors import ConfigError
from s1eval.formats import S1, build_prompt, single_token_id

ANSWER = "The answer is \\boxed{7}."


class SeededFakeEngine(FakeEngine):
    """The fake engine with a sampler's dependence on the seed: the script sees each request's seed."""

    seed: int | None = None

    def generate(self, requests):
        out = []
        for req in requests:
            self.seed = req.seed
            out += super().generate([req])
        return out


def tries_script(lengths, base_seed):
    """Try k (told apart by its seed, as a sampler would be) thinks lengths[k] x-tokens, then ends thinking."""
    tries = {derive_seed(derive_seed(base_seed, k), 0): k for k in range(len(lengths))}
    engine: dict = {}

    def script(context: str, call_index: int) -> str:
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            return ANSWER + "<|im_end|>"
        return "x" * lengths[tries[engine["it"].seed]] + S1.think_end

    def make(tokenizer):
        engine["it"] = SeededFakeEngine(tokenizer, script)
        return engine["it"]

    return make


def run_rs(tokenizer, lengths, budgets, **settings_):
    engine = tries_script(lengths, 7)(tokenizer)
    config = settings_from_kwargs(RejectionSamplingConfig, settings_, method="rs")
    return engine, get_method("rs").run(engine, S1, ["What is 3+4?"], config, budgets=budgets, seeds=[7])


def think_requests(engine):
    return [r for r in engine.requests if r.max_new_tokens != 1024]


def test_first_try_that_fits_is_accepted_and_the_cost_is_recorded(tiny_tokenizer):
    engine, out = run_rs(tiny_tokenizer, [300, 250, 90, 40], [100])
    res = out[100][0]
    led = res.ledger
    assert led.extra["accepted"] is True and led.extra["tries"] == 3
    assert led.thinking_tokens == 90 and res.thinking == "x" * 90
    assert led.extra["try_thinking_tokens"] == [300, 250, 90]
    assert led.extra["total_tokens"] == 300 + 250 + 90 + led.answer_tokens
    assert led.method == "rs" and led.budget == 100 and led.outcome == "answered"
    assert [r.seed for r in think_requests(engine)] == [derive_seed(derive_seed(7, k), 0) for k in range(3)]
    assert len({r.seed for r in think_requests(engine)}) == 3
    assert sum(1 for r in engine.requests if r.max_new_tokens == 1024) == 1, (
        "only the accepted try is answered"
    )


def test_exhausted_tries_return_the_shortest_and_say_so(tiny_tokenizer):
    _, out = run_rs(tiny_tokenizer, [300, 250, 280], [100], max_tries="3")
    led = out[100][0].ledger
    assert led.extra["accepted"] is False and led.extra["tries"] == 3 and led.extra["fallback"] == "shortest"
    assert led.thinking_tokens == 250 > led.budget
    assert led.extra["chosen_try"] == 1 and led.outcome == "answered"


def test_exhausted_tries_with_cap_fallback_stay_in_budget(tiny_tokenizer):
    _, out = run_rs(tiny_tokenizer, [300, 250, 280], [100], max_tries="3", fallback="cap")
    res = out[100][0]
    assert res.ledger.extra["accepted"] is False and res.ledger.extra["fallback"] == "cap"
    assert res.ledger.thinking_tokens == 100 and res.ledger.capped and res.ledger.outcome == "forced"
    assert res.answer.startswith(S1.answer_prefix)


def test_early_reject_stops_a_try_just_past_the_budget(tiny_tokenizer):
    engine, out = run_rs(tiny_tokenizer, [300, 250, 90], [100], early_reject="true")
    led = out[100][0].ledger
    assert led.extra["try_thinking_tokens"] == [101, 101, 90]
    assert [r.max_new_tokens for r in think_requests(engine)] == [101, 101, 101]
    assert led.extra["accepted"] and led.thinking_tokens == 90


def test_budgets_run_independently(tiny_tokenizer):
    _, out = run_rs(tiny_tokenizer, [300, 150, 60], [100, 200, 400])
    assert {b: out[b][0].ledger.extra["tries"] for b in out} == {100: 3, 200: 2, 400: 1}
    assert {b: out[b][0].ledger.thinking_tokens for b in out} == {100: 60, 200: 150, 400: 300}


def test_bad_settings():
    with pytest.raises(ConfigError, match="temperature"):
        settings_from_kwargs(RejectionSamplingConfig, {"temperature": "0"}, method="rs")
    with pytest.raises(ConfigError, match="fallback"):
        RejectionSamplingConfig(fallback="longest")
    with pytest.raises(ConfigError, match="max_tries"):
        RejectionSamplingConfig(max_tries=0)
    assert RejectionSamplingConfig(
        max_tries=1, sampling=dataclasses.replace(RejectionSamplingConfig().sampling, temperature=0.0)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lengths=st.lists(st.integers(min_value=0, max_value=300), min_size=6, max_size=6),
    budget=st.integers(min_value=1, max_value=300),
    max_tries=st.integers(min_value=1, max_value=6),
    early_reject=st.booleans(),
    fallback=st.sampled_from(["shortest", "cap"]),
)
def test_never_over_budget_unless_tries_are_exhausted_and_flagged(
    tiny_tokenizer, lengths, budget, max_tries, early_reject, fallback
):
    engine = tries_script(lengths, 3)(tiny_tokenizer)
    cfg = RejectionSamplingConfig(
        max_tries=max_tries, early_reject=early_reject, fallback=fallback, max_tokens=1000
    )
    [res] = run_rejection_sampling(engine, S1, ["q"], [budget], cfg, seeds=[3])[budget]
    led = res.ledger
    fits = [k for k in range(max_tries) if lengths[k] <= budget]
    if fits:
        assert led.extra["accepted"] and led.extra["tries"] == fits[0] + 1
        assert led.thinking_tokens == lengths[fits[0]] <= budget and led.outcome == "answered"
    else:
        assert led.extra["accepted"] is False and led.extra["tries"] == max_tries
    if led.thinking_tokens > budget:
        assert led.extra["accepted"] is False and led.extra["fallback"] == "shortest"
        assert not early_reject and fallback == "shortest"
        assert led.thinking_tokens == min(lengths[:max_tries])
    spent = [min(n, budget + 1) if early_reject else n for n in lengths[: led.extra["tries"]]]
    assert led.extra["try_thinking_tokens"] == spent
    assert led.extra["total_tokens"] == sum(spent) + led.answer_tokens
    assert engine.stats["generated_tokens"] == led.extra["total_tokens"]


# ---------------------------------------------------------------------------- the tiny real model
def sampled_stop_format(engine, prompt):
    """A format whose end marker is the token the tiny model samples most at temperature 1.0, so sampled
    thinking ends on its own after a few dozen tokens (the random model almost never emits the real one)."""
    from collections import Counter

    from s1eval.engines.base import GenerationRequest, SamplingParams

    ids = engine.tokenizer.encode(prompt)
    hot = SamplingParams(temperature=1.0)
    outs = engine.generate([GenerationRequest(ids, 40, sampling=hot, seed=s) for s in range(4)])
    for token, _ in Counter(t for o in outs for t in o.token_ids).most_common():
        text = engine.tokenizer.decode([token])
        if single_token_id(engine.tokenizer, text) == token and text.strip():
            return dataclasses.replace(S1, name="test", end_marker=text)
    raise AssertionError("no round-tripping sampled token")


def test_rejection_sampling_on_the_tiny_model(tiny_engine):
    questions = ["What is 3+4?", "Add 1 and 2.", "Compute 12*7."]
    fmt = sampled_stop_format(tiny_engine, build_prompt(tiny_engine.tokenizer, S1, questions[0]))
    cfg = RejectionSamplingConfig(max_tries=4, max_tokens=48, max_answer_tokens=2)
    out = run_rejection_sampling(tiny_engine, fmt, questions, [36], cfg, seeds=[1, 2, 3])
    for res in out[36]:
        led = res.ledger
        assert 1 <= led.extra["tries"] <= 4 and len(led.extra["try_thinking_tokens"]) == led.extra["tries"]
        assert led.extra["total_tokens"] == sum(led.extra["try_thinking_tokens"]) + led.answer_tokens
        assert led.thinking_tokens <= 36 or not led.extra["accepted"]
        assert led.extra["accepted"] or led.extra["tries"] == 4
    assert any(r.ledger.extra["accepted"] for r in out[36]), "the test must exercise accepted samples"
    again = run_rejection_sampling(tiny_engine, fmt, questions[1:2], [36], cfg, seeds=[2])
    assert again[36][0].output == out[36][1].output
    assert again[36][0].ledger.to_dict() == out[36][1].ledger.to_dict()
