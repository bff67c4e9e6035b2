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

from s1eval.integrations.inspect.batcher import EngineCall


def round_events(
    calls: Sequence[EngineCall],
    *,
    model: str,
    tokenizer: Any,
    prompt: str,
    question: str,
    system: str | None,
) -> list[ModelEvent]:
    """One ModelEvent per engine round (in the order the method made them)."""
    prompt_ids = list(tokenizer.encode(prompt, add_special_tokens=False))
    base: list[ChatMessage] = [ChatMessageSystem(content=system)] if system else []
    base.append(ChatMessageUser(content=question))
    events = []
    for number, call in enumerate(c for c in calls if c.request.max_new_tokens > 0):
        request, result = call.request, call.result
        context = list(request.context_ids)
        if context[: len(prompt_ids)] == prompt_ids:
            so_far = tokenizer.decode(context[len(prompt_ids) :], skip_special_tokens=False)
            messages = [*base, ChatMessageAssistant(content=so_far)] if so_far else list(base)
        else:  # not this sample's own prompt (cannot happen for s1eval's methods): show the raw context
            messages = [ChatMessageUser(content=tokenizer.decode(context, skip_special_tokens=False))]
        generated = len(result.token_ids) + (1 if result.stop_token is not None else 0)
        output = ModelOutput(
            model=model,
            choices=[
                ChatCompletionChoice(
                    message=ChatMessageAssistant(content=result.text, model=model, source="generate"),
                    stop_reason="max_tokens" if result.stop_reason == "length" else "stop",
                )
            ],
            usage=ModelUsage(
                input_tokens=len(context), output_tokens=generated, total_tokens=len(context) + generated
            ),
            metadata={
                "s1eval_round": number,
                "stop_reason": result.stop_reason,
                "stop_string": result.stop_string,
                "discarded_tokens": result.discarded_tokens,
                "token_counts": "exact (the engine's own tokenizer)",
            },
            error=result.error,
        )
        sampling = request.sampling
        config = GenerateConfig(
            max_tokens=request.max_new_tokens,
            stop_seqs=list(request.stop_strings) or None,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=request.seed,
        )
        event = ModelEvent(
            model=model,
            input=messages,
            tools=[],
            tool_choice="none",
            config=config,
            output=output,
            error=result.error,
            timestamp=datetime.fromtimestamp(call.started, timezone.utc),
            completed=datetime.fromtimestamp(call.finished, timezone.utc),
            working_time=call.finished - call.started,
        )
        events.append(event)
    return events


def record_round_events(events: Sequence[ModelEvent]) -> None:
    """Append the events to the sample's transcript.

    Inspect has no public call for adding a ModelEvent (its own `generate` uses `Transcript._event`, which is
    what this does; inspect-ai is pinned below 0.4). Without it the events are skipped, never the sample.
    """
    add = getattr(transcript(), "_event", None)
    if callable(add):
        for event in events:
            add(event)
