"""The portable path: s1eval's control methods on Inspect's own model providers, through `generate()`.

Where the model is not one of s1eval's providers (s1hf/, s1vllm/, s1openai/), a solver drives the same
control core with a `PrefillEngine`: each engine request (a context of token ids) is read back into the chat
it continues (system and user message, and the assistant text so far, thinking delimiters included) and
sent through the Inspect model's `generate()` as a conversation that ends with that assistant message, with
`max_tokens` from the request, and vLLM's chat options that make the server *continue* the message
(`continue_final_message`), stop at the request's token ids, suppressed for `min_tokens` (`stop_token_ids`)
and keep the stop that ended the round in the text (`include_stop_str_in_output`), so the engine knows which. Inspect then does what it does for any generate: model events, usage,
retries, its cache, `--max-connections`.

Providers that can continue a prefilled assistant message: `vllm/`, `sglang/`, and `openai-api/` pointed at
a vLLM or SGLang server. Inspect's `hf/` always opens a new assistant turn, and hosted chat APIs do not
continue raw thinking delimiters; for those the first sample fails with the reason (one line, the eval's error).

What is exact and what is not: the provider returns text, so the ledger's token counts are s1eval's
tokenizer over that text (`token_counts: "retokenized"`) beside the provider's own usage
(`provider_output_tokens`). A round's budget is the provider's `max_tokens`, so what the provider generates
stays within it; the retokenized count agrees with it on text that round-trips through the tokenizer (a real
model's output), and can differ by many tokens on byte-level output (a random model's). Each request is
clamped to the model's context (from the tokenizer's model config), as a server would refuse it. The s1 providers count the ids they generate (`token_counts: "exact"`). Each round
re-sends the whole conversation: a server's prefix cache (vLLM's, on by default) keeps that cheap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.from_thread
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig

from s1eval.engines.base import EngineBase, GenerationRequest, GenerationResult
from s1eval.errors import ConfigError
from s1eval.formats.prompting import split_continuation

PREFILL_PROVIDERS = ("vllm", "sglang", "openai-api")
"""Inspect providers whose servers continue a conversation's final assistant message (vLLM's and SGLang's
`continue_final_message`); `openai-api/` is assumed to point at one of those."""

_WHY_NOT = {
    "hf": "Inspect's hf provider always opens a new assistant turn (add_generation_prompt=True), so it cannot "
    "continue a thinking prefix",
    "mockllm": "mockllm returns canned text",
}


def provider_of(model: Any) -> str:
    """The provider part of an Inspect model name ("vllm" for vllm/Qwen/Qwen3-8B)."""
    return str(model).split("/", 1)[0]


def require_prefill_provider(model: Any) -> None:
    """One line naming the providers that work, for a model whose provider cannot continue a message."""
    provider = provider_of(model)
    if provider in PREFILL_PROVIDERS:
        return
    why = _WHY_NOT.get(provider, f"{provider}/ is not known to continue a prefilled assistant message")
    raise ConfigError(
        f"s1eval solvers cannot drive {model}: {why}; use --model s1hf/<hub id or path> (in-process, batched), "
        "or vllm/, sglang/, or openai-api/<name>/<model> against a vLLM or SGLang server"
    )


class PrefillEngine(EngineBase):
    """An Engine whose generation is the Inspect model's `generate()` on a prefilled assistant message.

    One per sample: it is called from the worker thread that runs the sample's control program and hands
    each request to the event loop (`anyio.from_thread`), so Inspect records the call in that sample.
    """

    name = "inspect"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        config: GenerateConfig,
        context_length: int | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = str(model)
        self.config = config
        if context_length:
            self.context_length = int(context_length)
        self.provider_input_tokens = 0
        self.provider_output_tokens = 0
        self.rounds = 0

    @property
    def prepared_for(self) -> Any:
        """What a prepared method is shared by: every sample's engine over the same tokenizer."""
        return self.tokenizer

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "provider": provider_of(self.model)}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        return anyio.from_thread.run(self._generate_all, list(requests))

    async def _generate_all(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)

        async def one(i: int) -> None:
            results[i] = await self._generate_one(requests[i])

        async with anyio.create_task_group() as group:
            for i in range(len(requests)):
                group.start_soon(one, i)
        return [r for r in results if r is not None]

    async def _generate_one(self, request: GenerationRequest) -> GenerationResult:
        room = request.max_new_tokens
        context_length = getattr(self, "context_length", None)
        if context_length:  # a server refuses prompt + max_tokens beyond its context (vLLM: HTTP 400)
            room = min(room, context_length - len(request.context_ids))
        if room <= 0:  # a keep-alive, or a context already full: nothing to generate
            return GenerationResult(text="", token_ids=[], stop_reason="length")
        if room != request.max_new_tokens:
            request = dataclasses.replace(request, max_new_tokens=room)
        tok = self.tokenizer
        text = tok.decode(request.context_ids, skip_special_tokens=False)
        split = split_continuation(tok, text)
        if split is None:
            raise ConfigError(
                f"the chat template of {self.model_id} does not render the conversation back to the prompt "
                "s1eval built (it rewrites the assistant message?); use --model s1hf/ or s1vllm/, which take "
                "token ids"
            )
        messages, assistant = split
        chat = [
            ChatMessageSystem(content=m["content"])
            if m["role"] == "system"
            else ChatMessageUser(content=m["content"])
            for m in messages
        ]
        chat.append(ChatMessageAssistant(content=assistant))
        stop_tokens = {tok.decode([t], skip_special_tokens=False): t for t in request.stop_token_ids}
        output = await self.model.generate(chat, config=self._config(request))
        self.rounds += 1
        if output.usage is not None:
            self.provider_input_tokens += output.usage.input_tokens
            self.provider_output_tokens += output.usage.output_tokens
        if output.error:
            return GenerationResult(text="", token_ids=[], stop_reason="error", error=str(output.error))
        return self._result(output, stop_tokens, request.stop_strings)

    def _config(self, request: GenerationRequest) -> GenerateConfig:
        """The request as vLLM's chat API takes it: stop tokens by id (so `min_tokens` suppresses them, as the
        s1 engines do), the matched stop kept in the text (so the engine can tell which one it was)."""
        sampling = request.sampling
        eos = getattr(self.tokenizer, "eos_token_id", None)
        extra = dict(self.config.extra_body or {})
        extra.update(
            {
                "add_generation_prompt": False,
                "continue_final_message": True,
                "stop_token_ids": list(request.stop_token_ids),
                "ignore_eos": eos is not None and eos not in request.stop_token_ids,
                "include_stop_str_in_output": True,
                "skip_special_tokens": False,
                "min_tokens": request.min_new_tokens,
            }
        )
        if sampling.repetition_penalty != 1.0:
            extra["repetition_penalty"] = sampling.repetition_penalty
        return self.config.merge(
            GenerateConfig(
                max_tokens=request.max_new_tokens,
                stop_seqs=list(request.stop_strings) or None,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k or None,
                frequency_penalty=sampling.frequency_penalty or None,
                presence_penalty=sampling.presence_penalty or None,
                seed=request.seed,
                extra_body=extra,
            )
        )

    def _result(
        self, output: Any, stop_tokens: dict[str, int], stop_strings: Sequence[str]
    ) -> GenerationResult:
        text = output.completion
        tok = self.tokenizer
        for stop, token in stop_tokens.items():
            if stop and text.endswith(stop):
                kept = text[: -len(stop)]
                return GenerationResult(
                    text=kept, token_ids=_encode(tok, kept), stop_reason="stop_token", stop_token=token
                )
        for stop in stop_strings:
            if stop and text.endswith(stop):
                kept = text[: -len(stop)]
                return GenerationResult(
                    text=kept,
                    token_ids=_encode(tok, kept),
                    stop_reason="stop_string",
                    stop_string=stop,
                    discarded_tokens=len(_encode(tok, stop)),
                )
        ids = _encode(tok, text)
        if output.stop_reason == "max_tokens":
            return GenerationResult(text=text, token_ids=ids, stop_reason="length")
        eos = getattr(tok, "eos_token_id", None)  # a stop with no stop string in the text: end of sequence
        token = eos if eos in stop_tokens.values() else next(iter(stop_tokens.values()), None)
        if token is None:
            return GenerationResult(text=text, token_ids=ids, stop_reason="length")
        return GenerationResult(text=text, token_ids=ids, stop_reason="stop_token", stop_token=token)

    def ledger_fields(self) -> dict[str, Any]:
        """What the ledger says about the counts: s1eval's tokenizer over the provider's text, and the
        provider's own usage over every round of the sample."""
        return {
            "token_counts": "retokenized",
            "provider": provider_of(self.model),
            "provider_rounds": self.rounds,
            "provider_input_tokens": self.provider_input_tokens,
            "provider_output_tokens": self.provider_output_tokens,
        }


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False)) if text else []


def load_tokenizer(name: str, trust_remote_code: bool = False) -> Any:
    """The tokenizer s1eval renders prompts and counts tokens with, for a provider that serves `name`."""
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:  # pragma: no cover - transformers is part of the hf extra
        raise ConfigError("the portable path needs transformers: pip install 's1eval[hf]'") from exc
    try:
        return AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - any loading failure is the same fix
        raise ConfigError(
            f"cannot load a tokenizer for {name!r} ({type(exc).__name__}); give the solver tokenizer=<hub id or "
            "path> (-S tokenizer=... or -T tokenizer=...)"
        ) from exc


def context_length_of(name: str) -> int | None:
    """max_position_embeddings of the model config next to the tokenizer, when there is one."""
    try:
        from transformers import AutoConfig

        value = getattr(AutoConfig.from_pretrained(name), "max_position_embeddings", None)
    except Exception:  # noqa: BLE001 - no config: `auto` budgets then ask for a number
        return None
    return int(value) if isinstance(value, int) and value > 0 else None
