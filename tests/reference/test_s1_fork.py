"""Self-checks of the s1 fork transcription (tests/reference/s1_fork.py) on the tiny random model.

The vLLM shim is checked against a plain no-cache argmax loop and against the vLLM semantics its docstring
lists; the fork's budget forcing against token sequences built by hand from its source. Where a random model
would rarely do what a check needs (stop right away, end in a newline), the model's lm_head gets a bias on one
token, so the outcome is certain.
"""

from __future__ import annotations

import copy

import pytest

from tests.reference.s1_fork import (
    ForkVLLM,
    Instance,
    SamplingParams,
    TransformersLLM,
    _IncrementalDetokenizer,
    fork_generate_until,
)

torch = pytest.importorskip("torch")

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
THINK_START = "<|im_start|>think"
THINK_END = "<|im_start|>answer"
THINK_END_MAX = "<|im_start|>answer\nFinal Answer:"
# what the s1 tasks' yaml passes (eval/lm-evaluation-harness/lm_eval/tasks/aime/aime24_nofigures.yaml)
GREEDY = {"until": [], "do_sample": False, "temperature": 0}
# the thinking phase's vLLM settings that the fork's modify_gen_kwargs adds
DETOK = {"skip_special_tokens": False, "spaces_between_special_tokens": False}


@pytest.fixture(scope="module")
def biased(lm):
    """biased(token) -> a copy of the model whose lm_head favours `token` by a wide margin (cached)."""
    model, tok = lm
    made = {}

    def make(token: str):
        if token not in made:
            [tid] = tok(token, add_special_tokens=False).input_ids
            m = copy.deepcopy(model)
            head = torch.nn.Linear(m.lm_head.in_features, m.lm_head.out_features, bias=True)
            with torch.no_grad():
                head.weight.copy_(m.lm_head.weight)
                head.bias.zero_()
                head.bias[tid] = 1e4
            m.lm_head = head
            made[token] = m.eval()
        return made[token]

    return make


def chat(tok, question: str) -> str:
    return tok.apply_chat_template(
        [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
    )


def enc(tok, s: str) -> list[int]:
    return tok(s, add_special_tokens=False).input_ids


def greedy(**kw) -> SamplingParams:
    return SamplingParams(temperature=0, **kw)


def pieces(tok, prompt: list[int], ids: list[int]) -> list[str]:
    """The text vLLM's detokenizer adds for each of `ids` after `prompt`."""
    d = _IncrementalDetokenizer(tok, prompt, greedy(**DETOK))
    return [d.decode_next(t) for t in ids]


def strip_until(ids: list[int], until_ids: list[list[int]]) -> list[int]:
    for toks in until_ids:
        if ids[-len(toks) :] == toks:
            ids = ids[: -len(toks)]
    return ids


# ---------------------------------------------------------------------------------------------- vLLM shim


@pytest.fixture(scope="module")
def prompt(lm):
    model, tok = lm
    return enc(tok, chat(tok, "What is 3+4?")) + enc(tok, THINK_START)


@pytest.fixture(scope="module")
def ref(lm, prompt):
    """16 greedy tokens from the unbiased model, no stops (ignore_eos)."""
    model, tok = lm
    llm = TransformersLLM(model, tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=16, ignore_eos=True, **DETOK))
    assert o.outputs[0].finish_reason == "length" and len(o.outputs[0].token_ids) == 16
    return o.outputs[0]


def test_greedy_with_kv_cache_matches_a_plain_argmax_loop(lm, prompt, ref):
    model, _ = lm
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(16):
            ids.append(int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax()))
    assert ref.token_ids == ids[len(prompt) :]


def _first_new(ids: list[int], start: int = 2) -> int:
    """The first position >= start whose token did not occur before it (so stopping on it stops there)."""
    return next(k for k in range(start, len(ids)) if ids[k] not in ids[:k])


@pytest.fixture(autouse=True)
def _no_eos_in_ref(request):
    """The shim tests below stop on ref's tokens without ignore_eos: ref must not hold the EOS."""
    if "ref" in request.fixturenames:
        _, tok = request.getfixturevalue("lm")
        assert tok.eos_token_id not in request.getfixturevalue("ref").token_ids


def test_stop_token_id_is_in_token_ids_not_in_text(lm, prompt, ref):
    model, tok = lm
    k = _first_new(ref.token_ids)
    stop = ref.token_ids[k]
    [o] = TransformersLLM(model, tok, max_model_len=4096).generate(
        [prompt], greedy(max_tokens=16, stop_token_ids=[stop], **DETOK)
    )
    out = o.outputs[0]
    assert out.token_ids == ref.token_ids[: k + 1]
    assert (out.finish_reason, out.stop_reason) == ("stop", stop)
    assert out.text == "".join(pieces(tok, prompt, ref.token_ids)[:k])


def test_generation_config_eos_ids_stop_unless_ignore_eos(lm, prompt, ref, monkeypatch):
    model, tok = lm
    k = _first_new(ref.token_ids)
    eos_extra = ref.token_ids[k]
    monkeypatch.setattr(model.generation_config, "eos_token_id", [tok.eos_token_id, eos_extra])
    llm = TransformersLLM(model, tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=16, **DETOK))
    assert o.outputs[0].token_ids == ref.token_ids[: k + 1]
    assert o.outputs[0].finish_reason == "stop"
    assert o.outputs[0].text == "".join(pieces(tok, prompt, ref.token_ids)[:k])
    [o] = llm.generate([prompt], greedy(max_tokens=16, ignore_eos=True, **DETOK))
    assert o.outputs[0].token_ids == ref.token_ids


def test_tokenizer_eos_stops_and_is_left_out_of_the_text(lm, biased, prompt):
    _, tok = lm
    llm = TransformersLLM(biased(IM_END), tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=8, **DETOK))
    assert o.outputs[0].token_ids == [tok.eos_token_id]
    assert (o.outputs[0].text, o.outputs[0].finish_reason) == ("", "stop")


def test_stop_string_cuts_the_text_and_keeps_every_token(lm, prompt, ref):
    model, tok = lm
    ps = pieces(tok, prompt, ref.token_ids)
    full = "".join(ps)
    llm = TransformersLLM(model, tok, max_model_len=4096)
    # a stop string that is one token's text, and one that spans two tokens' texts
    cases = []
    for k in range(1, 16):
        before = "".join(ps[:k])
        if ps[k] and full.find(ps[k]) == len(before):
            cases.append((ps[k], k, before))
            break
    for k in range(1, 16):
        before = "".join(ps[:k])
        span = before[-1:] + ps[k][:1]
        if len(span) == 2 and full.find(span) == len(before) - 1:
            cases.append((span, k, before[:-1]))
            break
    assert len(cases) == 2, "no usable stop strings in the reference output"
    for stop, k, text in cases:
        [o] = llm.generate([prompt], greedy(max_tokens=16, stop=[stop], **DETOK))
        out = o.outputs[0]
        assert out.token_ids == ref.token_ids[: k + 1], stop
        assert (out.text, out.finish_reason, out.stop_reason) == (text, "stop", stop)


def test_min_tokens_masks_stop_token_ids_and_eos(lm, biased, prompt):
    _, tok = lm
    [start], [eos] = enc(tok, IM_START), enc(tok, IM_END)
    llm = TransformersLLM(biased(IM_START), tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=8, stop_token_ids=[start], **DETOK))
    assert (o.outputs[0].token_ids, o.outputs[0].text, o.outputs[0].finish_reason) == ([start], "", "stop")
    [o] = llm.generate([prompt], greedy(max_tokens=8, min_tokens=3, stop_token_ids=[start], **DETOK))
    ids = o.outputs[0].token_ids
    assert len(ids) == 4 and ids[-1] == start and not {start, eos} & set(ids[:3])
    assert o.outputs[0].text == "".join(pieces(tok, prompt, ids[:3]))
    # EOS is masked too
    llm = TransformersLLM(biased(IM_END), tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=8, min_tokens=2, **DETOK))
    ids = o.outputs[0].token_ids
    assert len(ids) == 3 and ids[-1] == eos and eos not in ids[:2] and IM_END not in o.outputs[0].text


def test_min_tokens_does_not_mask_stop_strings_but_defers_them(lm, biased, prompt):
    """vLLM v1 (PR #22014): the string may be generated, it only stops once more than min_tokens were made."""
    _, tok = lm
    [start] = enc(tok, IM_START)
    llm = TransformersLLM(biased(IM_START), tok, max_model_len=4096)
    [o] = llm.generate([prompt], greedy(max_tokens=8, min_tokens=2, stop=[IM_START], **DETOK))
    assert o.outputs[0].token_ids == [start] * 3
    assert (o.outputs[0].text, o.outputs[0].finish_reason) == (IM_START * 2, "stop")


def test_length_at_max_tokens_and_at_max_model_len(lm, prompt, ref):
    model, tok = lm
    [o] = TransformersLLM(model, tok, max_model_len=4096).generate([prompt], greedy(max_tokens=5, **DETOK))
    assert (o.outputs[0].token_ids, o.outputs[0].finish_reason) == (ref.token_ids[:5], "length")
    llm = TransformersLLM(model, tok, max_model_len=len(prompt) + 3)
    [o] = llm.generate([prompt], greedy(max_tokens=10, **DETOK))
    assert (o.outputs[0].token_ids, o.outputs[0].finish_reason) == (ref.token_ids[:3], "length")
    with pytest.raises(ValueError, match="longer than the maximum model length"):
        TransformersLLM(model, tok, max_model_len=len(prompt) - 1).generate([prompt], greedy(max_tokens=2))


def test_sampling_params_checks_like_vllm():
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        greedy(max_tokens=0)
    with pytest.raises(ValueError, match="min_tokens must be less than or equal"):
        greedy(max_tokens=2, min_tokens=3)
    with pytest.raises(ValueError, match="empty string"):
        greedy(stop=[""])
    with pytest.raises(NotImplementedError, match="greedily"):
        SamplingParams(max_tokens=4)  # vLLM's default temperature is 1.0
    p = greedy(stop="x", stop_token_ids=[3, 3, 1])
    assert (p.stop, p.stop_token_ids) == (["x"], [3, 1])


# ---------------------------------------------------------------------------------------------- the fork


@pytest.fixture(scope="module")
def ctx(lm):
    _, tok = lm
    return chat(tok, "Hi")


def run_fork(model, tok, contexts, gen_kwargs, max_length=4096):
    fork = ForkVLLM(model, tok, max_length=max_length)
    fork.generate_until([Instance(args=(c, gen_kwargs)) for c in contexts])
    return fork.last_results, fork.model.calls


def test_tok_encode_adds_no_special_tokens(lm):
    model, tok = lm
    fork = ForkVLLM(model, tok, max_length=4096)
    assert fork.tok_encode(THINK_START) == enc(tok, THINK_START) == enc(tok, IM_START) + enc(tok, "think")
    assert fork.tok_encode(("\n", "Wait")) == [enc(tok, "\n"), enc(tok, "Wait")]


def test_plain_path_conditions_on_the_prompt_and_stops_at_eos_string(lm, ctx):
    model, tok = lm
    [r], calls = run_fork(model, tok, [ctx], {**GREEDY, "max_gen_toks": 6})
    p = enc(tok, ctx)
    assert r.answer_context_ids == p and r.thinking_text == "" and r.thinking_ids == []
    [(_, params)] = calls
    assert (params.max_tokens, params.stop, params.stop_token_ids) == (6, [IM_END], [])
    [o] = TransformersLLM(model, tok, max_model_len=4096).generate(
        [p], greedy(max_tokens=6, stop=[IM_END], **DETOK)
    )
    assert r.answer_ids == o.outputs[0].token_ids and r.answer_text == o.outputs[0].text


def test_context_is_left_truncated_to_max_length_minus_max_gen_toks(lm, ctx):
    model, tok = lm
    [r], _ = run_fork(model, tok, [ctx], {**GREEDY, "max_gen_toks": 4}, max_length=30)
    assert r.answer_context_ids == enc(tok, ctx)[-26:]


def test_results_come_back_in_input_order(lm):
    model, tok = lm
    contexts = [
        chat(tok, "Hi"),
        chat(tok, "Compute the sum of 1 and 2 and 3 please, step by step."),
        chat(tok, "12"),
    ]
    results = fork_generate_until(model, tok, contexts, {**GREEDY, "max_gen_toks": 2}, max_length=4096)
    for c, r in zip(contexts, results, strict=True):
        assert r.answer_context_ids == enc(tok, c)


# (a) the cap: "\n" (unless the text already ends in one) then "<|im_start|>answer\nFinal Answer:"


def test_cap_appends_newline_then_final_answer(lm, ctx):
    model, tok = lm
    budget = 6
    [r], calls = run_fork(model, tok, [ctx], {**GREEDY, "max_gen_toks": 8, "max_tokens_thinking": budget})
    p = enc(tok, ctx) + enc(tok, THINK_START)
    # the thinking call: stop strings (no min_tokens), max_tokens = the budget
    (thinking_prompts, tp), (answer_prompts, ap) = calls
    assert thinking_prompts == [p]
    assert (tp.max_tokens, tp.stop, tp.stop_token_ids, tp.min_tokens) == (budget, [IM_START, IM_END], [], 0)
    [o] = TransformersLLM(model, tok, max_model_len=4096).generate([p], tp)
    think = o.outputs[0]
    assert think.finish_reason == "length" and not think.text.endswith("\n"), (
        "precondition: pick another prompt"
    )
    assert r.thinking_ids == think.token_ids and len(r.thinking_ids) == budget
    assert r.answer_context_ids == p + think.token_ids + enc(tok, "\n") + enc(tok, THINK_END_MAX)
    assert r.thinking_text == THINK_START + think.text + "\n" + THINK_END_MAX
    assert tok.decode(r.answer_context_ids[len(p) + budget :]) == "\n" + THINK_END_MAX
    # the answer phase: conditioned on that, max_gen_toks, until + EOS string; lm-eval's response is both texts
    assert answer_prompts == [r.answer_context_ids] and (ap.max_tokens, ap.stop) == (8, [IM_END])
    assert r.answer_text == r.thinking_text + r.answer_phase_text


def test_cap_adds_no_newline_when_the_thinking_ends_in_one(lm, biased, ctx):
    _, tok = lm
    [r], _ = run_fork(biased("\n"), tok, [ctx], {**GREEDY, "max_gen_toks": 2, "max_tokens_thinking": 4})
    nl = enc(tok, "\n")
    assert r.thinking_ids == nl * 4 and r.thinking_finish_reason == "length"
    assert r.answer_context_ids == enc(tok, ctx) + enc(tok, THINK_START) + nl * 4 + enc(tok, THINK_END_MAX)
    assert r.thinking_text == THINK_START + "\n" * 4 + THINK_END_MAX


def test_thinking_that_stops_in_time_gets_thinking_end_only(lm, biased, ctx):
    _, tok = lm
    [r], _ = run_fork(biased(IM_START), tok, [ctx], {**GREEDY, "max_gen_toks": 2, "max_tokens_thinking": 8})
    # "<|im_start|>" stops (a stop string here), is in token_ids, is stripped, and thinking_end follows
    assert r.thinking_ids == enc(tok, IM_START) and r.thinking_finish_reason == "stop"
    assert r.answer_context_ids == enc(tok, ctx) + enc(tok, THINK_START) + enc(tok, THINK_END)
    assert r.thinking_text == THINK_START + THINK_END


# (b) thinking_n_ignore / thinking_n_ignore_str


@pytest.mark.parametrize("n_ignore", [1, 2])
def test_ignore_appends_wait_and_the_next_round_makes_at_least_one_token(lm, biased, ctx, n_ignore):
    _, tok = lm
    model = biased(IM_START)  # every round: one token (min_tokens=1 masks the stop), then "<|im_start|>"
    gen_kwargs = {
        **GREEDY,
        "max_gen_toks": 2,
        "max_tokens_thinking": 20,
        "thinking_n_ignore": n_ignore,
        "thinking_n_ignore_str": "Wait",
    }
    [r], calls = run_fork(model, tok, [ctx], gen_kwargs)
    p = enc(tok, ctx) + enc(tok, THINK_START)
    wait, [start], [eos] = enc(tok, "Wait"), enc(tok, IM_START), enc(tok, IM_END)
    thinking_calls = calls[:-1]
    assert len(thinking_calls) == n_ignore + 1
    for _, params in thinking_calls:  # the same params every round
        assert (params.max_tokens, params.min_tokens, params.stop_token_ids, params.stop) == (
            20,
            1,
            [start, eos],
            [],
        )
    replay = TransformersLLM(model, tok, max_model_len=4096)
    rounds = [replay.generate(q, params)[0] for q, params in thinking_calls]
    expected_ctx, expected_text = list(p), THINK_START
    for i, ((prompts, _), o) in enumerate(zip(thinking_calls, rounds, strict=True)):
        assert prompts == [expected_ctx]
        ids = o.outputs[0].token_ids
        assert len(ids) == 2 and ids[-1] == start and ids[0] not in (start, eos)  # >= 1 token, then the stop
        expected_ctx = expected_ctx + ids[:1] + (wait if i < n_ignore else [])
        expected_text += o.outputs[0].text + ("Wait" if i < n_ignore else "")
    assert r.answer_context_ids == expected_ctx + enc(tok, THINK_END)
    assert r.thinking_text == expected_text + THINK_END and r.thinking_text.count("Wait") == n_ignore
    assert calls[-1][0] == [r.answer_context_ids]


# (c) max_tokens_thinking="auto"


def test_auto_budget_is_max_gen_toks_minus_longest_prompt_minus_delimiters_minus_100(lm, biased):
    _, tok = lm
    contexts = [chat(tok, "Hi"), chat(tok, "Compute the sum of 1 and 2 and 3 please, step by step.")]
    longest = max(len(enc(tok, c)) for c in contexts)
    assert longest > min(len(enc(tok, c)) for c in contexts)
    max_gen_toks = longest + 150
    expected = max_gen_toks - longest - len(enc(tok, THINK_START)) - len(enc(tok, THINK_END_MAX)) - 100
    assert expected == 150 - 2 - 9 - 100
    gen_kwargs = {**GREEDY, "max_gen_toks": max_gen_toks, "max_tokens_thinking": "auto"}
    # the EOS-biased model stops every phase at once: only the budget the fork computed matters here
    _, calls = run_fork(biased(IM_END), tok, contexts, gen_kwargs)
    assert [params.max_tokens for _, params in calls] == [expected, max_gen_toks]
    too_small = {**gen_kwargs, "max_gen_toks": longest + 2 + 9 + 100}  # auto budget 0: vLLM rejects it
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        run_fork(biased(IM_END), tok, contexts, too_small)


# (d) the fork's cut: thinking token_ids never exceed max_tokens_thinking


def test_cut_keeps_ids_within_budget_but_not_the_text(lm, biased, ctx):
    _, tok = lm
    gen_kwargs = {
        **GREEDY,
        "max_gen_toks": 2,
        "max_tokens_thinking": 3,
        "thinking_n_ignore": 1,
        "thinking_n_ignore_str": "Wait",
    }
    [r], calls = run_fork(biased(IM_START), tok, [ctx], gen_kwargs)
    wait = enc(tok, "Wait")
    assert len(wait) == 2
    # rounds: [x1, <|im_start|>] -> x1 + Wait; [x2, <|im_start|>] -> 5 ids, cut to 3 = x1 + Wait
    x1 = r.thinking_ids[0]
    assert r.thinking_ids == [x1, *wait] and r.thinking_finish_reason == "stop"
    # finish_reason is the last round's "stop", so thinking_end (no "Final Answer:") follows the cut ids
    assert r.answer_context_ids == enc(tok, ctx) + enc(tok, THINK_START) + [x1, *wait] + enc(tok, THINK_END)
    # the text is not cut: it still holds the second round
    second_round_prompt = calls[1][0][0]
    [o] = TransformersLLM(biased(IM_START), tok, max_model_len=4096).generate(
        [second_round_prompt], calls[1][1]
    )
    x2_text = o.outputs[0].text
    assert r.thinking_text.endswith("Wait" + x2_text + THINK_END)


@pytest.mark.parametrize("bias", [None, IM_START])
@pytest.mark.parametrize("n_ignore", [None, 1, 2])
def test_thinking_ids_never_exceed_the_budget(lm, biased, ctx, bias, n_ignore):
    model, tok = lm
    model = biased(bias) if bias else model
    p = enc(tok, ctx) + enc(tok, THINK_START)
    until_ids = [enc(tok, IM_START), enc(tok, IM_END)]
    for budget in (2, 4, 7):  # budget 1: see test_empty_thinking_text_at_the_cap_is_an_index_error
        gen_kwargs = {**GREEDY, "max_gen_toks": 1, "max_tokens_thinking": budget}
        if n_ignore is not None:
            gen_kwargs |= {"thinking_n_ignore": n_ignore, "thinking_n_ignore_str": "Wait"}
        [r], _ = run_fork(model, tok, [ctx], gen_kwargs)
        assert len(r.thinking_ids) <= budget
        cont = strip_until(r.thinking_ids, until_ids)
        assert r.answer_context_ids[: len(p) + len(cont)] == p + cont
        tail = r.answer_context_ids[len(p) + len(cont) :]
        assert tail in (
            enc(tok, THINK_END),
            enc(tok, THINK_END_MAX),
            enc(tok, "\n") + enc(tok, THINK_END_MAX),
        )
        assert (tail == enc(tok, THINK_END)) == (r.thinking_finish_reason == "stop")


def test_empty_thinking_text_at_the_cap_is_an_index_error(lm, ctx):
    """The fork reads `text[-1]` (L404): a capped thinking whose text is empty crashes it. Here the one
    thinking token is an incomplete UTF-8 byte, which vLLM's detokenizer holds back, so the text is ""."""
    model, tok = lm
    p = enc(tok, ctx) + enc(tok, THINK_START)
    [o] = TransformersLLM(model, tok, max_model_len=4096).generate([p], greedy(max_tokens=1, **DETOK))
    assert (o.outputs[0].text, o.outputs[0].finish_reason) == ("", "length"), (
        "precondition: pick another prompt"
    )
    with pytest.raises(IndexError):
        run_fork(model, tok, [ctx], {**GREEDY, "max_gen_toks": 1, "max_tokens_thinking": 1})


def test_sampling_kwargs_are_required_to_be_greedy(lm, ctx):
    model, tok = lm
    with pytest.raises(NotImplementedError, match="temperature=1.0"):
        run_fork(model, tok, [ctx], {"until": [], "max_gen_toks": 2})
    with pytest.raises(NotImplementedError, match="rejection"):
        run_fork(
            model,
            tok,
            [ctx],
            {**GREEDY, "max_gen_toks": 2, "max_tokens_thinking": 3, "rejection_sample": True},
        )
