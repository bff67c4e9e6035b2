"""The Engine protocol: the one small surface every backend (hf, vllm, openai, fake) implements.

Control methods speak only this protocol. A request carries the whole context as token ids (the engine's own
tokenizer), so a continuation is just a longer context: backends that can keep a cache (hf's KV cache, vLLM's
prefix cache, a server's prefix cache) reuse it, and the others re-encode. Nothing else is shared state.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

from s1eval.errors import OPTION_SPELLINGS, ConfigError, S1EvalError, option

StopReason = Literal["stop_token", "stop_string", "length", "error"]


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings, shaped like vLLM's `SamplingParams` (temperature 0 means greedy)."""

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0

    def __post_init__(self) -> None:
        """Refuse values no sampler accepts, in every front end, before anything runs."""
        import math

        checks = (
            ("temperature", self.temperature >= 0.0, ">= 0 (0 is greedy)"),
            ("top_p", 0.0 < self.top_p <= 1.0, "in (0, 1]"),
            ("top_k", self.top_k >= -1, ">= 0 (0 or -1: no top-k)"),
            ("repetition_penalty", self.repetition_penalty > 0.0, "> 0 (1 is none)"),
            ("frequency_penalty", -2.0 <= self.frequency_penalty <= 2.0, "in [-2, 2]"),
            ("presence_penalty", -2.0 <= self.presence_penalty <= 2.0, "in [-2, 2]"),
        )
        for name, ok, rule in checks:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not ok
            ):
                shown = option(name, value) if name in OPTION_SPELLINGS else f"{name}={value!r}"
                raise ConfigError(f"{shown}: {name} must be {rule}")

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def merged(self, **overrides: float | int | None) -> SamplingParams:
        """A copy with the given fields replaced; `None` values leave a field as it is."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class GenerationRequest:
    """One sequence to extend.

    `context_ids` is everything the model sees (prompt + earlier rounds + forced text). `cache_key` names the
    sequence across calls so a backend can find its cache; a request whose context shares a prefix with the
    cached sequence of the same key only pays for the new suffix. `min_new_tokens` suppresses the stop tokens
    for that many steps (vLLM's `min_tokens`), which is how "ignore the end-of-thinking delimiter" is done.
    A request with `max_new_tokens=0` generates nothing: it is a keep-alive that tells a caching backend the
    sequence will be continued later (the hf engine otherwise frees caches a call does not mention).
    """

    context_ids: list[int]
    max_new_tokens: int
    stop_token_ids: tuple[int, ...] = ()
    stop_strings: tuple[str, ...] = ()
    sampling: SamplingParams = field(default_factory=SamplingParams)
    seed: int | None = None
    min_new_tokens: int = 0
    cache_key: Hashable | None = None


@dataclass
class GenerationResult:
    """What the engine produced for one request.

    `token_ids` are the kept generated tokens: a stop token is reported in `stop_token` and is not part of them
    (it is the model's signal, never committed to the context); a matched stop string is cut from the text and
    the tokens that spelled it are counted in `discarded_tokens`.
    """

    text: str
    token_ids: list[int]
    stop_reason: StopReason
    stop_token: int | None = None
    stop_string: str | None = None
    discarded_tokens: int = 0
    error: str | None = None

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


@runtime_checkable
class Tokenizer(Protocol):
    """The part of a tokenizer the control core needs (a transformers tokenizer satisfies it)."""

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = ...) -> str: ...


@runtime_checkable
class Engine(Protocol):
    """A backend that extends batches of token sequences.

    `EngineBase` gives the last four members their defaults (no batch limit, lock-step driving, nothing to
    release); an engine overrides what it does better (the hf engine schedules programs itself and keeps KV
    caches that `release` frees; the openai engine holds connections that `close` shuts).
    """

    name: str
    model_id: str
    tokenizer: Tokenizer
    max_batch_size: int | None
    """Rows per `generate` call the engine prefers; None: give it everything at once (it batches itself)."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Extend every request; one result per request, in order. Never raises for one bad row."""
        ...

    def describe(self) -> dict:
        """Settings that identify this engine in a run manifest and a cache key."""
        ...

    def drive(self, programs: Sequence[Any]) -> list[Any]:
        """Run control programs (`engines.programs.Program`) to completion; their return values, in order."""
        ...

    def release(self) -> None:
        """Free what the engine keeps between the calls of one method (KV caches); it stays usable."""
        ...

    def close(self) -> None:
        """Free what the engine holds beyond the model's weights (caches, connections); it is not used again."""
        ...


ENGINE_MEMBERS: tuple[str, ...] = ("generate", "describe", "drive", "release", "close", "max_batch_size")


def require_engine(engine: object) -> None:
    """A clear error for an engine written before drive/release/close/max_batch_size joined the protocol."""
    missing = [name for name in ENGINE_MEMBERS if not hasattr(engine, name)]
    if missing:
        raise ConfigError(
            f"engine {type(engine).__name__} lacks {', '.join(missing)}; subclass s1eval.engines.EngineBase "
            "(it gives drive, release, close and max_batch_size their defaults)"
        )


class EngineBase:
    """Defaults for the optional members of `Engine`; every s1eval engine inherits them."""

    max_batch_size: int | None = None

    def drive(self, programs: Sequence[Any]) -> list[Any]:
        from s1eval.engines.programs import drive_lockstep

        return drive_lockstep(self, programs)  # type: ignore[arg-type]

    def release(self) -> None:
        return None

    def close(self) -> None:
        self.release()


class EngineError(S1EvalError, RuntimeError):
    """A backend failed in a way a user can fix (bad model path, unreachable server, ...)."""
