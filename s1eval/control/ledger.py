"""The per-sample token ledger: what a control method spent, round by round.

Token counts are the engine tokenizer's. `thinking_tokens` and `answer_tokens` count tokens the model
*generated*; text the method forced (an extension string, the end-of-thinking delimiter, the answer prefix)
is counted apart in `forced_tokens`. Invariant for budgeted methods: thinking_tokens <= budget.
`budget` is always a number: a budget set as "auto" is recorded as what it came to (and `budget_setting:
"auto"` in the extras). Budget forcing with `compat: "reference"` counts the forced extension tokens towards
the budget as the s1 fork does (thinking_tokens + their forced_tokens <= budget; docs/reference-differences.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RoundStop = Literal["delimiter", "eos", "budget", "length", "stop_string", "error"]


@dataclass
class Round:
    """One engine call for one sample."""

    phase: Literal["think", "answer"]
    generated: int
    stop: str
    forced: str | None = None
    forced_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"phase": self.phase, "generated": self.generated, "stop": self.stop}
        if self.forced is not None:
            out["forced"] = self.forced
            out["forced_tokens"] = self.forced_tokens
        return out


@dataclass
class Ledger:
    method: str
    budget: int | None
    thinking_tokens: int = 0
    answer_tokens: int = 0
    extensions: int = 0
    capped: bool = False
    outcome: str = "answered"
    forced_tokens: int = 0
    rounds: list[Round] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Method-specific fields (tries for RS, votes for majority voting, the CCC class, ...)."""

    def add_round(self, round_: Round) -> None:
        self.rounds.append(round_)
        if round_.phase == "think":
            self.thinking_tokens += round_.generated
        else:
            self.answer_tokens += round_.generated
        self.forced_tokens += round_.forced_tokens

    def to_dict(self) -> dict[str, Any]:
        out = {
            "method": self.method,
            "budget": self.budget,
            "thinking_tokens": self.thinking_tokens,
            "answer_tokens": self.answer_tokens,
            "extensions": self.extensions,
            "capped": self.capped,
            "outcome": self.outcome,
            "forced_tokens": self.forced_tokens,
            "rounds": [r.to_dict() for r in self.rounds],
        }
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        known = {k for k in cls.__dataclass_fields__ if k not in ("rounds", "extra")}
        rounds = [
            Round(
                phase=r["phase"],
                generated=r["generated"],
                stop=r["stop"],
                forced=r.get("forced"),
                forced_tokens=r.get("forced_tokens", 0),
            )
            for r in data.get("rounds", [])
        ]
        base = {k: data[k] for k in known if k in data}
        extra = {k: v for k, v in data.items() if k not in known and k != "rounds"}
        return cls(**base, rounds=rounds, extra=extra)

    def copy(self) -> Ledger:
        return Ledger.from_dict(asdict_ledger(self))


def asdict_ledger(ledger: Ledger) -> dict[str, Any]:
    """A deep, JSON-ready copy of a ledger."""
    return ledger.to_dict() | {"rounds": [asdict(r) for r in ledger.rounds]}
