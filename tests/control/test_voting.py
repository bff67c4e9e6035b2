"""Parallel voting: N seeded samples, equivalent answers vote together, maj@1..N from one set of samples."""

from __future__ import annotations

import dataclasses
import re

import pytest

from s1eval.control.base import derive_seed
from s1eval.control.methods import get_method, settings_from_kwargs
from s1eval.control.voting import (
    VoteConfig,
    majority_vote,
    register_sample_score,
    run_vote,
    vote_prefixes,
)
from s1eval.engines.fake import FakeEngine
from s1eval.errors import ConfigError
from s1eval.formats import S1, build_prompt, single_token_id
from s1eval.scoring import score_sample

ANSWERS = ["7", "8", "7.0", None, "8", "\\frac{16}{2}"]


def tagged_script(answers):
    """The k-th sample thinks "sample k" and answers answers[k % len] (None: no boxed answer)."""
    counter = {"n": 0}

    def script(context: str, call_index: int) -> str:
        thinking = context.split(S1.think_start)[-1]
        if S1.think_end in thinking:
            k = int(re.search(r"sample (\d+)", thinking).group(1))
            answer = answers[k % len(answers)]
            return ("" if answer is None else f"The answer is \\boxed{{{answer}}}.") + "<|im_end|>"
        k = counter["n"]
        counter["n"] += 1
        return f"sample {k} " + "x" * (10 + k) + S1.think_end

    return script


def run(tokenizer, answers, budgets, questions=("What is 3+4?",), seeds=None, **settings_):
    engine = FakeEngine(tokenizer, tagged_script(answers))
    config = settings_from_kwargs(VoteConfig, settings_, method="vote")
    return engine, get_method("vote").run(engine, S1, list(questions), config, budgets=budgets, seeds=seeds)


# ---------------------------------------------------------------------------- the vote itself
def test_equivalent_answers_vote_together_and_ties_go_to_the_first_seen():
    votes = vote_prefixes(ANSWERS, "math")
    assert [v.winner for v in votes] == ["7", "7", "7", "7", "7", "8"]
    assert [v.votes for v in votes] == [1, 1, 2, 2, 2, 3]
    assert votes[-1].counts == {"7": 2.0, "8": 3.0}
    assert votes[-1].winner_index == 1 and votes[2].winner_index == 0
    assert majority_vote([None, " ", None], "math").winner is None
    assert majority_vote([], "math").winner is None
    assert majority_vote(["(B)", "A", "B"], "gpqa").winner == "(B)"


def test_weights_can_outvote_a_majority():
    assert majority_vote(["7", "8", "8"], "math", weights=[3.0, 1.0, 1.0]).winner == "7"
    assert majority_vote(["7", "8", "8"], "math", weights=[1.0, 1.0, 1.0]).winner == "8"
    with pytest.raises(ValueError):
        vote_prefixes(["7"], "math", weights=[1.0, 2.0])


# ---------------------------------------------------------------------------- the method on the fake engine
def test_maj_at_every_n_from_one_set_of_samples(tiny_tokenizer):
    engine, out = run(tiny_tokenizer, ANSWERS, None, n="6", seeds=[5])
    assert sorted(out) == [1, 2, 3, 4, 5, 6]
    think = [r for r in engine.requests if S1.think_end not in tiny_tokenizer.decode(r.context_ids)]
    assert len(think) == 6, "N samples are drawn once, not once per n"
    assert [r.seed for r in think] == [derive_seed(derive_seed(5, j), 0) for j in range(6)]
    for n, [res] in out.items():
        led = res.ledger
        assert led.method == "vote" and led.budget == n and led.extra["n"] == n
        assert led.extra["answers"] == ANSWERS[:n]
        assert led.thinking_tokens == sum(
            len(tiny_tokenizer.encode(f"sample {j} ")) + 10 + j for j in range(n)
        )
        assert len(res.extra["samples"]) == n
    six = out[6][0]
    assert six.ledger.extra["winner"] == "8" and six.ledger.extra["votes"] == 3
    assert six.ledger.extra["vote_counts"] == {"7": 2.0, "8": 3.0}
    assert six.thinking.startswith("sample 1 ") and "\\boxed{8}" in six.answer  # the first voter for 8
    assert score_sample(six.answer, six.thinking, "8", "math", six.ledger.outcome).correct
    one = out[1][0]
    assert not score_sample(one.answer, one.thinking, "8", "math", one.ledger.outcome).correct


def test_a_separate_smaller_run_gives_the_same_maj_at_n(tiny_tokenizer):
    _, big = run(tiny_tokenizer, ANSWERS, [2, 4, 6], seeds=[9])
    _, small = run(tiny_tokenizer, ANSWERS, [4], seeds=[9])
    assert big[4][0].ledger.to_dict() == small[4][0].ledger.to_dict()
    assert big[4][0].output == small[4][0].output


def test_samples_are_capped_by_budget_forcing(tiny_tokenizer):
    _, out = run(tiny_tokenizer, ANSWERS, [3], budget="12", max_answer_tokens="20")
    led = out[3][0].ledger
    assert led.extra["sample_budget"] == 12
    assert all(t <= 12 for t in led.extra["sample_thinking_tokens"])
    assert led.extra["sample_outcomes"] == ["forced", "forced", "forced"]


def test_several_questions_vote_separately(tiny_tokenizer):
    _, out = run(tiny_tokenizer, ["1", "2", "2", "3", "3", "3"], [3], questions=("a", "b"))
    assert [r.ledger.extra["winner"] for r in out[3]] == ["2", "3"]


def test_weighted_vote_through_a_registered_score(tiny_tokenizer):
    register_sample_score("prefers_seven", lambda r: 5.0 if "{7}" in r.answer else 1.0)
    _, out = run(tiny_tokenizer, ANSWERS, [6], weighting="prefers_seven")
    led = out[6][0].ledger
    assert led.extra["winner"] == "7" and led.extra["weighting"] == "prefers_seven"
    assert led.extra["weights"] == [5.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert led.extra["vote_counts"] == {"7": 6.0, "8": 3.0}


def test_bad_settings():
    with pytest.raises(ConfigError, match="temperature"):
        run_vote(
            None,
            S1,
            ["q"],
            [4],
            VoteConfig(sampling=dataclasses.replace(VoteConfig().sampling, temperature=0)),
        )
    with pytest.raises(ConfigError, match="kind"):
        VoteConfig(kind="essay")
    with pytest.raises(ConfigError, match="weighting"):
        VoteConfig(weighting="vibes")
    with pytest.raises(ConfigError, match="number of samples"):
        settings_from_kwargs(VoteConfig, {"n": "0"}, method="vote")


# ---------------------------------------------------------------------------- the tiny real model
def sampled_stop_format(engine, prompt):
    """A format whose end marker is the token the tiny model samples most at temperature 1.0."""
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


def test_vote_on_the_tiny_model_is_reproducible_and_prefix_consistent(tiny_engine):
    questions = ["What is 3+4?", "Add 1 and 2."]
    fmt = sampled_stop_format(tiny_engine, build_prompt(tiny_engine.tokenizer, S1, questions[0]))
    cfg = VoteConfig(n=4, max_thinking_tokens=16, max_answer_tokens=4, kind="integer")
    four = run_vote(tiny_engine, fmt, questions, [1, 2, 3, 4], cfg, seeds=[3, 4])
    two = run_vote(tiny_engine, fmt, questions, [2], dataclasses.replace(cfg, n=2), seeds=[3, 4])
    for q in range(2):
        assert four[2][q].ledger.to_dict() == two[2][q].ledger.to_dict()
        samples = four[4][q].extra["samples"]
        assert len(samples) == 4 and all(s.ledger.thinking_tokens <= 16 for s in samples)
        assert len({s.output for s in samples}) > 1, "seeded samples differ"
        assert four[4][q].ledger.thinking_tokens == sum(s.ledger.thinking_tokens for s in samples)
