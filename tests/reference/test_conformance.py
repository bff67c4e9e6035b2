"""s1eval's budget forcing against the s1 fork (tests/reference/s1_fork.py), token for token.

`compat="reference"`: for the cap, Wait x1/x2/x4, "none" (thinking_n_ignore without a string), "Hmm",
min_tokens_thinking and `auto`, on s1- and R1-format prompts over the tiny model, s1eval's answer contexts
(prompt + thinking start + thinking + forced tokens) and answer ids equal `fork_generate_until`'s.

Default mode (`compat="s1eval"`): every difference from the fork is a row of docs/reference-differences.md;
the tests below rebuild s1eval's answer context from the fork's thinking by applying exactly those rows.

The lm_head gets a bias on the end-of-thinking token (and on "\\n") so natural ends, cut thinkings that ended
on "stop" (the fork's no-"Final Answer:" quirk) and thinkings that end in a newline all occur.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_sweep
from s1eval.engines.base import EngineBase
from s1eval.formats import R1, S1
from tests.reference.s1_fork import fork_generate_until

torch = pytest.importorskip("torch")

QUESTIONS = ["What is 3+4?", "Add 1 and 2 and 3.", "Compute 12*7 step by step.", "Hi", "Count to five."]
GREEDY = {"until": [], "do_sample": False, "temperature": 0}
ANSWER = 6  # max_gen_toks / max_answer_tokens (auto raises it)
MAX_LENGTH = 4096  # the tiny model's max positions = the fork's max_length / max_model_len
FORK_KW = {  # the fork's gen_kwargs for each format (S1: its defaults)
    "s1": {},
    "r1": {"thinking_start": "<think>\n", "thinking_end": "</think>", "until_thinking": "</think>"},
}
FORMATS = {"s1": S1, "r1": R1}
END = {"s1": "<|im_start|>", "r1": "</think>"}
BIASES = {"end": {"end": 6.0}, "end+nl": {"end": 6.0, "\n": 7.0}}

# name -> (fork gen_kwargs, s1eval settings, budgets)
CASES = {
    "cap": ({}, {}, [5, 16]),
    "wait1": ({"thinking_n_ignore": 1, "thinking_n_ignore_str": "Wait"}, {"num_extensions": 1}, [16]),
    "wait2": ({"thinking_n_ignore": 2, "thinking_n_ignore_str": "Wait"}, {"num_extensions": 2}, [5, 16]),
    "wait4": ({"thinking_n_ignore": 4, "thinking_n_ignore_str": "Wait"}, {"num_extensions": 4}, [16]),
    "none2": ({"thinking_n_ignore": 2}, {"num_extensions": 2, "extension_strings": ("",)}, [16]),
    "hmm2": (
        {"thinking_n_ignore": 2, "thinking_n_ignore_str": "Hmm"},
        {"num_extensions": 2, "extension_strings": ("Hmm",)},
        [16],
    ),
    "min_tokens": ({"min_tokens_thinking": 6}, {"min_thinking_tokens": 6}, [16]),
    "auto": ({}, {}, ["auto"]),
    "auto_wait2": (
        {"thinking_n_ignore": 2, "thinking_n_ignore_str": "Wait"},
        {"num_extensions": 2},
        ["auto"],
    ),
}
SEEN: Counter = Counter()  # what the fork runs exercised (checked by test_the_cases_cover_the_fork_paths)


@pytest.fixture(scope="module")
def biased(lm):
    """biased({token: bias}) -> a copy of the model whose lm_head adds those biases (cached)."""
    model, tok = lm
    made: dict = {}

    def make(bias: dict[str, float]):
        key = tuple(sorted(bias.items()))
        if key not in made:
            m = copy.deepcopy(model)
            head = torch.nn.Linear(m.lm_head.in_features, m.lm_head.out_features, bias=True)
            with torch.no_grad():
                head.weight.copy_(m.lm_head.weight)
                head.bias.zero_()
                for token, value in bias.items():
                    [tid] = tok(token, add_special_tokens=False).input_ids
                    head.bias[tid] = value
            m.lm_head = head
            made[key] = m.eval()
        return made[key]

    return make


class Recorder(EngineBase):
    """An engine wrapper that logs every (request, result) pair (and hides the hf engine's own driver)."""

    def __init__(self, engine):
        self.inner = engine
        self.name, self.model_id, self.tokenizer = engine.name, engine.model_id, engine.tokenizer
        self.model = engine.model
        self.max_batch_size = engine.max_batch_size
        self.log: list = []

    def generate(self, requests):
        results = self.inner.generate(requests)
        self.log += list(zip(requests, results, strict=True))
        return results

    def describe(self):
        return self.inner.describe()

    def release(self):
        self.inner.release()


def engine_for(model, tok) -> Recorder:
    from s1eval.engines.hf import HFEngine

    return Recorder(HFEngine(model, tok, batch_size=8))


def contexts(tok) -> list[str]:
    return [
        tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
        for q in QUESTIONS
    ]


def enc(tok, s: str) -> list[int]:
    return tok(s, add_special_tokens=False).input_ids


def answers_by_key(engine: Recorder) -> dict:
    """The last request of each cache key is its answer phase: key -> (context ids, answer ids as vLLM's)."""
    last = {}
    for req, res in engine.log:
        last[req.cache_key] = (req, res)
    out = {}
    for key, (req, res) in last.items():
        ids = list(res.token_ids) + ([res.stop_token] if res.stop_reason == "stop_token" else [])
        out[key] = (list(req.context_ids), ids)
    return out


def auto_answer_limit(tok, fmt_name: str, target: int) -> int:
    """A max_gen_toks for which the fork's auto budget (L264) comes out at `target` thinking tokens."""
    kw = FORK_KW[fmt_name]
    start = kw.get("thinking_start", "<|im_start|>think")
    end_max = kw.get("thinking_end", "<|im_start|>answer") + "\nFinal Answer:"
    longest = max(len(enc(tok, c)) for c in contexts(tok))
    return target + longest + len(enc(tok, start)) + len(enc(tok, end_max)) + 100


def note(fork_results, budget, tok) -> None:
    for r in fork_results:
        SEEN[r.thinking_finish_reason] += 1
        if r.thinking_finish_reason == "stop" and "Final Answer:" not in tok.decode(r.answer_context_ids):
            SEEN["natural_or_cut_stop"] += 1
        if isinstance(budget, int) and r.thinking_finish_reason == "stop" and len(r.thinking_ids) == budget:
            SEEN["cut_stop_quirk"] += 1
        if r.thinking_finish_reason == "length":
            ends_nl = tok.decode(r.thinking_ids).endswith("\n")
            SEEN["cap_after_newline" if ends_nl else "cap_newline_added"] += 1


# ----------------------------------------------------------------------------------- compat="reference"
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("bias", list(BIASES))
@pytest.mark.parametrize("fmt_name", ["s1", "r1"])
def test_reference_mode_is_token_identical_to_the_fork(lm, biased, fmt_name, bias, case):
    _, tok = lm
    fmt = FORMATS[fmt_name]
    model = biased({END[fmt_name] if k == "end" else k: v for k, v in BIASES[bias].items()})
    fork_kw, settings, budgets = CASES[case]
    ctxs = contexts(tok)
    answer = auto_answer_limit(tok, fmt_name, 12) if "auto" in budgets else ANSWER
    engine = engine_for(model, tok)
    cfg = BudgetForcingConfig(
        max_thinking_tokens=budgets[0], max_answer_tokens=answer, compat="reference", **settings
    )
    ours = run_budget_sweep(engine, fmt, [c + fmt.think_start for c in ctxs], budgets, cfg)
    got = answers_by_key(engine)
    for budget in budgets:
        gen_kwargs = {**GREEDY, **FORK_KW[fmt_name], **fork_kw, "max_gen_toks": answer}
        gen_kwargs["max_tokens_thinking"] = budget
        fork = fork_generate_until(model, tok, ctxs, gen_kwargs, max_length=MAX_LENGTH)
        note(fork, budget, tok)
        keys = [k for k in got if k.rsplit("-", 2)[-2] == str(budget)]
        keys.sort(key=lambda k: int(k.rsplit("-", 1)[-1]))
        assert len(keys) == len(ctxs)
        for i, (key, f) in enumerate(zip(keys, fork, strict=True)):
            context, answer_ids = got[key]
            assert context == f.answer_context_ids, (
                budget,
                i,
                tok.decode(context),
                tok.decode(f.answer_context_ids),
            )
            assert answer_ids == f.answer_ids, (budget, i)
            res = ours[budget][i]
            assert res.ledger.to_dict()["compat"] == "reference"
            if budget == "auto":  # the ledger holds the number auto came to
                assert res.ledger.budget == 12 and res.ledger.to_dict()["budget_setting"] == "auto"
            # the fork's accounting: generated + forced extension tokens within the budget
            think = [r for r in res.ledger.rounds if r.phase == "think"]
            ext_forced = sum(r.forced_tokens for r in think[:-1])
            assert res.ledger.thinking_tokens + ext_forced <= res.ledger.budget


def test_the_cases_cover_the_fork_paths():
    """The parametrized runs above took every branch of the fork's thinking phase."""
    if not SEEN:
        pytest.skip("runs after test_reference_mode_is_token_identical_to_the_fork")
    paths = (
        "length",
        "stop",
        "natural_or_cut_stop",
        "cut_stop_quirk",
        "cap_after_newline",
        "cap_newline_added",
    )
    for what in paths:
        assert SEEN[what] > 0, (what, SEEN)


# ----------------------------------------------------------------------------------- default mode
@pytest.mark.parametrize("bias", list(BIASES))
@pytest.mark.parametrize("fmt_name", ["s1", "r1"])
def test_default_mode_differs_only_by_the_documented_rows(lm, biased, fmt_name, bias):
    """Cap-only runs (no extension: budget accounting and min_tokens do not come in). The fork is given
    s1eval's thinking start (row "thinking start"); the rest of the context differs only by the delimiter
    rows (newline at the cap, full think_end, R1 newline not doubled)."""
    _, tok = lm
    fmt = FORMATS[fmt_name]
    model = biased({END[fmt_name] if k == "end" else k: v for k, v in BIASES[bias].items()})
    ctxs = contexts(tok)
    engine = engine_for(model, tok)
    cfg = BudgetForcingConfig(max_thinking_tokens=16, max_answer_tokens=ANSWER)
    for budget in (5, 16):
        engine.log.clear()
        run_budget_sweep(engine, fmt, [c + fmt.think_start for c in ctxs], [budget], cfg)
        got = answers_by_key(engine)
        keys = sorted(got, key=lambda k: int(k.rsplit("-", 1)[-1]))
        gen_kwargs = {
            **GREEDY,
            **FORK_KW[fmt_name],
            "thinking_start": fmt.think_start,
            "max_gen_toks": ANSWER,
        }
        gen_kwargs["max_tokens_thinking"] = budget
        fork = fork_generate_until(model, tok, ctxs, gen_kwargs, max_length=MAX_LENGTH)
        for key, c, f in zip(keys, ctxs, fork, strict=True):
            prompt_ids = enc(tok, c) + enc(tok, fmt.think_start)
            thinking = strip_until(f.thinking_ids, tok, fmt_name)
            ends_nl = tok.decode(prompt_ids + thinking).endswith("\n")
            end = fmt.think_end.lstrip("\n")
            if f.thinking_finish_reason == "length":
                forced = ("" if ends_nl else "\n") + end + fmt.answer_prefix
            elif fmt.think_end.startswith("\n"):
                forced = ("" if ends_nl else "\n") + end
            else:
                forced = fmt.think_end
            context, _ = got[key]
            assert context == prompt_ids + thinking + enc(tok, forced), (tok.decode(context), forced)


def strip_until(ids: list[int], tok, fmt_name: str) -> list[int]:
    ids = list(ids)
    for text in (END[fmt_name], tok.eos_token):
        [t] = enc(tok, text)
        if ids[-1:] == [t]:
            ids = ids[:-1]
    return ids


def test_default_mode_extensions_keep_forced_tokens_outside_the_budget(lm, biased):
    """Row "budget accounting": s1eval counts generated tokens only, so a Wait run thinks the full budget
    and more context than the fork, which counts "Wait" and cuts every round's ids to the budget."""
    _, tok = lm
    model = biased({"<|im_start|>": 6.0})
    ctxs = contexts(tok)
    prompts = [c + S1.think_start for c in ctxs]
    default = run_budget_sweep(
        engine_for(model, tok),
        S1,
        prompts,
        [16],
        BudgetForcingConfig(16, num_extensions=2, max_answer_tokens=ANSWER),
    )[16]
    for r in default:
        think = [x for x in r.ledger.rounds if x.phase == "think"]
        assert r.ledger.thinking_tokens <= 16
        assert r.ledger.forced_tokens == sum(x.forced_tokens for x in r.ledger.rounds)
        assert all(x.generated >= 1 for x in think[1:])  # min 1 token after every forced extension
    assert any(r.ledger.extensions > 0 for r in default)


def test_min_thinking_tokens_terminates_when_the_model_ends_after_every_wait(lm, biased):
    """Issue 17, 3: a model that ends its thinking right after every "Wait" (and at once) used to be forced
    "Wait" without limit. min_thinking_tokens is vLLM's min_tokens now: bounded engine calls."""
    _, tok = lm
    model = biased({"<|im_start|>": 1e4})
    prompts = [c + S1.think_start for c in contexts(tok)[:3]]
    engine = engine_for(model, tok)
    cfg = BudgetForcingConfig(64, num_extensions=3, min_thinking_tokens=20, max_answer_tokens=4)
    results = run_budget_sweep(engine, S1, prompts, [64], cfg)[64]
    calls = Counter(req.cache_key for req, _ in engine.log)
    assert max(calls.values()) <= 1 + 3 + 1  # first round, one per extension, the answer
    for r in results:
        think = [x for x in r.ledger.rounds if x.phase == "think"]
        assert r.ledger.extensions == 3
        assert think[0].generated == 20  # masked until the minimum, then the delimiter comes at once
        assert [x.generated for x in think[1:]] == [1, 1, 1]  # min 1 token after each Wait, not 0


def test_default_auto_budget_is_the_context_length_minus_prompt_forced_text_and_answer(lm, biased):
    _, tok = lm
    model = biased({"<|im_start|>": 1e4})  # ends the thinking at once: a 4000-token budget costs nothing
    prompts = [c + S1.think_start for c in contexts(tok)[:2]]
    engine = engine_for(model, tok)
    cfg = BudgetForcingConfig("auto", max_answer_tokens=10)
    results = run_budget_sweep(engine, S1, prompts, ["auto"], cfg)["auto"]
    forced = len(enc(tok, "\n" + S1.think_end + S1.answer_prefix))
    for p, r in zip(prompts, results, strict=True):
        assert r.ledger.budget == MAX_LENGTH - len(enc(tok, p)) - forced - 10
        assert r.ledger.to_dict()["budget_setting"] == "auto"
