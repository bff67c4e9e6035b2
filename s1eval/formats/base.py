"""Thinking formats: where thinking starts and ends in a model's chat layout, and how an answer is forced.

A format names the *end marker*: the single special token whose sampling means "the model wants to stop
thinking" (`<|im_start|>` for s1's `<|im_start|>answer`, `</think>` for R1/Qwen3). Budget forcing stops on that
token without committing it, so suppressing the delimiter throws no generated token away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s1eval.errors import ConfigError


@dataclass(frozen=True)
class ReferenceDelimiters:
    """The s1 lm-eval fork's gen_kwargs for a format (what `compat="reference"` budget forcing forces).

    The fork's defaults are s1's: `thinking_start="<|im_start|>think"` (the model writes the newline),
    `thinking_end="<|im_start|>answer"` (at a natural end; the cap adds `"\\nFinal Answer:"`),
    `until_thinking="<|im_start|>"`. The fork has no R1 run; for R1/Qwen3 the equivalent is `<think>\\n`,
    `</think>`, `</think>` (docs/reference-differences.md).
    """

    think_start: str
    think_end: str
    until_thinking: str


@dataclass(frozen=True)
class ThinkingFormat:
    name: str
    think_start: str
    """Text that opens the thinking, appended after the chat template's generation prompt."""
    think_end: str
    """Text that closes the thinking and opens the answer."""
    end_marker: str
    """The special token that begins `think_end`; sampling it in the thinking phase ends thinking."""
    extra_think_stops: tuple[str, ...] = ()
    """Other special tokens that end thinking too (end of turn, end of text)."""
    answer_stops: tuple[str, ...] = ()
    """Special tokens that end the answer (end of turn)."""
    answer_prefix: str = "Final Answer:"
    """Forced after `think_end` when the thinking budget is spent (the paper's cap)."""
    default_system: str | None = None
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    reference: ReferenceDelimiters | None = None
    """The fork's delimiters for this format (None: think_start, think_end without newlines, end_marker)."""

    def reference_delimiters(self) -> ReferenceDelimiters:
        if self.reference is not None:
            return self.reference
        return ReferenceDelimiters(self.think_start, self.think_end.strip("\n"), self.end_marker)

    def forced_answer_text(self) -> str:
        """What the cap appends: the end-of-thinking delimiter and the answer prefix."""
        return self.think_end + self.answer_prefix


S1 = ThinkingFormat(
    name="s1",
    think_start="<|im_start|>think\n",
    think_end="<|im_start|>answer\n",
    end_marker="<|im_start|>",
    extra_think_stops=("<|im_end|>", "<|endoftext|>"),
    answer_stops=("<|im_end|>", "<|endoftext|>"),
    default_system="You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    description="s1 ChatML: <|im_start|>think ... <|im_start|>answer (s1-32B, s1.1, models trained by s1eval)",
    aliases=("s1k", "chatml"),
    reference=ReferenceDelimiters("<|im_start|>think", "<|im_start|>answer", "<|im_start|>"),
)

R1 = ThinkingFormat(
    name="r1",
    think_start="<think>\n",
    think_end="\n</think>\n\n",
    end_marker="</think>",
    extra_think_stops=("<|im_end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"),
    answer_stops=("<|im_end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"),
    description="R1 / Qwen3 / QwQ: <think> ... </think>",
    aliases=("qwen3", "deepseek-r1", "think"),
    reference=ReferenceDelimiters("<think>\n", "</think>", "</think>"),
)

FORMATS: dict[str, ThinkingFormat] = {f.name: f for f in (S1, R1)}


def get_format(name: str | ThinkingFormat) -> ThinkingFormat:
    """Look a format up by name or alias."""
    if isinstance(name, ThinkingFormat):
        return name
    key = name.strip().lower()
    for fmt in FORMATS.values():
        if key == fmt.name or key in fmt.aliases:
            return fmt
    known = ", ".join(sorted(FORMATS))
    raise ConfigError(f"unknown thinking format {name!r}; use one of: {known} (or 'auto' to detect it)")
