"""The vllm engine against a fake `vllm` module (vLLM's documented classes, generation by the tiny model)."""

from __future__ import annotations

import sys

import fake_vllm
import pytest

from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.control.methods import get_method
from s1eval.engines import create_engine
from s1eval.engines.base import EngineError, GenerationRequest, SamplingParams
from s1eval.formats.base import S1

QUESTIONS = ["What is 3 + 4?", "What is 1 + 2?", "Add 5 and 6."]
CONFIG = BudgetForcingConfig(max_thinking_tokens=24, num_extensions=2, max_answer_tokens=10)


def _bf(engine, config=CONFIG, seeds=None):
    out = get_method("bf").run(engine, S1, QUESTIONS, config, budgets=[12, 24], seeds=seeds)
    return {b: [(r.output, r.ledger.to_dict()) for r in rs] for b, rs in out.items()}


@pytest.fixture
def vllm_engine(monkeypatch, tiny_model_path):
    fake_vllm.install(monkeypatch)
    return create_engine(
        "vllm", str(tiny_model_path), tensor_parallel_size=2, distributed_executor_backend="ray"
    )


@pytest.mark.slow
def test_bf_through_vllm_equals_hf(vllm_engine, tiny_engine):
    assert _bf(vllm_engine) == _bf(tiny_engine)
    llm = vllm_engine.llm
    # every step of the control loop is one batched LLM.generate call over all live samples
    assert llm.calls[0] == [len(QUESTIONS)] and all(c[0] <= len(QUESTIONS) for c in llm.calls)
    sp = llm.last_params[0]
    assert sp.ignore_eos and not sp.skip_special_tokens and sp.stop_token_ids and sp.max_tokens == 10


@pytest.mark.slow
def test_sampled_with_seeds_equals_hf(vllm_engine, tiny_engine):
    config = BudgetForcingConfig(
        max_thinking_tokens=16,
        num_extensions=1,
        max_answer_tokens=6,
        sampling=SamplingParams(temperature=0.9),
    )
    seeds = [1, 2, 3]
    assert _bf(vllm_engine, config, seeds) == _bf(tiny_engine, config, seeds)


def test_options_pass_through_and_describe(vllm_engine):
    args = vllm_engine.llm.engine_args
    assert args["enable_prefix_caching"] is True and args["tensor_parallel_size"] == 2
    assert args["distributed_executor_backend"] == "ray" and args["pipeline_parallel_size"] == 1
    d = vllm_engine.describe()
    assert d["engine"] == "vllm" and d["tensor_parallel_size"] == 2 and vllm_engine.max_batch_size is None


def test_request_fields_min_tokens_stop_strings_keep_alive(vllm_engine, tiny_engine):
    tok = vllm_engine.tokenizer
    ctx = tok.encode(
        "<|im_start|>user\nWhat is 3 + 4?<|im_end|>\n<|im_start|>think\n", add_special_tokens=False
    )
    stop_id = tok.convert_tokens_to_ids("<|im_start|>")
    reqs = [
        GenerationRequest(context_ids=ctx, max_new_tokens=0),
        GenerationRequest(
            context_ids=ctx, max_new_tokens=12, stop_token_ids=(stop_id,), min_new_tokens=3, seed=7
        ),
        GenerationRequest(context_ids=ctx, max_new_tokens=20),
    ]
    got = vllm_engine.generate(reqs)
    want = tiny_engine.generate(reqs)
    assert [(r.token_ids, r.stop_reason, r.stop_token) for r in got] == [
        (r.token_ids, r.stop_reason, r.stop_token) for r in want
    ]
    sp = vllm_engine.llm.last_params
    assert len(sp) == 2 and sp[0].min_tokens == 3 and sp[0].seed == 7 and sp[0].stop_token_ids == [stop_id]
    stop = got[2].text[5:8]
    cut = vllm_engine.generate([GenerationRequest(context_ids=ctx, max_new_tokens=20, stop_strings=(stop,))])[
        0
    ]
    assert cut.stop_reason == "stop_string" and stop not in cut.text and got[2].text.startswith(cut.text)
    assert cut.discarded_tokens >= 1


def test_a_too_long_row_is_an_error_result_not_a_failed_batch(vllm_engine):
    ok = GenerationRequest(context_ids=[5, 6, 7], max_new_tokens=4)
    too_long = GenerationRequest(context_ids=[5] * 4100, max_new_tokens=4)
    res = vllm_engine.generate([ok, too_long])
    assert res[0].num_tokens == 4 and res[1].stop_reason == "error" and "maximum model length" in res[1].error


def test_unknown_option_and_missing_vllm(monkeypatch, tiny_model_path):
    fake_vllm.install(monkeypatch)
    with pytest.raises(EngineError, match="rejected an engine option"):
        create_engine("vllm", str(tiny_model_path), tensor_paralel_size=2)
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(EngineError, match=r"pip install 's1eval\[vllm\]'.*engine=openai"):
        create_engine("vllm", str(tiny_model_path))
