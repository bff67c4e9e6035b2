"""User-facing errors. Each carries one line that says what is wrong and how to fix it."""

from __future__ import annotations


class S1EvalError(Exception):
    """Base of every error s1eval raises on purpose; the CLI prints its message as one line."""


class ConfigError(S1EvalError, ValueError):
    """A setting is wrong (a budget of 0, an unknown format, an unknown model arg)."""


class DataError(S1EvalError, ValueError):
    """An input file is missing or malformed; the message names the file and line."""


class PreflightError(S1EvalError, ValueError):
    """The model or tokenizer cannot do what the method needs (e.g. the delimiter is not one token)."""


class RunFailed(S1EvalError, RuntimeError):
    """A run finished without a usable result (every sample an engine error); the CLI exits with status 1."""

    exit_code = 1


def require_positive(name: str, value: int | None, fix: str = "") -> None:
    """Refuse a budget or count that is not a positive integer."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        hint = f" {fix}" if fix else ""
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.{hint}")
