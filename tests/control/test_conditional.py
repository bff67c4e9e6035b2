"""TCC, SCC, CCC and their +BF variants: the prompt states the budget, BF caps it, markers and ledgers are right."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1eval.control.budget_forcing import BudgetForcingConfig, resolve_strategy, run_budget_forcing
from s1eval.control.conditional import (
    ClassConditionalConfig,
    StepConditionalConfig,
    TokenConditionalConfig,
    run_conditional,
)
from s1eval.control.markers import step_marker, strip_markers, token_marker
from s1eval.control.methods import get_method, method_names, settings_from_kwargs
from s1eval.engines.base import SamplingParams
from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.errors import ConfigError
from s1eval.formats import S1, build_prompt

QUESTION = "What is 3+4?"


def counting_script(length: int, answer: str = "The answer is \\boxed{7}."):
    """A model that thinks `length` x-tokens in all (however the thinking is chunked), then answers."""

    def script(context: str, call_index: int) -> str:
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            return answer + "<|im_end|>"
        return "x" * max(0, length - thinking.count("x")) + S1.think_end

    return script


def run(tokenizer, name, length, budgets, **settings_):
    engine = FakeEngine(tokenizer, counting_script(length))
    method = get_method(name)
    config = settings_from_kwargs(method.config_class, settings_, method=name)
    return engine, method.run(engine, S1, [QUESTION], config, budgets=budgets)


def user_message(prompt: str) -> str:
    return prompt.split("<|im_start|>user\n")[1].split("<|im_end|>")[0]


# ---------------------------------------------------------------------------- registry and settings
def test_all_methods_are_registered():
    assert {"tcc", "scc", "ccc", "tcc+bf", "scc+bf", "rs", "vote"} <= set(method_names())
    assert get_method("TCC+BF").name == "tcc+bf"


def test_settings_convert_strings_and_refuse_unknown_keys(tiny_tokenizer):
    cfg = settings_from_kwargs(
        StepConditionalConfig,
        {"markers": "true", "step_tokens": "50", "budget": "800", "temperature": "0.5", "strategy": "cycle"},
        method="scc",
    )
    assert cfg.markers is True and cfg.step_tokens == 50 and cfg.max_thinking_tokens == 800
    assert cfg.sampling.temperature == 0.5 and cfg.strategy == "cycle"
    with pytest.raises(ConfigError, match="step_tokens"):
        settings_from_kwargs(TokenConditionalConfig, {"step_tokens": "50"}, method="tcc")
    with pytest.raises(ConfigError, match="instruction"):
        TokenConditionalConfig(instruction="Think for up to {tokens} tokens.")
    with pytest.raises(ConfigError, match="extension strategy"):
        TokenConditionalConfig(strategy="wiat")
    with pytest.raises(ConfigError, match="short and/or long"):
        engine = FakeEngine(tiny_tokenizer, counting_script(1))
        get_method("ccc").run(engine, S1, ["q"], ClassConditionalConfig(), budgets=[512])


# ---------------------------------------------------------------------------- the prompt states the budget
def test_prompts_state_the_budget(tiny_tokenizer):
    _, tcc = run(tiny_tokenizer, "tcc", 10, [300, 1200])
    assert user_message(tcc[300][0].prompt) == f"{QUESTION}\n\nThink for up to 300 tokens."
    assert user_message(tcc[1200][0].prompt) == f"{QUESTION}\n\nThink for up to 1200 tokens."
    assert tcc[300][0].prompt.endswith(S1.think_start)
    _, scc = run(tiny_tokenizer, "scc+bf", 10, [300, 2000])
    assert user_message(scc[300][0].prompt).endswith("Think for up to 3 steps.")
    assert user_message(scc[2000][0].prompt).endswith("Think for up to 20 steps.")
    assert scc[2000][0].ledger.extra["prompt_budget"] == 20
    _, ccc = run(
        tiny_tokenizer, "ccc", 10, None, short_instruction="Be quick.", long_instruction="Take your time."
    )
    assert list(ccc) == ["short", "long"]
    assert user_message(ccc["short"][0].prompt).endswith("Be quick.")
    assert user_message(ccc["long"][0].prompt).endswith("Take your time.")
    assert ccc["long"][0].ledger.extra["class"] == "long" and ccc["long"][0].ledger.budget == "long"


def test_custom_instruction_template(tiny_tokenizer):
    _, out = run(tiny_tokenizer, "scc", 10, [500], instruction="Use {steps} steps (about {budget} tokens).")
    assert user_message(out[500][0].prompt).endswith("Use 5 steps (about 500 tokens).")


# ---------------------------------------------------------------------------- capped vs uncapped
def test_without_bf_the_model_may_overrun_the_stated_budget(tiny_tokenizer):
    _, out = run(tiny_tokenizer, "tcc", 250, [100], max_tokens=1000)
    led = out[100][0].ledger
    assert led.thinking_tokens == 250 > led.budget == 100
    assert not led.capped and led.outcome == "answered"
    assert led.extra["prompt_budget"] == 100 and led.extra["max_thinking"] == 1000


def test_without_bf_max_tokens_still_ends_a_runaway(tiny_tokenizer):
    _, out = run(tiny_tokenizer, "scc", 5000, [100], max_tokens=300)
    led = out[100][0].ledger
    assert led.thinking_tokens == 300 and led.capped and led.outcome == "forced"


@pytest.mark.parametrize("name", ["tcc+bf", "scc+bf"])
def test_with_bf_the_budget_is_the_hard_cap(tiny_tokenizer, name):
    _, out = run(tiny_tokenizer, name, 250, [100, 400])
    over, under = out[100][0].ledger, out[400][0].ledger
    assert over.thinking_tokens == 100 and over.capped and over.outcome == "forced"
    assert out[100][0].answer.startswith(S1.answer_prefix)
    assert under.thinking_tokens == 250 and not under.capped and under.outcome == "answered"
    assert over.method == name and over.budget == 100


def test_bf_variant_extends_with_a_named_strategy(tiny_tokenizer):
    script = ThinkingScript(S1, ["one ", "two ", "three "])
    engine = FakeEngine(tiny_tokenizer, script)
    cfg = TokenConditionalConfig(num_extensions=2, strategy="cycle+penalty")
    [res] = get_method("tcc+bf").run(engine, S1, [QUESTION], cfg, budgets=[400])[400]
    assert "one Waittwo Hmmthree " in res.thinking
    assert res.ledger.extensions == 2 and res.ledger.extra["strategy"] == "cycle+penalty"
    think_requests = [r for r in engine.requests if r.max_new_tokens != cfg.max_answer_tokens]
    assert [r.sampling.frequency_penalty for r in think_requests] == [0.0, 0.5, 0.5]


# ---------------------------------------------------------------------------- markers
def test_markers_are_forced_between_chunks_and_counted_apart(tiny_tokenizer):
    engine, out = run(tiny_tokenizer, "tcc+bf", 250, [1000], markers="true", marker_interval="100")
    res = out[1000][0]
    assert res.thinking == "x" * 100 + token_marker(900) + "x" * 100 + token_marker(800) + "x" * 50
    led = res.ledger
    assert led.thinking_tokens == 250 and led.extensions == 0 and led.extra["markers"] == 2
    marker_tokens = sum(
        len(tiny_tokenizer.encode(token_marker(n), add_special_tokens=False)) for n in (900, 800)
    )
    assert led.forced_tokens == marker_tokens + len(
        tiny_tokenizer.encode(S1.think_end, add_special_tokens=False)
    )
    assert [r.stop for r in led.rounds] == ["marker", "marker", "delimiter", "eos"]
    # each chunk asked for exactly the tokens up to the next marker; the context grew by the marker
    asked = [r.max_new_tokens for r in engine.requests[:3]]
    assert asked == [100, 100, 100]


def test_step_markers_count_steps_and_stop_at_the_cap(tiny_tokenizer):
    _, out = run(tiny_tokenizer, "scc+bf", 5000, [300], markers="true")
    res = out[300][0]
    assert strip_markers(res.thinking) == "x" * 300
    assert res.thinking.count("<|im_start|>") == 2
    assert step_marker(2) in res.thinking and step_marker(1) in res.thinking
    assert res.ledger.thinking_tokens == 300 and res.ledger.capped


def test_markers_and_extensions_together(tiny_tokenizer):
    def script(context: str, call_index: int) -> str:  # 150 x, then after "Wait" 80 y, however chunked
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            return "\\boxed{7}<|im_end|>"
        if "Wait" in thinking:
            return "y" * (80 - thinking.count("y")) + S1.think_end
        return "x" * (150 - thinking.count("x")) + S1.think_end

    engine = FakeEngine(tiny_tokenizer, script)
    cfg = TokenConditionalConfig(markers=True, marker_interval=100, num_extensions=1, max_tokens=600)
    [res] = run_conditional(engine, S1, [QUESTION], [600], cfg, method="tcc")[600]
    led = res.ledger
    assert led.extensions == 1 and led.extra["markers"] == 2
    assert led.thinking_tokens == 150 + 80
    assert "Wait" in res.thinking and strip_markers(res.thinking).replace("Wait", "") == "x" * 150 + "y" * 80


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    length=st.integers(min_value=0, max_value=700),
    budget=st.integers(min_value=1, max_value=600),
    interval=st.integers(min_value=7, max_value=200),
    hard_cap=st.booleans(),
    unit=st.sampled_from(["tokens", "steps"]),
)
def test_conditional_ledger_invariants(tiny_tokenizer, length, budget, interval, hard_cap, unit):
    engine = FakeEngine(tiny_tokenizer, counting_script(length))
    config_class = TokenConditionalConfig if unit == "tokens" else StepConditionalConfig
    cfg = config_class(markers=True, marker_interval=interval, max_tokens=650)
    [res] = run_conditional(engine, S1, [QUESTION], [budget], cfg, method="m", unit=unit, hard_cap=hard_cap)[
        budget
    ]
    led = res.ledger
    cap = budget if hard_cap else 650
    assert led.thinking_tokens == min(length, cap)
    assert led.capped == (length >= cap) and led.outcome == ("forced" if led.capped else "answered")
    assert led.extensions == 0
    assert strip_markers(res.thinking) == "x" * led.thinking_tokens
    assert led.thinking_tokens == sum(r.generated for r in led.rounds if r.phase == "think")
    assert led.forced_tokens == sum(r.forced_tokens for r in led.rounds)
    assert led.budget == budget


# ---------------------------------------------------------------------------- extension strategies (BF)
def test_strategies_resolve_by_name():
    assert resolve_strategy("cycle") == (("Wait", "Hmm", "Alternatively"), {})
    assert resolve_strategy("Hmm+penalty") == (("Hmm",), {"frequency_penalty": 0.5})
    assert resolve_strategy("none") == (("",), {})
    with pytest.raises(ConfigError, match="cycle\\+penalty"):
        resolve_strategy("cycle+temperature")
    cfg = BudgetForcingConfig(100, strategy="alternatively")
    assert cfg.extension_strings == ("Alternatively",) and cfg.strategy_name == "alternatively"
    explicit = BudgetForcingConfig(
        100, strategy="cycle+penalty", extension_sampling={"frequency_penalty": 1.0}
    )
    assert explicit.extension_sampling == {"frequency_penalty": 1.0}


def test_bf_records_the_strategy_in_the_ledger(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["one ", "two ", "three ", "four "]))
    cfg = settings_from_kwargs(
        BudgetForcingConfig, {"budget": "300", "num_extensions": "3", "strategy": "cycle"}, method="bf"
    )
    prompt = build_prompt(tiny_tokenizer, S1, QUESTION)
    [res] = run_budget_forcing(engine, S1, [prompt], cfg)
    assert [r.forced for r in res.ledger.rounds[:3]] == ["Wait", "Hmm", "Alternatively"]
    assert res.ledger.to_dict()["strategy"] == "cycle"


# ---------------------------------------------------------------------------- the tiny real model
def test_conditional_methods_on_the_tiny_model(tiny_engine):
    questions = ["What is 3+4?", "Add 1 and 2."]
    base = dict(max_tokens=30, max_answer_tokens=4, marker_interval=10, markers=True)
    tcc = get_method("tcc").run(tiny_engine, S1, questions, TokenConditionalConfig(**base), budgets=[16, 25])
    for b, results in tcc.items():
        for res in results:
            assert user_message(res.prompt).endswith(f"Think for up to {b} tokens.")
            led = res.ledger
            assert led.thinking_tokens <= 30 and led.budget == b
            markers = [r for r in led.rounds if r.stop == "marker"]
            assert len(markers) == len([p for p in range(10, min(led.thinking_tokens, b), 10)])
            assert all(r.generated == 10 for r in markers)
            assert token_marker(b - 10) in res.thinking if led.thinking_tokens > 10 else True
    scc_bf = get_method("scc+bf").run(
        tiny_engine, S1, questions, StepConditionalConfig(**base, step_tokens=10), budgets=[20]
    )
    for res in scc_bf[20]:
        assert res.ledger.thinking_tokens <= 20 and user_message(res.prompt).endswith("up to 2 steps.")
    ccc_cfg = ClassConditionalConfig(
        max_tokens=16, max_answer_tokens=2, sampling=SamplingParams(temperature=1.0)
    )
    ccc = get_method("ccc").run(tiny_engine, S1, questions, ccc_cfg, seeds=[3, 4])
    assert list(ccc) == ["short", "long"]
    for cls, results in ccc.items():
        for res in results:
            assert res.ledger.budget == res.ledger.extra["class"] == cls and res.ledger.thinking_tokens <= 16
            assert user_message(res.prompt).endswith(ccc_cfg.instruction_for(cls))


# ---------------------------------------------------------------------------- `s1eval generate --method ...`
@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "extra", "budgets"),
    [
        ("tcc", ["--set", "max_tokens=12", "--set", "markers=true", "--set", "marker_interval=4"], "8,16"),
        ("tcc+bf", [], "8"),
        ("scc", ["--set", "max_tokens=12", "--set", "step_tokens=4"], "8"),
        ("scc+bf", ["--set", "step_tokens=4"], "8"),
        ("ccc", ["--set", "max_tokens=8"], None),
        ("rs", ["--set", "max_tries=2", "--set", "max_tokens=12"], "6"),
        ("vote", ["--set", "n=3", "--max-thinking-tokens", "6"], None),
    ],
)
def test_generate_cli_runs_every_comparison_method(tiny_model_path, tmp_path, method, extra, budgets):
    import json

    from click.testing import CliRunner

    from s1eval.cli import cli

    prompts = tmp_path / "in.jsonl"
    prompts.write_text(json.dumps({"id": "a", "prompt": "What is 3+4?"}) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["generate", "--model", str(tiny_model_path), "--input", str(prompts), "--output", str(out)]
    args += ["--method", method, "--max-answer-tokens", "3", *extra] + (
        ["--budgets", budgets] if budgets else []
    )
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = {"ccc": ["short", "long"], "vote": [1, 2, 3]}.get(method) or [
        int(b) for b in budgets.split(",")
    ]
    assert sorted(str(r["ledger"]["budget"]) for r in rows) == sorted(str(x) for x in expected)
    assert [r["ledger"]["method"] for r in rows] == [method] * len(expected)
    for r in rows:
        led = r["ledger"]
        if method in ("tcc+bf", "scc+bf"):
            assert led["thinking_tokens"] <= led["budget"]
        if method in ("tcc", "scc"):
            assert "prompt_budget" in led and led["max_thinking"] == 12
        if method == "rs":
            assert {"tries", "total_tokens", "accepted"} <= set(led)
        if method == "vote":
            assert {"votes", "n", "vote_counts", "answers"} <= set(led) and len(led["answers"]) == led["n"]


@pytest.mark.parametrize(
    ("name", "budgets"), [("tcc", [100, 200]), ("ccc", None), ("rs", [300, 50]), ("vote", [1, 3])]
)
def test_progress_counts_questions_whatever_the_samples_per_question(tiny_tokenizer, name, budgets):
    engine = FakeEngine(tiny_tokenizer, counting_script(40), max_batch_size=3)
    method = get_method(name)
    ticks: list[int] = []
    questions = ["a", "b", "c", "d", "e"]
    out = method.run(engine, S1, questions, method.config_class(), budgets=budgets, progress=ticks.append)
    assert sum(ticks) == len(questions) and all(t > 0 for t in ticks) and len(ticks) > 1
    for results in out.values():  # every x lists the questions in order
        assert [user_message(r.prompt)[0] for r in results] == questions
