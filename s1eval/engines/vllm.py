"""vLLM offline engine (optional extra): every request of a control step goes to one `LLM.generate` call.

Prompts go in as token ids (`TokensPrompt`), so nothing is re-tokenised; automatic prefix caching (on by
default) makes a continuation of a cached sequence pay only for its new suffix, which is how budget forcing's
rounds stay cheap. Only the request's own stop tokens end a sequence (`ignore_eos=True` + `stop_token_ids`),
`min_tokens` suppresses them for the first steps, and each request carries its own `seed`, so a seeded sample
draws the same tokens whatever batch it lands in. Tensor/pipeline parallelism and Ray are vLLM's own options,
passed through (`tensor_parallel_size`, `pipeline_parallel_size`, `distributed_executor_backend="ray"`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s1eval.engines.base import EngineBase, EngineError, GenerationRequest, GenerationResult
from s1eval.engines.openai import cut_stop_string


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise EngineError(
            "the vllm engine needs vLLM: pip install 's1eval[vllm]' (Linux + CUDA), or use engine=hf, "
            "or serve the model (`vllm serve MODEL`) and use engine=openai"
        ) from None
    return vllm


class VLLMEngine(EngineBase):
    """In-process vLLM `LLM` behind the Engine protocol."""

    name = "vllm"
    max_batch_size = None  # vLLM schedules its own batches

    def __init__(
        self,
        model: str,
        *,
        tokenizer: str | None = None,
        tensor_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        distributed_executor_backend: str | None = None,
        enable_prefix_caching: bool = True,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "auto",
        seed: int = 0,
        trust_remote_code: bool = False,
        max_model_len: int | None = None,
        revision: str | None = None,
        **llm_kwargs: Any,
    ):
        self._vllm = _import_vllm()
        self.model_id = model
        self.revision = revision
        self.settings: dict[str, Any] = {
            "tokenizer": tokenizer,
            "tensor_parallel_size": tensor_parallel_size,
            "pipeline_parallel_size": pipeline_parallel_size,
            "distributed_executor_backend": distributed_executor_backend,
            "enable_prefix_caching": enable_prefix_caching,
            "gpu_memory_utilization": gpu_memory_utilization,
            "dtype": dtype,
            "seed": seed,
            "trust_remote_code": trust_remote_code,
            "max_model_len": max_model_len,
            "revision": revision,
            **llm_kwargs,
        }
        kwargs = {k: v for k, v in self.settings.items() if v is not None}
        try:
            self.llm = self._vllm.LLM(model=model, **kwargs)
        except TypeError as exc:
            raise EngineError(
                f"vLLM rejected an engine option ({exc}); check the option names against vllm.LLM"
            ) from None
        except (OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EngineError(
                f"vLLM cannot load {model!r}: {first} (check the path or hub id, and GPU memory)"
            ) from None
        self.tokenizer = self.llm.get_tokenizer()
        self.stats = {"calls": 0, "requests": 0, "generated_tokens": 0}

    def describe(self) -> dict:
        described = {"engine": self.name, "model": self.model_id}
        described.update({k: v for k, v in self.settings.items() if k != "gpu_memory_utilization"})
        return described

    # ------------------------------------------------------------------ protocol
    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)
        live = [i for i, r in enumerate(requests) if r.max_new_tokens > 0]
        for i, req in enumerate(requests):
            if req.max_new_tokens <= 0:  # keep-alive: the prefix cache needs no notice
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
        if live:
            try:
                outputs = self._generate([requests[i] for i in live])
            except ValueError:  # one bad row (e.g. too long) fails vLLM's whole batch: find it row by row
                outputs = [self._generate_one(requests[i]) for i in live]
            for i, out in zip(live, outputs, strict=True):
                results[i] = out if isinstance(out, GenerationResult) else self._result(out, requests[i])
        return [r for r in results if r is not None]

    def _generate(self, requests: Sequence[GenerationRequest]) -> list[Any]:
        vllm = self._vllm
        prompts = [_tokens_prompt(vllm, list(r.context_ids)) for r in requests]
        params = [self._sampling_params(r) for r in requests]
        self.stats["calls"] += 1
        self.stats["requests"] += len(requests)
        outs = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        return [o.outputs[0] for o in outs]

    def _generate_one(self, req: GenerationRequest) -> Any:
        try:
            return self._generate([req])[0]
        except ValueError as exc:
            first = (str(exc).strip().splitlines() or ["vLLM refused the request"])[0]
            return GenerationResult(text="", token_ids=[], stop_reason="error", error=first)

    def _sampling_params(self, req: GenerationRequest) -> Any:
        s = req.sampling
        kwargs: dict[str, Any] = {
            "n": 1,
            "max_tokens": int(req.max_new_tokens),
            "min_tokens": min(int(req.min_new_tokens), int(req.max_new_tokens)),  # vLLM refuses min > max
            "stop_token_ids": list(req.stop_token_ids),
            "ignore_eos": True,  # only the request's stop tokens end a sequence, as in the other engines
            "skip_special_tokens": False,
            "spaces_between_special_tokens": False,
            "include_stop_str_in_output": True,  # stop strings are cut here, counting discarded tokens
            "temperature": float(s.temperature),
            "top_p": float(s.top_p),
            "repetition_penalty": float(s.repetition_penalty),
            "frequency_penalty": float(s.frequency_penalty),
            "presence_penalty": float(s.presence_penalty),
            "seed": req.seed,
        }
        if s.top_k and s.top_k > 0:
            kwargs["top_k"] = int(s.top_k)
        if req.stop_strings:
            kwargs["stop"] = list(req.stop_strings)
        return self._vllm.SamplingParams(**kwargs)

    def _result(self, out: Any, req: GenerationRequest) -> GenerationResult:
        ids = [int(t) for t in out.token_ids]
        self.stats["generated_tokens"] += len(ids)
        stops = set(req.stop_token_ids)
        stop_reason = getattr(out, "stop_reason", None)
        if out.finish_reason == "stop" and not isinstance(stop_reason, str):
            token = (
                stop_reason
                if isinstance(stop_reason, int)
                else (ids[-1] if ids and ids[-1] in stops else None)
            )
            if token is not None:
                if ids and ids[-1] == token:
                    ids.pop()  # vLLM keeps the stop token in token_ids; the protocol does not
                return GenerationResult(
                    text=self._decode(ids), token_ids=ids, stop_reason="stop_token", stop_token=token
                )
        if out.finish_reason == "abort":
            return GenerationResult(
                text="", token_ids=ids, stop_reason="error", error="vLLM aborted the request"
            )
        cut = cut_stop_string(self.tokenizer, ids, req.stop_strings)
        if cut is not None:
            matched, keep = cut
            return GenerationResult(
                text=self._decode(ids[:keep]),
                token_ids=ids[:keep],
                stop_reason="stop_string",
                stop_string=matched,
                discarded_tokens=len(ids) - keep,
            )
        return GenerationResult(text=self._decode(ids), token_ids=ids, stop_reason="length")

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False) if ids else ""


def _tokens_prompt(vllm: Any, ids: list[int]) -> Any:
    """vLLM's TokensPrompt (top level in recent releases, `vllm.inputs` before)."""
    cls = getattr(vllm, "TokensPrompt", None)
    if cls is None:
        from vllm.inputs import TokensPrompt as cls  # type: ignore[no-redef]
    return cls(prompt_token_ids=ids)
