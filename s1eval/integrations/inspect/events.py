"""Every engine round of a sample as an Inspect `ModelEvent`, so `inspect view` shows the forcing step by step.

The solvers drive the engine directly (one batched call per step across samples, KV cache kept between
rounds), so Inspect's own `generate` records nothing. Here each request the sample's method made becomes the
event Inspect would have written for it: the messages the model saw (system, question, and the assistant text
so far, forced delimiters and "Wait"s included, as a prefill), the text it generated, why it stopped, the exact
token counts, and the request's limits (max tokens, stop strings, sampling). Keep-alive requests (0 tokens)
generate nothing and are left out. A round's input tokens are its whole context, as a stateless API would
count them, so the rounds' sum is more than the sample's usage (prompt once, plus every generated token): the
engine kept the context's KV cache between rounds and did not compute it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from inspect_ai.event import ModelEvent
from inspect_ai.log import transcript
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    ModelOutput,
    ModelUsage,
)

from s1eval.engines.base import GenerationRequest, GenerationResult
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import read_back_prompt
from s1eval.integrations.inspect.batcher import EngineCall

logger = logging.getLogger(__name__)
_STOP_REASONS = {"length": "max_tokens", "error": "unknown"}


def round_events(
    calls: Sequence[EngineCall], *, model: str, tokenizer: Any, fmt: ThinkingFormat
) -> list[ModelEvent]:
    """One ModelEvent per engine round (in the order the method made them).

    Each round's context is split where the thinking opens: what comes before is the rendered prompt, read
    back into its system and user messages through the template (so TCC's stated budget, a sweep's per-budget
    prompts and vote's samples all show the prompt that round really had); what follows is the assistant text
    so far. A context that does not read back is shown as one user message of the raw text.
    """
    events = []
    read_back: dict[str, tuple[str | None, str] | None] = {}  # a sample's rounds share one or a few prompts
    for number, call in enumerate(c for c in calls if c.request.max_new_tokens > 0):
        request, result = call.request, call.result
        context = tokenizer.decode(list(request.context_ids), skip_special_tokens=False)
        events.append(
            ModelEvent(
                model=model,
                input=_input_messages(context, tokenizer, fmt, read_back),
                tools=[],
                tool_choice="none",
                config=GenerateConfig(
                    max_tokens=request.max_new_tokens,
                    stop_seqs=list(request.stop_strings) or None,
                    temperature=request.sampling.temperature,
                    top_p=request.sampling.top_p,
                    seed=request.seed,
                ),
                output=_output(number, request, result, model),
                error=result.error,
                timestamp=datetime.fromtimestamp(call.started, timezone.utc),
                completed=datetime.fromtimestamp(call.finished, timezone.utc),
                working_time=call.finished - call.started,
            )
        )
    return events


def _input_messages(
    context: str, tokenizer: Any, fmt: ThinkingFormat, read_back: dict[str, tuple[str | None, str] | None]
) -> list[ChatMessage]:
    at = context.find(fmt.think_start)
    prompt = context[: at + len(fmt.think_start)] if at >= 0 else None
    if prompt is not None and prompt not in read_back:
        read_back[prompt] = read_back_prompt(tokenizer, fmt, prompt)
    parts = read_back.get(prompt) if prompt is not None else None
    if parts is None:
        return [ChatMessageUser(content=context)]
    system, question = parts
    messages: list[ChatMessage] = [ChatMessageSystem(content=system)] if system else []
    messages.append(ChatMessageUser(content=question))
    so_far = context[at + len(fmt.think_start) :]
    if so_far:
        messages.append(ChatMessageAssistant(content=so_far))
    return messages


def _output(number: int, request: GenerationRequest, result: GenerationResult, model: str) -> ModelOutput:
    generated = len(result.token_ids) + (1 if result.stop_token is not None else 0)
    context = len(request.context_ids)
    return ModelOutput(
        model=model,
        choices=[
            ChatCompletionChoice(
                message=ChatMessageAssistant(content=result.text, model=model, source="generate"),
                stop_reason=_STOP_REASONS.get(result.stop_reason, "stop"),  # type: ignore[arg-type]
            )
        ],
        usage=ModelUsage(input_tokens=context, output_tokens=generated, total_tokens=context + generated),
        metadata={
            "s1eval_round": number,
            "stop_reason": result.stop_reason,
            "stop_token": result.stop_token,
            "stop_string": result.stop_string,
            "stop_token_ids": list(request.stop_token_ids),
            "min_new_tokens": request.min_new_tokens,  # > 0: the end of thinking was suppressed until then
            "discarded_tokens": result.discarded_tokens,
            "token_counts": "exact (the engine's own tokenizer)",
        },
        error=result.error,
    )


def record_round_events(
    calls: Sequence[EngineCall], *, model: str, tokenizer: Any, fmt: ThinkingFormat
) -> None:
    """Append the rounds' events to the sample's transcript.

    Inspect has no public call for adding a ModelEvent (its own `generate` uses `Transcript._event`, which is
    what this does; inspect-ai is pinned below 0.4). Without it, or when an event cannot be built, the events
    are skipped and a warning logged, never the sample.
    """
    add = getattr(transcript(), "_event", None)
    if not callable(add):
        return
    try:
        events = round_events(calls, model=model, tokenizer=tokenizer, fmt=fmt)
    except Exception as exc:  # noqa: BLE001 - the transcript is a view; the sample's result stands without it
        logger.warning("s1eval: the engine rounds of this sample are not in the transcript (%s)", exc)
        return
    for event in events:
        add(event)
