"""Thinking interventions on the BF core: each one's forced text and token accounting, pinned on the tiny real
model (and, where the decision depends on what the model writes, on a scripted engine with the real tokenizer)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing, run_budget_sweep
from s1eval.control.interventions import (
    DYNASOR_PROBE,
    QWEN3_EARLY_STOP,
    WRAP_UP_HINT,
    parse_intervention,
)
from s1eval.control.methods import resolve_settings
from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.errors import ConfigError
from s1eval.formats import S1, build_prompt
from s1eval.runs.identity import method_settings

CAP = "<|im_start|>answer\nFinal Answer:"
END = "<|im_start|>answer\n"
EOT = "<|im_end|>"


def _prompt(tokenizer, question: str = "What is 2 + 2?") -> str:
    return build_prompt(tokenizer, S1, question)


def _enc(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False)


def _accounting(tokenizer, result, budget: int) -> None:
    """What every intervention keeps: the budget, forced tokens = the forced texts' tokens, probes apart, and the
    completion ids (what RL trains on) spell the output with 0 exactly at the forced tokens of the thinking."""
    led = result.ledger
    assert led.thinking_tokens <= budget
    assert led.thinking_tokens == sum(r.generated for r in led.rounds if r.phase == "think")
    assert led.probe_tokens == sum(r.generated for r in led.rounds if r.phase == "probe")
    assert led.forced_tokens == sum(r.forced_tokens for r in led.rounds)
    for r in led.rounds:
        if r.forced:
            assert r.forced_tokens == len(_enc(tokenizer, r.forced)), r
    ids, mask = result.extra["completion_ids"], result.extra["completion_mask"]
    assert tokenizer.decode(ids[: len(ids) - 1] if ids[-1:] == _enc(tokenizer, EOT) else ids) == result.output
    think_forced = sum(r.forced_tokens for r in led.rounds if r.phase == "think")
    # the end marker the model sampled itself starts the delimiter: its own token, 1 in the mask
    last = [r for r in led.rounds if r.phase == "think"][-1]
    sampled = last.stop == "delimiter" and (last.forced or "").startswith("<|im_start|>")
    assert mask.count(0) == think_forced - sampled
    assert sum(mask) == led.thinking_tokens + led.answer_tokens + (ids[-1:] == _enc(tokenizer, EOT)) + sampled


# --------------------------------------------------------------------------- on the tiny real model
def test_early_stop_puts_qwen3s_sentence_before_the_delimiter_at_the_cap(tiny_engine):
    tok = tiny_engine.tokenizer
    cfg = BudgetForcingConfig(
        max_thinking_tokens=12, min_thinking_tokens=12, max_answer_tokens=4, intervention="early_stop"
    )
    [res] = run_budget_forcing(tiny_engine, S1, [_prompt(tok)], cfg)
    cap = res.ledger.rounds[-2]
    lead = "\n" if res.thinking.endswith("\n") else "\n\n"
    assert cap.stop == "budget"
    assert cap.forced == lead + QWEN3_EARLY_STOP + "\n" + CAP
    assert res.output == res.thinking + lead + QWEN3_EARLY_STOP + "\n" + END + res.answer
    assert res.ledger.thinking_tokens == 12 and res.ledger.capped
    assert res.ledger.extra["intervention"] == "early_stop"
    _accounting(tok, res, 12)


def test_wrap_up_hints_grace_tokens_before_the_budget_then_caps(tiny_engine):
    tok = tiny_engine.tokenizer
    cfg = BudgetForcingConfig(
        max_thinking_tokens=20, min_thinking_tokens=20, max_answer_tokens=4, intervention="wrap_up:grace=8"
    )
    out = run_budget_sweep(tiny_engine, S1, [_prompt(tok)], [20, 16], cfg)
    for budget, [res] in out.items():
        led = res.ledger
        hint, cap = led.rounds[0], led.rounds[1]
        assert (hint.generated, hint.stop) == (budget - 8, "hint")  # each budget hints at its own point
        assert hint.forced.strip("\n") == WRAP_UP_HINT and hint.forced.endswith("\n")
        assert (cap.generated, cap.stop) == (8, "budget")
        assert led.extra["hint_at"] == budget - 8
        assert WRAP_UP_HINT in res.thinking  # forced text the model saw stays in its thinking
        _accounting(tok, res, budget)


def test_alphaone_marks_its_moment_and_caps_on_the_real_model(tiny_engine):
    tok = tiny_engine.tokenizer
    cfg = BudgetForcingConfig(
        max_thinking_tokens=20,
        min_thinking_tokens=20,
        max_answer_tokens=4,
        intervention="alphaone:alpha=0.5:p_wait=0",
    )
    [res] = run_budget_forcing(tiny_engine, S1, [_prompt(tok)], cfg)
    moment, cap = res.ledger.rounds[0], res.ledger.rounds[1]
    assert (moment.generated, moment.stop, moment.forced, moment.forced_tokens) == (10, "alpha_moment", "", 0)
    assert cap.stop == "budget" and res.ledger.thinking_tokens == 20
    assert res.ledger.extra["inserted"] == 0
    _accounting(tok, res, 20)


def test_dynasor_probes_are_forks_counted_apart_on_the_real_model(tiny_engine):
    tok = tiny_engine.tokenizer
    cfg = BudgetForcingConfig(
        max_thinking_tokens=24,
        min_thinking_tokens=24,
        max_answer_tokens=4,
        intervention="dynasor:interval=8:agree=50:probe_tokens=3",
    )
    [res] = run_budget_forcing(tiny_engine, S1, [_prompt(tok)], cfg)
    led = res.ledger
    probes = [r for r in led.rounds if r.phase == "probe"]
    assert len(probes) == 2 == led.extra["probes"]  # at 8 and 16; none at the budget itself
    assert all(p.forced == DYNASOR_PROBE and p.generated <= 3 for p in probes)
    assert led.probe_tokens == sum(p.generated for p in probes) > 0
    assert led.forced_tokens == 2 * len(_enc(tok, DYNASOR_PROBE)) + len(_enc(tok, led.rounds[-2].forced))
    assert DYNASOR_PROBE not in res.output  # a probe never enters the thinking
    assert "probe_tokens" in led.to_dict()
    _accounting(tok, res, 24)


# --------------------------------------------------------------------------- decisions on scripted text
def _dynasor_script(answer: str):
    """Thinks in words; a probe (the context ends in the probe text) answers `answer`."""
    thinking = ThinkingScript(S1, ["one two three four five six seven eight nine ten eleven twelve"])

    def script(context: str, call: int) -> str:
        return answer + EOT if context.endswith("\\boxed{") else thinking(context, 0)

    return script


def test_dynasor_exits_when_probes_agree_and_a_smaller_budget_sees_fewer_probes(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, _dynasor_script("42}"))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=40, max_answer_tokens=32, intervention="dynasor:interval=4:agree=2"
    )
    out = run_budget_sweep(engine, S1, [_prompt(tiny_tokenizer)], [40, 6], cfg)
    [big], [small] = out[40], out[6]
    assert big.ledger.thinking_tokens == 8 and not big.ledger.capped and big.ledger.outcome == "answered"
    assert big.ledger.extra["probes"] == 2 and big.ledger.extra["probe_exit"] == "42"
    assert big.ledger.rounds[-2].stop == "probes_agree"
    assert big.ledger.rounds[-2].forced == "\n" + END  # an ending the model did not choose: its own line
    assert (
        small.ledger.capped and small.ledger.extra["probes"] == 1 and "probe_exit" not in small.ledger.extra
    )
    for res, budget in ((big, 40), (small, 6)):
        _accounting(tiny_tokenizer, res, budget)


def test_dynasor_does_not_exit_on_hesitant_probe_answers(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, _dynasor_script(" maybe 4} hmm"))
    cfg = BudgetForcingConfig(max_thinking_tokens=12, intervention="dynasor:interval=4:agree=2")
    [res] = run_budget_forcing(engine, S1, [_prompt(tiny_tokenizer)], cfg)
    assert "probe_exit" not in res.ledger.extra and res.ledger.extra["probes"] == 2


def test_wrap_up_lets_the_model_end_within_grace_and_forces_no_extension_after_the_hint(tiny_tokenizer):
    words = "one two three four five six seven eight nine ten "
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, [words, "eleven twelve"]))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=30, num_extensions=3, max_answer_tokens=32, intervention="wrap_up:grace=24"
    )
    [res] = run_budget_forcing(engine, S1, [_prompt(tiny_tokenizer)], cfg)
    led = res.ledger
    assert [r.stop for r in led.rounds if r.phase == "think"] == ["hint", "delimiter"]
    assert led.extensions == 0 and not led.capped and led.outcome == "answered"
    _accounting(tiny_tokenizer, res, 30)


def test_alphaone_waits_before_its_moment_and_ends_on_wait_after_it(tiny_tokenizer):
    # the model ends early (-> Wait, an extension), writes a newline (an insertion point), and after the
    # moment writes " Wait" itself, which ends the thinking there and is not kept
    segments = ["one two", " three\n", "four five six seven eight nine ten", " eleven Wait twelve"]
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, segments))
    cfg = BudgetForcingConfig(
        max_thinking_tokens=80, max_answer_tokens=32, intervention="alphaone:alpha=0.25:p_wait=1:after=\\n"
    )
    [res] = run_budget_forcing(engine, S1, [_prompt(tiny_tokenizer)], cfg)
    led = res.ledger
    stops = [r.stop for r in led.rounds if r.phase == "think"]
    assert stops[0] == "delimiter" and led.rounds[0].forced == "Wait" and led.extensions == 1
    assert "insert" in stops or "insert_point" in stops
    assert led.extra["inserted"] == sum(1 for r in led.rounds if r.stop == "insert")
    assert "alpha_moment" in stops and stops[-1] == "alpha" and not led.capped
    assert "Wait twelve" not in res.output and res.thinking.endswith(" eleven")
    _accounting(tiny_tokenizer, res, 80)


def test_early_stop_leaves_a_natural_end_alone(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one two three"]))
    cfg = BudgetForcingConfig(max_thinking_tokens=30, intervention="early_stop")
    [res] = run_budget_forcing(engine, S1, [_prompt(tiny_tokenizer)], cfg)
    assert QWEN3_EARLY_STOP not in res.output and res.ledger.rounds[0].forced == END


# --------------------------------------------------------------------------- settings
def test_an_intervention_arrives_as_a_string_from_every_front_end_and_is_recorded_canonically():
    resolved = resolve_settings("bf", {"intervention": "dynasor:agree=2:interval=32"}, "64,128")
    assert resolved.config.intervention == "dynasor:interval=32:agree=2"
    assert method_settings(resolved.config)["intervention"] == "dynasor:interval=32:agree=2"
    plain = resolve_settings("bf", {}, "64").config
    assert "intervention" not in method_settings(plain)  # runs without one keep their identity and keys
    assert parse_intervention({"name": "wrap_up", "grace": 4}).spec == "wrap_up:grace=4"


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"intervention": "nudge"}, "unknown intervention 'nudge'; use one of: early_stop, wrap_up"),
        ({"intervention": "dynasor:every=3"}, "unknown option(s) every for intervention 'dynasor'"),
        ({"intervention": "dynasor:interval=x"}, "interval='x' is not a int"),
        ({"intervention": "dynasor:agree"}, "has no value"),
        ({"intervention": "wrap_up:grace=0"}, "grace must be a positive integer"),
        ({"intervention": "alphaone:alpha=2"}, "alpha is a fraction of the budget"),
        ({"intervention": "early_stop", "compat": "reference"}, "compat=reference is the fork's loop"),
    ],
)
def test_bad_intervention_settings_get_one_line(settings, needle):
    with pytest.raises(ConfigError) as err:
        resolve_settings("bf", settings, "64")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_alphaone_refuses_an_insertion_point_the_tokenizer_splits(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one"]))
    cfg = BudgetForcingConfig(max_thinking_tokens=8, intervention="alphaone")  # "\n\n" is two tokens here
    with pytest.raises(ConfigError, match="no token of this tokenizer ends with"):
        run_budget_forcing(engine, S1, [_prompt(tiny_tokenizer)], cfg)


# --------------------------------------------------------------------------- invariants on any script
WORDS = ["one ", "two ", "three\n", "four ", " Wait ", "five ", "six\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    segments=st.lists(st.lists(st.sampled_from(WORDS), max_size=10).map("".join), min_size=1, max_size=5),
    budgets=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=3, unique=True),
    extensions=st.integers(min_value=0, max_value=3),
    spec=st.sampled_from(
        [
            "early_stop",
            "wrap_up:grace=6",
            "alphaone:alpha=0.5:p_wait=1:after=\\n",
            "dynasor:interval=5:agree=2",
        ]
    ),
    probe=st.sampled_from([" 7}", " wait 7}", ""]),
)
def test_every_intervention_keeps_the_ledger_exact_on_any_script(
    tiny_tokenizer, segments, budgets, extensions, spec, probe
):
    thinking = ThinkingScript(S1, segments, answer="\\boxed{7}")

    def script(context: str, call: int) -> str:
        return probe + EOT if context.endswith("\\boxed{") else thinking(context, call)

    engine = FakeEngine(tiny_tokenizer, script)
    cfg = BudgetForcingConfig(
        max_thinking_tokens=max(budgets), num_extensions=extensions, max_answer_tokens=16, intervention=spec
    )
    out = run_budget_sweep(engine, S1, [_prompt(tiny_tokenizer)], budgets, cfg)
    for budget, [res] in out.items():
        _accounting(tiny_tokenizer, res, budget)
        assert res.ledger.extra["intervention"] == parse_intervention(spec).spec
        if "alphaone" not in spec:  # alphaone's own Waits before its moment are extensions too
            assert res.ledger.extensions <= extensions


def test_a_text_option_with_colons_and_newlines_survives_the_spec_string():
    policy = parse_intervention({"name": "early_stop", "text": "Time is up: answer now.\n"})
    assert parse_intervention(policy.spec) == policy
    cfg = BudgetForcingConfig(max_thinking_tokens=8, intervention=policy.spec).with_budget(16)
    assert parse_intervention(cfg.intervention).text == "Time is up: answer now.\n"


def test_prepare_method_checks_an_intervention_against_the_tokenizer_before_anything_runs(tiny_engine):
    from s1eval.control.methods import prepare_method

    with pytest.raises(ConfigError, match="no token of this tokenizer ends with"):
        prepare_method(tiny_engine, "bf", {"max_thinking_tokens": 8, "intervention": "alphaone"}, "s1")
    assert prepare_method(
        tiny_engine, "bf", {"max_thinking_tokens": 8, "intervention": "alphaone:after=\\n"}, "s1"
    )
