"""Shared pieces of every control method: the result record and how prompts are chunked for an engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from s1eval.control.ledger import Ledger
from s1eval.engines.base import Engine, require_engine


@dataclass
class ControlResult:
    """One generated sample: the text pieces scoring needs and the ledger of what it cost."""

    prompt: str
    thinking: str
    """The thinking as the model saw it (generated text with forced extension strings in place)."""
    answer: str
    """The answer phase, forced answer prefix included; empty when there was no answer phase."""
    ledger: Ledger
    output: str = ""
    """Everything after the prompt: thinking, the end-of-thinking delimiter, the answer."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "output": self.output,
            "thinking": self.thinking,
            "answer": self.answer,
            "ledger": self.ledger.to_dict(),
        }


def chunks(n: int, engine: Engine) -> Iterator[range]:
    """Index ranges of the programs one `engine.drive` call takes: its `programs_per_drive` (an engine that
    refills finished rows takes several batches at once), else its preferred batch size (all at once when it
    has none).

    Every method chunks its prompts before anything else, so the engine's protocol is checked here, first.
    """
    require_engine(engine)
    size = getattr(engine, "programs_per_drive", None) or engine.max_batch_size or n or 1
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def run_key(prefix: str) -> str:
    """A cache-key namespace unique to one control call, so concurrent calls never share a cache row."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def derive_seed(seed: int | None, *parts: int) -> int | None:
    """A deterministic per-round / per-try seed from a sample's seed (None stays None)."""
    if seed is None:
        return None
    value = seed
    for p in parts:
        value = (value * 1_000_003 + p + 1) % (2**63 - 1)
    return value


def encode(engine: Engine, text: str) -> list[int]:
    return list(engine.tokenizer.encode(text, add_special_tokens=False)) if text else []


def decode(engine: Engine, ids: Sequence[int]) -> str:
    return engine.tokenizer.decode(list(ids), skip_special_tokens=False) if ids else ""
