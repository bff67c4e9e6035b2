"""Thinking formats: chat template + thinking delimiters + answer prefix."""

from s1eval.formats.base import FORMATS, R1, S1, ReferenceDelimiters, ThinkingFormat, get_format
from s1eval.formats.prompting import (
    build_prompt,
    detect_format,
    open_thinking,
    preflight,
    render_messages,
    resolve_format,
    single_token_id,
)

__all__ = [
    "FORMATS",
    "R1",
    "ReferenceDelimiters",
    "S1",
    "ThinkingFormat",
    "build_prompt",
    "detect_format",
    "get_format",
    "open_thinking",
    "preflight",
    "render_messages",
    "resolve_format",
    "single_token_id",
]
