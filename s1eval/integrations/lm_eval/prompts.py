"""From an lm-eval request context to the (system, question) a control method prompts with, and back.

A control method builds its own prompt (the chat template, then the opening of the thinking; TCC/SCC also
change the question), so the wrapper hands it the user message, never a rendered string:

- Plain contexts (no `--apply_chat_template`) are the user message. A stock task written for base models
  ends its context with a completion cue (aime24: "Question: ...\\nAnswer:"); that last cue line is dropped,
  since the chat template and the thinking take its place.
- With `--apply_chat_template`, lm-eval asks the model to render the chat history; the wrapper renders it the
  way the method will (so the logged prompt is the real one; a trailing answer cue is dropped here too) and
  remembers which (system, question) it came from, so `generate_until` can hand the method the parts. A prompt
  rendered by an earlier process (`--cache_requests true` reuses lm-eval's stored requests) is read back into
  its parts through the same template, and accepted only when rendering those parts gives it exactly again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from s1eval.errors import ConfigError
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt, read_back_prompt

_ANSWER_CUE = re.compile(r"\n?[ \t]*(?:Answer|A|Solution|Final Answer)[ \t]*:[ \t]*$")


def question_from_context(context: str) -> str:
    """The user message in a plain context: the text, without a trailing base-model answer cue."""
    text = context.rstrip()
    stripped = _ANSWER_CUE.sub("", text)
    return stripped.rstrip() if stripped.strip() else text


class ChatPrompts:
    """Renders lm-eval chat histories for a method and recalls the parts of each rendered prompt."""

    def __init__(self, tokenizer: Any, fmt: ThinkingFormat, model_name: str):
        self.tokenizer = tokenizer
        self.fmt = fmt
        self.model_name = model_name
        self._parts: dict[str, tuple[str | None, str]] = {}

    def render(self, chat_history: Sequence[dict[str, str]], add_generation_prompt: bool = True) -> str:
        if not add_generation_prompt:
            raise ConfigError(
                f"{self.model_name} cannot continue a prefilled assistant turn (the task sets gen_prefix); "
                "the method writes the thinking and the answer itself"
            )
        system, question = split_history(chat_history, self.model_name)
        prompt = build_prompt(self.tokenizer, self.fmt, question, system)
        self._parts[prompt] = (system, question)
        return prompt

    def parts(self, context: str | Sequence[dict[str, str]]) -> tuple[str | None, str]:
        """(system, question) for a request context: a rendered chat prompt, a plain context, or the chat
        history itself (lm-eval after 0.4.13 hands message lists to models that take them)."""
        if not isinstance(context, str):
            return split_history(context, self.model_name)
        if context in self._parts:
            return self._parts[context]
        if context.endswith(self.fmt.think_start):
            recovered = read_back_prompt(self.tokenizer, self.fmt, context)
            if recovered is not None:
                self._parts[context] = recovered
                return recovered
            raise ConfigError(
                f"{self.model_name} got a chat-rendered prompt it did not render (from --cache_requests?); "
                "rerun with --cache_requests refresh"
            )
        return None, question_from_context(context)


def split_history(chat_history: Sequence[dict[str, str]], model_name: str) -> tuple[str | None, str]:
    """System text and the one user message of a zero-shot chat history."""
    system_parts = [m["content"] for m in chat_history if m.get("role") == "system"]
    turns = [m for m in chat_history if m.get("role") != "system"]
    if len(turns) != 1 or turns[0].get("role") != "user":
        raise ConfigError(
            f"{model_name} takes one user turn per request; for few-shot tasks with --apply_chat_template "
            "pass --fewshot_as_multiturn false (the examples then go into the user message)"
        )
    return ("\n\n".join(system_parts) if system_parts else None), question_from_context(turns[0]["content"])


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """The text up to the first of lm-eval's `until` strings (applied to the answer phase only)."""
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]
