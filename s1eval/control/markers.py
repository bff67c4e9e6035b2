"""Remaining-budget markers inside the thinking, for models trained with them (the s1 paper's TCC/SCC variant).

A marker tells the model how much budget is left, e.g. ``<|im_start|>3500 tokens left`` or
``<|im_start|>7 steps left``. The text format lives here and only here: generation (`conditional.py` forces a
marker between chunks of thinking) and the training recipe (`insert_markers` on a reasoning trace) import it,
so a model is always evaluated with the markers it was trained on.

Positions are counted in the model's own tokens of *generated* thinking (the marker text is not counted):
a marker goes after every `interval` thinking tokens while budget remains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from s1eval.errors import ConfigError, require_positive

Unit = Literal["tokens", "steps"]

MARKER_PREFIX = "<|im_start|>"
"""Markers open like a ChatML section header, as in the s1 paper's examples."""
TOKEN_MARKER = "{prefix}{remaining} tokens left\n"
STEP_MARKER = "{prefix}{remaining} steps left\n"
STEP_TOKENS = 100
"""One SCC step is about this many thinking tokens (the paper's choice)."""
DEFAULT_INTERVAL = 100
"""Thinking tokens between two markers (one marker per step for SCC)."""

MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"\d+ (?:tokens|steps) left\n")


def token_marker(remaining: int, prefix: str = MARKER_PREFIX) -> str:
    """The marker saying `remaining` thinking tokens are left."""
    return TOKEN_MARKER.format(prefix=prefix, remaining=max(0, int(remaining)))


def step_marker(remaining_steps: int, prefix: str = MARKER_PREFIX) -> str:
    """The marker saying `remaining_steps` steps of thinking are left."""
    return STEP_MARKER.format(prefix=prefix, remaining=max(0, int(remaining_steps)))


def steps_for(budget_tokens: int, step_tokens: int = STEP_TOKENS) -> int:
    """How many steps a token budget is worth (at least one)."""
    return max(1, round(budget_tokens / step_tokens))


def strip_markers(text: str) -> str:
    """The thinking without its markers (for display, or to compare with an unmarked trace)."""
    return MARKER_RE.sub("", text)


@dataclass(frozen=True)
class MarkerSchedule:
    """Where markers go in one sample's thinking and what they say.

    `budget` is in the schedule's unit: tokens for TCC, steps for SCC (a step being `step_tokens` tokens).
    Markers sit at every multiple of `interval` generated thinking tokens while budget remains.
    """

    unit: Unit
    budget: int
    interval: int = DEFAULT_INTERVAL
    step_tokens: int = STEP_TOKENS
    prefix: str = MARKER_PREFIX

    def __post_init__(self) -> None:
        if self.unit not in ("tokens", "steps"):
            raise ConfigError(f"marker unit must be 'tokens' or 'steps', got {self.unit!r}")
        require_positive("marker budget", self.budget, "Give the budget the prompt states.")
        require_positive(
            "marker_interval", self.interval, "Give the thinking tokens between markers, e.g. 100."
        )
        require_positive("step_tokens", self.step_tokens, "A step is about 100 tokens.")

    def remaining(self, generated: int) -> int:
        """Budget left (in the unit) after `generated` thinking tokens."""
        if self.unit == "tokens":
            return self.budget - generated
        return self.budget - generated // self.step_tokens

    def next_at(self, generated: int) -> int | None:
        """The thinking-token count of the next marker strictly after `generated`, or None when none is due."""
        at = (generated // self.interval + 1) * self.interval
        return at if self.remaining(at) > 0 else None

    def text(self, generated: int) -> str:
        """The marker to force after `generated` thinking tokens."""
        left = self.remaining(generated)
        return token_marker(left, self.prefix) if self.unit == "tokens" else step_marker(left, self.prefix)

    def positions(self, total: int) -> list[int]:
        """Every marker position within `total` generated thinking tokens (a marker at `total` is left out)."""
        out = []
        at = self.next_at(0)
        while at is not None and at < total:
            out.append(at)
            at = self.next_at(at)
        return out


def insert_markers(
    thinking_text: str,
    tokenizer: Any,
    *,
    unit: Unit = "tokens",
    budget: int | None = None,
    interval: int = DEFAULT_INTERVAL,
    step_tokens: int = STEP_TOKENS,
    prefix: str = MARKER_PREFIX,
) -> str:
    """A reasoning trace with markers inserted where generation would force them.

    `budget` is what the training prompt states (tokens, or steps for unit="steps"); by default the trace's
    own length, so the markers count down to its end. Text is split at token boundaries by character
    offsets, so the trace itself is kept byte for byte.
    """
    offsets = _token_offsets(thinking_text, tokenizer)
    total = len(offsets)
    if total == 0:
        return thinking_text
    if budget is None:
        budget = total if unit == "tokens" else math.ceil(total / step_tokens)
    schedule = MarkerSchedule(unit, budget, interval, step_tokens, prefix)
    pieces, start = [], 0
    for at in schedule.positions(total):
        cut = offsets[at][0]
        pieces += [thinking_text[start:cut], schedule.text(at)]
        start = cut
    pieces.append(thinking_text[start:])
    return "".join(pieces)


def _token_offsets(text: str, tokenizer: Any) -> Sequence[tuple[int, int]]:
    """(start, end) character offsets of each token of `text`."""
    if not text:
        return []
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = [tuple(o) for o in enc["offset_mapping"]]
        if offsets and all(a <= b for a, b in offsets):
            return offsets
    except (TypeError, KeyError, NotImplementedError, ValueError):
        pass
    ids = tokenizer.encode(text, add_special_tokens=False)
    out, prev = [], 0
    for k in range(1, len(ids) + 1):  # slow tokenizers: offsets from decoded prefix lengths
        end = len(tokenizer.decode(ids[:k], skip_special_tokens=False))
        out.append((prev, end))
        prev = end
    return out
