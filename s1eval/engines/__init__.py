"""Engines: one protocol, several backends (hf in-process, vllm offline, any OpenAI-compatible server, fake)."""

from __future__ import annotations

from typing import Any

from s1eval.engines.base import (
    Engine,
    EngineBase,
    EngineError,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    Tokenizer,
)
from s1eval.errors import ConfigError

ENGINE_NAMES = ("hf", "vllm", "openai")


def create_engine(kind: str, model: str, **options: Any) -> Engine:
    """Build an engine by name; options are the backend's own keyword arguments."""
    kind = (kind or "hf").strip().lower()
    if kind == "hf":
        from s1eval.engines.hf import HFEngine

        return HFEngine(model, **options)
    if kind == "vllm":
        from s1eval.engines.vllm import VLLMEngine

        return VLLMEngine(model, **options)
    if kind == "openai":
        from s1eval.engines.openai import OpenAIEngine

        return OpenAIEngine(model, **options)
    raise ConfigError(f"unknown engine {kind!r}; use one of: {', '.join(ENGINE_NAMES)}")


__all__ = [
    "ENGINE_NAMES",
    "Engine",
    "EngineBase",
    "EngineError",
    "GenerationRequest",
    "GenerationResult",
    "SamplingParams",
    "Tokenizer",
    "create_engine",
]
