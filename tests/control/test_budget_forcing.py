"""Budget forcing invariants on the fake engine (property tests) and exactness on the tiny real model."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing, run_budget_sweep
from s1eval.engines.base import SamplingParams
from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.errors import ConfigError
from s1eval.formats import R1, S1, build_prompt, single_token_id

WORDS = ["one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight "]
PROMPT = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<|im_start|>think\n"


def segments_strategy():
    seg = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12).map("".join)
    return st.lists(seg, min_size=1, max_size=6)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    segments=segments_strategy(),
    budget=st.integers(min_value=1, max_value=80),
    extensions=st.integers(min_value=0, max_value=5),
    strings=st.sampled_from([("Wait",), ("",), ("Wait", "Hmm", "Alternatively"), ("Hmm",)]),
    fmt=st.sampled_from([S1, R1]),
)
def test_ledger_invariants(tiny_tokenizer, segments, budget, extensions, strings, fmt):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(fmt, segments, answer="\\boxed{7}"))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=budget, num_extensions=extensions, extension_strings=strings
    )
    prompt = PROMPT.replace("<|im_start|>think\n", fmt.think_start)
    [res] = run_budget_forcing(engine, fmt, [prompt], cfg)
    led = res.ledger
    think_rounds = [r for r in led.rounds if r.phase == "think"]
    # never over budget, and generated tokens are what the rounds say
    assert led.thinking_tokens <= budget
    assert led.thinking_tokens == sum(r.generated for r in think_rounds)
    # forced tokens are counted apart from generated ones, and add up
    assert led.forced_tokens == sum(r.forced_tokens for r in led.rounds)
    assert led.extensions == sum(1 for r in think_rounds if r.forced in strings and r.stop != "budget")
    assert led.extensions <= extensions
    # each round asked only for the budget that remained: the requests' limits add up exactly
    think_requests = [
        r
        for r in engine.requests
        if r.stop_token_ids
        and r.max_new_tokens
        and fmt.think_end not in tiny_tokenizer.decode(r.context_ids)[len(prompt) :]
    ]
    asked = [r.max_new_tokens for r in think_requests]
    assert asked[0] == budget
    for previous, now, rnd in zip(asked, asked[1:], think_rounds, strict=False):
        assert now == previous - rnd.generated
    # fewer extensions than asked only when the budget ran out first
    if led.extensions < extensions:
        assert led.capped
    # a capped sample carries the forced delimiter and the answer prefix; the answer starts with the prefix.
    # The delimiter starts on its own line, and a newline the thinking already ends in is not doubled
    # (issue 17; this used to pin `forced == think_end + answer_prefix`, with no newline for s1).
    end = fmt.think_end.lstrip("\n")
    if led.capped:
        assert think_rounds[-1].stop == "budget"
        newline = "" if (prompt + res.thinking).endswith("\n") else "\n"
        assert think_rounds[-1].forced == newline + end + fmt.answer_prefix
        assert res.answer.startswith(fmt.answer_prefix)
        assert end + fmt.answer_prefix in res.output
        assert led.outcome == "forced"
    else:
        assert led.outcome == "answered"
        assert not res.answer.startswith(fmt.answer_prefix)


def test_extension_strings_cycle_and_are_recorded(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one ", "two ", "three ", "four "]))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=500, num_extensions=3, extension_strings=("Wait", "Hmm", "Alternatively")
    )
    [res] = run_budget_forcing(engine, S1, [PROMPT], cfg)
    assert [r.forced for r in res.ledger.rounds[:3]] == ["Wait", "Hmm", "Alternatively"]
    assert res.thinking.endswith("four ")
    assert "one Waittwo Hmmthree Alternativelyfour " in res.thinking
    assert res.ledger.extensions == 3 and not res.ledger.capped
    assert res.ledger.to_dict()["strategy"] == "cycle"


def test_empty_extension_ignores_the_delimiter_once(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one ", "two "]))
    cfg = BudgetForcingConfig(max_thinking_tokens=200, num_extensions=1, extension_strings=("",))
    [res] = run_budget_forcing(engine, S1, [PROMPT], cfg)
    second = engine.requests[1]
    assert second.min_new_tokens == 1  # the stop token is suppressed for one step
    assert res.ledger.rounds[0].forced == "" and res.ledger.rounds[0].forced_tokens == 0


def test_min_thinking_tokens_masks_the_end_of_thinking(tiny_tokenizer):
    """vLLM's min_tokens, as in the fork: the stops are masked for the first 30 tokens, nothing is forced
    (it used to force "Wait" until 30 tokens, without limit: issue 17, 3)."""
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one two "]))
    cfg = BudgetForcingConfig(max_thinking_tokens=400, min_thinking_tokens=30)
    [res] = run_budget_forcing(engine, S1, [PROMPT], cfg)
    assert engine.requests[0].min_new_tokens == 30
    assert res.ledger.extensions == 0
    assert len(engine.requests) == 2  # one thinking round, one answer


def test_a_round_after_any_extension_has_at_least_one_token(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one ", "", "", ""]))
    cfg = BudgetForcingConfig(max_thinking_tokens=200, num_extensions=3, extension_strings=("Wait",))
    run_budget_forcing(engine, S1, [PROMPT], cfg)
    think = [r for r in engine.requests if r.max_new_tokens and r.stop_token_ids][:4]
    assert [r.min_new_tokens for r in think] == [0, 1, 1, 1]


def test_extension_sampling_applies_to_extended_rounds_only(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one ", "two "]))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=200, num_extensions=1, extension_sampling={"frequency_penalty": 0.5}
    )
    run_budget_forcing(engine, S1, [PROMPT], cfg)
    assert engine.requests[0].sampling.frequency_penalty == 0.0
    assert engine.requests[1].sampling.frequency_penalty == 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_thinking_tokens": 0},
        {"max_thinking_tokens": -5},
        {"max_thinking_tokens": 10, "num_extensions": -1},
        {"max_thinking_tokens": 10, "max_answer_tokens": 0},
        {"max_thinking_tokens": 10, "extension_strings": ()},
        {"max_thinking_tokens": 10, "extension_sampling": {"bogus": 1.0}},
        {"max_thinking_tokens": "lots"},
        {"max_thinking_tokens": 10, "compat": "vllm"},
        {"max_thinking_tokens": 10, "compat": "reference", "strategy": "cycle"},
        {"max_thinking_tokens": 10, "compat": "reference", "strategy": "wait+penalty"},
    ],
)
def test_bad_settings_are_one_line_errors(kwargs):
    with pytest.raises(ConfigError) as err:
        BudgetForcingConfig(**kwargs)
    assert "\n" not in str(err.value)


def test_auto_budget_and_compat_are_method_settings():
    """`--set max_thinking_tokens=auto --set compat=reference` (and lm-eval / Inspect args) arrive as strings."""
    from s1eval.control.methods import settings_from_kwargs

    cfg = settings_from_kwargs(
        BudgetForcingConfig, {"max_thinking_tokens": "auto", "compat": "Reference"}, method="bf"
    )
    assert cfg.max_thinking_tokens == "auto" and cfg.compat == "reference" and cfg.reference
    assert settings_from_kwargs(BudgetForcingConfig, {"budget": "12"}, method="bf").compat == "s1eval"


def test_r1_natural_end_does_not_double_the_newline(tiny_tokenizer):
    """Issue 17, 4: a thinking that ends in "\n" gets `</think>\n\n`, not `\n</think>\n\n`."""

    def script(context: str, _calls: int) -> str:  # the model writes `7.\n</think>` itself
        return "7<|im_end|>" if "</think>" in context else "seven.\n</think>7<|im_end|>"

    engine = FakeEngine(tiny_tokenizer, script)
    prompt = PROMPT.replace(S1.think_start, R1.think_start)
    [res] = run_budget_forcing(engine, R1, [prompt], BudgetForcingConfig(max_thinking_tokens=200))
    assert res.output.startswith("seven.\n</think>\n\n7")
    [end] = [r for r in res.ledger.rounds if r.phase == "think"]
    assert end.forced == "</think>\n\n"


def test_s1_cap_puts_the_delimiter_on_its_own_line(tiny_tokenizer):
    """Issue 17, 1: the cap appends "\n" before `<|im_start|>answer` unless the thinking ends in one."""
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one two three four five six seven eight "]))
    [res] = run_budget_forcing(engine, S1, [PROMPT], BudgetForcingConfig(max_thinking_tokens=3))
    assert res.ledger.rounds[0].forced == "\n<|im_start|>answer\nFinal Answer:"
    assert "\n<|im_start|>answer\nFinal Answer:" in res.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    segments=segments_strategy(),
    extensions=st.integers(0, 3),
    budgets=st.lists(st.integers(1, 60), min_size=1, max_size=5),
)
def test_sweep_equals_separate_runs_on_fake(tiny_tokenizer, segments, extensions, budgets):
    def engine():
        return FakeEngine(tiny_tokenizer, ThinkingScript(S1, segments, answer="\\boxed{7}"))

    cfg = BudgetForcingConfig(max_thinking_tokens=max(budgets), num_extensions=extensions)
    sweep = run_budget_sweep(engine(), S1, [PROMPT], budgets, cfg)
    for b in set(budgets):
        [single] = run_budget_forcing(engine(), S1, [PROMPT], cfg.with_budget(b))
        assert sweep[b][0].ledger.to_dict() == single.ledger.to_dict()
        assert sweep[b][0].output == single.output


# ---------------------------------------------------------------------------- the tiny real model
def _frequent_token_format(engine, prompts):
    """A format whose end marker is a token the random tiny model really emits, so natural stops happen."""
    from collections import Counter

    from s1eval.engines.base import GenerationRequest

    outs = engine.generate([GenerationRequest(engine.tokenizer.encode(p), 40) for p in prompts])
    counts = Counter(t for o in outs for t in o.token_ids[3:])
    for token, _ in counts.most_common():
        text = engine.tokenizer.decode([token])
        if single_token_id(engine.tokenizer, text) == token:
            return dataclasses.replace(S1, name="test", end_marker=text)
    raise AssertionError("no round-tripping frequent token")


def test_sweep_equals_separate_runs_on_tiny_model(tiny_engine):
    questions = ["What is 3+4?", "Add 1 and 2 and 3.", "Compute 12*7 step by step.", "Hi"]
    prompts = [build_prompt(tiny_engine.tokenizer, S1, q) for q in questions]
    fmt = _frequent_token_format(tiny_engine, prompts)
    budgets = [4, 9, 17, 30]
    cfg = BudgetForcingConfig(max_thinking_tokens=30, num_extensions=2, max_answer_tokens=8)
    sweep = run_budget_sweep(tiny_engine, fmt, prompts, budgets, cfg)
    natural = 0
    for b in budgets:
        separate = run_budget_forcing(tiny_engine, fmt, prompts, cfg.with_budget(b))
        for s, r in zip(sweep[b], separate, strict=True):
            assert s.ledger.to_dict() == r.ledger.to_dict()
            assert s.answer == r.answer and s.output == r.output
            assert s.ledger.thinking_tokens <= b
            natural += s.ledger.extensions > 0 or not s.ledger.capped
    assert natural > 0, "the test must exercise natural stops / extensions, not only caps"


def test_seeded_sampling_is_reproducible_and_batch_independent(tiny_engine):
    prompts = [build_prompt(tiny_engine.tokenizer, S1, q) for q in ["What is 3+4?", "Add 1 and 2."]]
    cfg = BudgetForcingConfig(
        max_thinking_tokens=12, max_answer_tokens=6, sampling=SamplingParams(temperature=1.0)
    )
    a = run_budget_forcing(tiny_engine, S1, prompts, cfg, seeds=[5, 6])
    b = run_budget_forcing(tiny_engine, S1, prompts[1:], cfg, seeds=[6])
    c = run_budget_forcing(tiny_engine, S1, prompts, cfg, seeds=[7, 8])
    assert a[1].output == b[0].output
    assert [r.output for r in a] != [r.output for r in c]


def test_continuous_batching_equals_lockstep_reencoding(tiny_engine):
    """The hf engine's own scheduler (rows never wait for each other, KV reused) gives exactly what one
    batched call per round with the whole prefix re-encoded gives."""
    from s1eval.engines.hf import HFEngine

    questions = ["What is 3+4?", "Add 1 and 2 and 3.", "Compute 12*7 step by step.", "Hi", "Count to five."]
    prompts = [build_prompt(tiny_engine.tokenizer, S1, q) for q in questions]
    fmt = _frequent_token_format(tiny_engine, prompts)
    cfg = BudgetForcingConfig(max_thinking_tokens=40, num_extensions=3, max_answer_tokens=6)
    continuous = HFEngine(tiny_engine.model, tiny_engine.tokenizer, batch_size=8)
    lockstep = HFEngine(tiny_engine.model, tiny_engine.tokenizer, batch_size=8, reuse_cache=False)
    a = run_budget_sweep(continuous, fmt, prompts, [10, 25, 40], cfg)
    b = run_budget_sweep(lockstep, fmt, prompts, [10, 25, 40], cfg)
    assert continuous.stats["reused_tokens"] > 0 and lockstep.stats["reused_tokens"] == 0
    for budget in a:
        assert [r.ledger.to_dict() for r in a[budget]] == [r.ledger.to_dict() for r in b[budget]]
        assert [r.output for r in a[budget]] == [r.output for r in b[budget]]
    assert sum(r.ledger.extensions for r in a[40]) > 0


def test_rows_refill_with_waiting_prompts_and_give_what_lockstep_gives(tiny_engine):
    """More prompts than batch rows: a row whose program ends takes the next prompt at once (prefilled apart,
    spliced into the cache, widening it when the new prompt is longer), and every result is what one batched
    call per round with the whole prefix re-encoded gives."""
    from s1eval.engines.hf import HFEngine

    questions = [
        "Hi",
        "What is 3+4?",
        "Add 1 and 2 and 3, then multiply the sum by seven and say what you get.",
        "Count to five.",
        "Compute 12*7 step by step, showing each partial product and the carries you make along the way.",
        "Go.",
        "Is 91 prime? Explain.",
    ]
    prompts = [build_prompt(tiny_engine.tokenizer, S1, q) for q in questions]
    fmt = _frequent_token_format(tiny_engine, prompts)
    cfg = BudgetForcingConfig(max_thinking_tokens=30, num_extensions=2, max_answer_tokens=5)
    refilling = HFEngine(tiny_engine.model, tiny_engine.tokenizer, batch_size=2)
    lockstep = HFEngine(tiny_engine.model, tiny_engine.tokenizer, batch_size=2, reuse_cache=False)
    assert refilling.programs_per_drive > refilling.max_batch_size  # the core hands it waiting prompts
    a = run_budget_sweep(refilling, fmt, prompts, [10, 30], cfg)
    b = run_budget_sweep(lockstep, fmt, prompts, [10, 30], cfg)
    assert refilling.stats["refills"] > 0 and refilling.stats["widenings"] > 0  # both paths were taken
    for budget in a:
        assert [r.ledger.to_dict() for r in a[budget]] == [r.ledger.to_dict() for r in b[budget]]
        assert [r.output for r in a[budget]] == [r.output for r in b[budget]]
