"""The openai engine against a vLLM-shaped server on 127.0.0.1 backed by the real tiny model.

Budget forcing through HTTP must give exactly what the hf engine gives in-process (token-id prompts and
returned token ids make it exact); injected 429/5xx/slow/dropped replies are retried and change nothing;
bad input (unreachable URL, wrong model, missing server options, wrong key) fails with one line naming the fix.
"""

from __future__ import annotations

import socket

import pytest
from fake_server import FAULT_KINDS, FakeVLLMServer, FaultPlan

from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.control.methods import get_method
from s1eval.engines import create_engine
from s1eval.engines.base import EngineError, GenerationRequest, SamplingParams
from s1eval.engines.openai import OpenAIEngine
from s1eval.formats.base import S1

QUESTIONS = ["What is 3 + 4?", "What is 1 + 2?", "Add 5 and 6.", "What is 7 + 8?"]
CONFIG = BudgetForcingConfig(max_thinking_tokens=24, num_extensions=2, max_answer_tokens=10)
BUDGETS = [12, 24]


def _bf(engine, questions=QUESTIONS, config=CONFIG, seeds=None):
    out = get_method("bf").run(engine, S1, questions, config, budgets=BUDGETS, seeds=seeds)
    return {b: [(r.output, r.ledger.to_dict()) for r in rs] for b, rs in out.items()}


@pytest.fixture(scope="module")
def hf_reference(tiny_engine):
    return _bf(tiny_engine)


def _engine(url, tokenizer, **kw):
    kw.setdefault("max_retries", 8)
    kw.setdefault("backoff", 0.01)
    return OpenAIEngine("tiny", url, tokenizer=tokenizer, **kw)


def test_bf_over_http_equals_hf(tiny_engine, hf_reference):
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        eng = _engine(srv.base_url, tiny_engine.tokenizer, max_concurrency=4)
        assert eng.server == "vllm" and eng.prompt_as_ids
        got = _bf(eng)
        body = srv.bodies[0]
    assert got == hf_reference
    assert (
        isinstance(body["prompt"], list) and body["ignore_eos"] is True and body["return_token_ids"] is True
    )
    assert eng.stats["token_count_mismatches"] == 0 and eng.stats["retries"] == 0


def test_sampled_bf_with_seeds_equals_hf(tiny_engine):
    config = BudgetForcingConfig(
        max_thinking_tokens=16,
        num_extensions=1,
        max_answer_tokens=6,
        sampling=SamplingParams(temperature=0.8),
    )
    seeds = [11, 12]
    want = _bf(tiny_engine, QUESTIONS[:2], config, seeds)
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        got = _bf(_engine(srv.base_url, tiny_engine.tokenizer), QUESTIONS[:2], config, seeds)
    assert got == want


def test_faults_are_retried_and_change_nothing(tiny_engine, hf_reference):
    plan = FaultPlan(seed=3, rate=0.5, max_faults=10, slow_seconds=1.2)
    with FakeVLLMServer(tiny_engine, "tiny", faults=plan) as srv:
        eng = _engine(srv.base_url, tiny_engine.tokenizer, max_concurrency=4, timeout=0.8, server="vllm")
        got = _bf(eng)
    assert got == hf_reference
    injected = sum(plan.injected.values())
    assert injected >= len(FAULT_KINDS) and set(plan.injected) == set(FAULT_KINDS), plan.injected
    assert eng.stats["retries"] >= injected


def test_requests_spread_over_servers_and_respect_concurrency(tiny_engine, hf_reference):
    with FakeVLLMServer(tiny_engine, "tiny") as a, FakeVLLMServer(tiny_engine, "tiny") as b:
        eng = _engine([a.base_url, b.base_url], tiny_engine.tokenizer, max_concurrency=2)
        got = _bf(eng)
        assert a.completions > 0 and b.completions > 0
        assert a.max_inflight + b.max_inflight <= 3  # at most 2 in flight in all (+1 for scheduling slack)
    assert got == hf_reference
    assert "base_urls" in eng.describe() and eng.describe()["server"] == "vllm"


def test_api_key_is_sent_but_never_shown(tiny_engine, monkeypatch):
    secret = "sk-test-very-secret-123"
    monkeypatch.setenv("S1_TEST_KEY", secret)
    with FakeVLLMServer(tiny_engine, "tiny", api_key=secret) as srv:
        eng = _engine(srv.base_url, tiny_engine.tokenizer, api_key_env="S1_TEST_KEY")
        res = eng.generate([GenerationRequest(context_ids=[5, 6, 7], max_new_tokens=3)])[0]
        assert res.num_tokens == 3 and srv.auth_headers[-1] == f"Bearer {secret}"
        assert secret not in repr(eng.describe())
        monkeypatch.setenv("S1_TEST_KEY", "wrong")
        with pytest.raises(EngineError) as err:
            _engine(srv.base_url, tiny_engine.tokenizer, api_key_env="S1_TEST_KEY")
    assert "S1_TEST_KEY" in str(err.value) and "\n" not in str(err.value) and secret not in str(err.value)


def test_keep_alive_and_stop_strings(tiny_engine):
    tok = tiny_engine.tokenizer
    ctx = tok.encode("<|im_start|>user\nWhat is 3 + 4?<|im_end|>\n", add_special_tokens=False)
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        eng = _engine(srv.base_url, tok)
        keep = eng.generate([GenerationRequest(context_ids=ctx, max_new_tokens=0)])
        assert keep[0].token_ids == [] and srv.completions == 0
        free = eng.generate([GenerationRequest(context_ids=ctx, max_new_tokens=20)])[0]
        assert free.stop_reason == "length" and len(free.token_ids) == 20
        want = tiny_engine.generate([GenerationRequest(context_ids=ctx, max_new_tokens=20)])[0]
        assert free.token_ids == want.token_ids
        stop = free.text[6:9]
        got = eng.generate([GenerationRequest(context_ids=ctx, max_new_tokens=20, stop_strings=(stop,))])[0]
    assert got.stop_reason == "stop_string" and got.stop_string == stop
    assert stop not in got.text and free.text.startswith(got.text)


# ---------------------------------------------------------------------- bad input: one line naming the fix
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_url(tiny_tokenizer):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(EngineError) as err:
        OpenAIEngine("tiny", url, tokenizer=tiny_tokenizer)
    msg = str(err.value)
    assert "cannot reach" in msg and url in msg and "base_url" in msg and "\n" not in msg
    eng = OpenAIEngine("tiny", url, tokenizer=tiny_tokenizer, server="vllm", max_retries=1, backoff=0.01)
    with pytest.raises(EngineError, match="cannot reach the server.*start it"):
        eng.generate([GenerationRequest(context_ids=[5, 6], max_new_tokens=2)])


def test_wrong_model_name(tiny_engine):
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        with pytest.raises(EngineError) as err:
            OpenAIEngine("other-model", srv.base_url, tokenizer=tiny_engine.tokenizer)
        assert "model='tiny'" in str(err.value) and "\n" not in str(err.value)
        eng = OpenAIEngine("other-model", srv.base_url, tokenizer=tiny_engine.tokenizer, server="vllm")
        with pytest.raises(EngineError) as err:
            eng.generate([GenerationRequest(context_ids=[5, 6], max_new_tokens=2)])
    assert "does not serve 'other-model'" in str(err.value) and "['tiny']" in str(err.value)


def test_server_without_needed_options(tiny_engine):
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        eng = OpenAIEngine("tiny", srv.base_url, tokenizer=tiny_engine.tokenizer, server="openai")
        with pytest.raises(EngineError, match="no min_tokens option.*use vLLM, SGLang or transformers serve"):
            eng.generate(
                [
                    GenerationRequest(
                        context_ids=[5, 6], max_new_tokens=4, stop_token_ids=(2,), min_new_tokens=1
                    )
                ]
            )
        with pytest.raises(EngineError, match="not standard OpenAI fields"):
            eng.generate(
                [GenerationRequest(context_ids=[5], max_new_tokens=4, sampling=SamplingParams(top_k=5))]
            )
        hf_like = OpenAIEngine("tiny", srv.base_url, tokenizer=tiny_engine.tokenizer, server="transformers")
        penalty = SamplingParams(temperature=0.7, frequency_penalty=0.5)
        with pytest.raises(EngineError, match="transformers serve has no frequency/presence penalty"):
            hf_like.generate([GenerationRequest(context_ids=[5], max_new_tokens=4, sampling=penalty)])


def test_bad_base_url_path(tiny_engine):
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        root = srv.base_url.removesuffix("/v1")
        with pytest.raises(EngineError, match="should end in /v1"):
            OpenAIEngine("tiny", root, tokenizer=tiny_engine.tokenizer)


def test_create_engine_builds_openai(tiny_engine):
    with FakeVLLMServer(tiny_engine, "tiny") as srv:
        eng = create_engine("openai", "tiny", base_url=srv.base_url, tokenizer=tiny_engine.tokenizer)
    assert eng.name == "openai" and eng.max_batch_size is None
