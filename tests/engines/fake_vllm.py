"""A stand-in for the `vllm` package (which cannot be installed here), following its documented classes.

`LLM(model=..., **engine_args)`, `LLM.get_tokenizer()`, `LLM.generate(prompts, sampling_params=..., use_tqdm=...)`
returning `RequestOutput(request_id, prompt, prompt_token_ids, outputs=[CompletionOutput(index, text, token_ids,
cumulative_logprob, logprobs, finish_reason, stop_reason)], finished)`; `SamplingParams` with vLLM's field
names (an unknown field is a TypeError, as in vLLM); `TokensPrompt` / `vllm.inputs.TokensPrompt`.
Stop semantics follow vLLM: the stop token stays in `token_ids` (not in the text), `stop_reason` is the
matched stop token id or stop string (None for the model's eos), the eos stops unless `ignore_eos`, `min_tokens`
suppresses every stop token. Generation is the hf engine on the tiny model, so results compare exactly.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any, TypedDict

from s1eval.engines.base import GenerationRequest
from s1eval.engines.base import SamplingParams as S1Sampling

ENGINE_ARGS = {
    "tokenizer",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "distributed_executor_backend",
    "enable_prefix_caching",
    "gpu_memory_utilization",
    "dtype",
    "seed",
    "trust_remote_code",
    "max_model_len",
    "revision",
    "tokenizer_revision",
    "quantization",
    "enforce_eager",
    "max_num_seqs",
    "swap_space",
    "enable_chunked_prefill",
}


class TokensPrompt(TypedDict, total=False):
    prompt_token_ids: list[int]


@dataclass
class SamplingParams:
    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    ignore_eos: bool = False
    max_tokens: int | None = 16
    min_tokens: int = 0
    logprobs: int | None = None
    detokenize: bool = True
    skip_special_tokens: bool = True
    spaces_between_special_tokens: bool = True
    include_stop_str_in_output: bool = False

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: Any
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: Any
    outputs: list[CompletionOutput]
    finished: bool


@dataclass
class LLM:
    model: str
    engine_args: dict[str, Any] = field(default_factory=dict)
    calls: list[list[int]] = field(default_factory=list)  # batch sizes, one entry per generate()

    def __init__(self, model: str, **kwargs: Any):
        unknown = set(kwargs) - ENGINE_ARGS
        if unknown:
            raise TypeError(
                f"EngineArgs.__init__() got an unexpected keyword argument {sorted(unknown)[0]!r}"
            )
        from s1eval.engines.hf import HFEngine

        self.model = model
        self.engine_args = kwargs
        self.calls = []
        self.last_params: list[SamplingParams] = []
        self._hf = HFEngine(model, batch_size=64)
        INSTANCES.append(self)

    def get_tokenizer(self) -> Any:
        return self._hf.tokenizer

    def generate(
        self, prompts: Any, sampling_params: Any = None, use_tqdm: bool = True
    ) -> list[RequestOutput]:
        prompts = list(prompts)
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        tok = self._hf.tokenizer
        self.calls.append([len(prompts)])
        self.last_params = list(params)
        requests = []
        for p, sp in zip(prompts, params, strict=True):
            ids = list(p["prompt_token_ids"])
            if len(ids) + (sp.max_tokens or 0) > 4096:
                raise ValueError(
                    f"The decoder prompt (length {len(ids)}) is longer than the maximum model length"
                )
            stops = list(sp.stop_token_ids or [])
            if not sp.ignore_eos and tok.eos_token_id is not None and tok.eos_token_id not in stops:
                stops.append(tok.eos_token_id)
            stop_strings = [sp.stop] if isinstance(sp.stop, str) else list(sp.stop or [])
            requests.append(
                GenerationRequest(
                    context_ids=ids,
                    max_new_tokens=sp.max_tokens or 16,
                    stop_token_ids=tuple(stops),
                    stop_strings=tuple(stop_strings),
                    sampling=S1Sampling(
                        temperature=sp.temperature,
                        top_p=sp.top_p,
                        top_k=max(0, sp.top_k),
                        repetition_penalty=sp.repetition_penalty,
                        frequency_penalty=sp.frequency_penalty,
                        presence_penalty=sp.presence_penalty,
                    ),
                    seed=sp.seed,
                    min_new_tokens=sp.min_tokens,
                )
            )
        results = self._hf.generate(requests)
        self._hf.release()  # vLLM keeps no per-sequence state between calls (its prefix cache is by content)
        outs = []
        for n, (req, sp, res) in enumerate(zip(requests, params, results, strict=True)):
            token_ids = list(res.token_ids)
            text = tok.decode(token_ids, skip_special_tokens=sp.skip_special_tokens)
            stop_reason: int | str | None = None
            if res.stop_reason == "stop_token":
                token_ids.append(res.stop_token)
                stop_reason = res.stop_token if res.stop_token in (sp.stop_token_ids or []) else None
            elif res.stop_reason == "stop_string":
                stop_reason = res.stop_string
                token_ids += tok.encode(res.stop_string, add_special_tokens=False)
                if sp.include_stop_str_in_output:
                    text += res.stop_string
            finish = "length" if res.stop_reason == "length" else "stop"
            completion = CompletionOutput(0, text, token_ids, None, None, finish, stop_reason)
            outs.append(RequestOutput(str(n), None, list(req.context_ids), None, [completion], True))
        return outs


INSTANCES: list[LLM] = []


def install(monkeypatch: Any) -> types.ModuleType:
    """Put a module shaped like `vllm` (and `vllm.inputs`) into sys.modules for the test."""
    module = types.ModuleType("vllm")
    inputs = types.ModuleType("vllm.inputs")
    inputs.TokensPrompt = TokensPrompt
    module.LLM = LLM
    module.SamplingParams = SamplingParams
    module.TokensPrompt = TokensPrompt
    module.RequestOutput = RequestOutput
    module.CompletionOutput = CompletionOutput
    module.inputs = inputs
    module.__version__ = "0.0.0+fake"
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.inputs", inputs)
    return module
