"""Inspect model providers backed by s1eval engines: s1hf, s1vllm, s1openai, and s1fake for tests.

`--model s1hf/<hub id or path>` loads the model in-process with s1eval's hf engine. The s1eval solvers reach
that engine through the provider (`engine_batcher()`) and drive the control core with it, so budget forcing
continues each sample's own sequence (KV reuse) and concurrent samples share engine calls (see batcher.py).

Plain `generate()` works too, so any other Inspect task runs on these providers: the chat is rendered with
the model's own template and generated without thinking control, special tokens kept. A conversation that
ends with an assistant message is *continued* (a prefill), not answered with a new turn: Inspect's built-in
hf provider cannot do that, and it is what a thinking prefix or a forced answer needs.

Model args (`-M key=value`): format (s1, r1, auto), join_window_s; hf: batch_size, dtype, device, revision,
trust_remote_code, attn_implementation; vllm: the engine's options; openai: the engine's options (the server
URL from --model-base-url or -M base_url, the key from the variable -M api_key_env names, default
OPENAI_API_KEY, so it never lands in the log; -M tokenizer=<path> where the served name is not loadable). s1fake: thinking, answer, tokenizer (a local path; default
the tiny test tokenizer), format.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from s1eval.engines.base import Engine, GenerationRequest, SamplingParams
from s1eval.errors import ConfigError
from s1eval.formats.prompting import single_token_id
from s1eval.integrations.inspect._errors import inspect_user_errors
from s1eval.integrations.inspect._names import qualified
from s1eval.integrations.inspect.batcher import DEFAULT_JOIN_WINDOW_S, EngineBatcher

DEFAULT_MAX_TOKENS = 4096
"""Plain generate()'s output limit when neither the task nor --max-tokens sets one."""
_END_OF_TURN = ("<|im_end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>", "<|eot_id|>")
_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class S1EngineAPI(ModelAPI):
    """An Inspect ModelAPI over one s1eval Engine (subclasses say how the engine is built)."""

    engine_kind = "hf"

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        self.format_name: str = str(model_args.pop("format", "auto"))
        join_window = float(model_args.pop("join_window_s", DEFAULT_JOIN_WINDOW_S))
        with inspect_user_errors():  # a bad -M option, model path or sampling value: one line, before a load
            sampling_from_config(config)  # --temperature -1, --top-p 5 are refused here, not per sample
            self.engine: Engine = self.create_engine(model_name, model_args)
        self.batcher = EngineBatcher(self.engine, join_window_s=join_window)

    def create_engine(self, model_name: str, options: dict[str, Any]) -> Engine:
        from s1eval.engines import create_engine

        if self.engine_kind == "openai" and self.base_url and "base_url" not in options:
            options["base_url"] = self.base_url  # the key is read from -M api_key_env (OPENAI_API_KEY)
        return create_engine(self.engine_kind, model_name, **options)

    # ------------------------------------------------------------------ Inspect's ModelAPI surface
    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        return int(self.engine.max_batch_size or 32)

    def collapse_user_messages(self) -> bool:
        return True

    async def tokenize(self, text: str) -> list[int]:
        return list(self.engine.tokenizer.encode(text, add_special_tokens=False))

    async def count_text_tokens(self, text: str) -> int:
        return len(self.engine.tokenizer.encode(text, add_special_tokens=False))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        if tools:
            raise ConfigError(
                f"the {self.engine_kind} s1eval provider does not call tools; use a tool-calling provider for this task"
            )
        prompt = render_chat(self.engine.tokenizer, input)
        context = list(self.engine.tokenizer.encode(prompt, add_special_tokens=False))
        request = GenerationRequest(
            context_ids=context,
            max_new_tokens=config.max_tokens or DEFAULT_MAX_TOKENS,
            stop_token_ids=end_of_turn_ids(self.engine.tokenizer),
            stop_strings=tuple(config.stop_seqs or ()),
            sampling=sampling_from_config(config),
            seed=config.seed,
        )
        (result,) = await self.batcher.generate([request])
        if result.stop_reason == "error":
            raise RuntimeError(f"engine {self.engine.name} failed: {result.error}")
        message = ChatMessageAssistant(content=result.text, model=self.model_name, source="generate")
        return ModelOutput(
            model=self.model_name,
            choices=[
                ChatCompletionChoice(
                    message=message, stop_reason="max_tokens" if result.stop_reason == "length" else "stop"
                )
            ],
            usage=ModelUsage(
                input_tokens=len(context),
                output_tokens=result.num_tokens,
                total_tokens=len(context) + result.num_tokens,
            ),
        )


def render_chat(tokenizer: Any, messages: list[ChatMessage]) -> str:
    """The model's chat template over Inspect messages; a final assistant message is continued, not closed."""
    chat = [{"role": m.role if m.role != "tool" else "user", "content": m.text} for m in messages]
    prefill = bool(chat) and chat[-1]["role"] == "assistant"
    kwargs: dict[str, Any] = {"tokenize": False}
    if prefill:
        kwargs["continue_final_message"] = True
    else:
        kwargs["add_generation_prompt"] = True
    if not getattr(tokenizer, "chat_template", None):
        kwargs["chat_template"] = _CHATML
    text = tokenizer.apply_chat_template(chat, **kwargs)
    return text if isinstance(text, str) else str(text)


def end_of_turn_ids(tokenizer: Any) -> tuple[int, ...]:
    """Token ids that end an assistant turn: the tokenizer's eos plus the common end-of-turn specials."""
    ids: list[int] = []
    eos = getattr(tokenizer, "eos_token_id", None)
    for e in eos if isinstance(eos, list) else [eos]:
        if e is not None:
            ids.append(int(e))
    special = set(getattr(tokenizer, "all_special_tokens", None) or [])
    for text in _END_OF_TURN:
        if text in special:
            tid = single_token_id(tokenizer, text)
            if tid is not None and tid not in ids:
                ids.append(tid)
    return tuple(ids)


def sampling_from_config(config: GenerateConfig) -> SamplingParams:
    """Inspect's generate settings as engine sampling (no temperature given means greedy)."""
    return SamplingParams().merged(
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        frequency_penalty=config.frequency_penalty,
        presence_penalty=config.presence_penalty,
    )


@modelapi(name=qualified("s1hf"))
def s1hf() -> type[ModelAPI]:
    return S1EngineAPI


@modelapi(name=qualified("s1vllm"))
def s1vllm() -> type[ModelAPI]:
    class S1VLLMAPI(S1EngineAPI):
        engine_kind = "vllm"

    return S1VLLMAPI


@modelapi(name=qualified("s1openai"))
def s1openai() -> type[ModelAPI]:
    class S1OpenAIAPI(S1EngineAPI):
        engine_kind = "openai"

    return S1OpenAIAPI


class S1FakeAPI(S1EngineAPI):
    """Scripted text with real token counts: thinks `thinking` (one segment per round), then writes `answer`."""

    engine_kind = "fake"

    def create_engine(self, model_name: str, options: dict[str, Any]) -> Engine:
        from s1eval.engines.fake import FakeEngine, ThinkingScript
        from s1eval.formats.prompting import resolve_format

        thinking = options.pop("thinking", "Let me think step by step.")
        answer = str(options.pop("answer", "The answer is \\boxed{42}."))
        tokenizer_path = options.pop("tokenizer", None)
        batch_size = int(options.pop("batch_size", 64))
        if options:
            raise ConfigError(
                f"unknown model arg(s) {', '.join(sorted(options))} for s1fake; valid: thinking, answer, tokenizer, "
                "batch_size, format"
            )
        if tokenizer_path:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_path))
        else:
            from s1eval.testing.tiny_model import build_tokenizer

            tokenizer = build_tokenizer()
        segments = thinking.split("|") if isinstance(thinking, str) else [str(t) for t in thinking]
        fmt = resolve_format(self.format_name, tokenizer)
        script = ThinkingScript(fmt, segments, answer)
        return FakeEngine(tokenizer, script, model_id=f"fake/{model_name}", max_batch_size=batch_size)


@modelapi(name=qualified("s1fake"))
def s1fake() -> type[ModelAPI]:
    return S1FakeAPI
