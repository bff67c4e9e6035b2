"""User-facing errors. Each carries one line that says what is wrong and how to fix it.

A message names the setting to change with `option("max_thinking_tokens")`, a marker that each front end spells
its own way when it prints the error (`--max-thinking-tokens` in s1eval's CLI, `max_thinking_tokens=` in
lm-eval's `--model_args`, `-T max_thinking_tokens=` in Inspect), so a hint never names an option that does not
exist where it is read. `render_error(exc, front_end)` is the one formatter; `str(exc)` gives the Python
spelling (the plain setting name), for library users.
"""

from __future__ import annotations

import re

FRONT_ENDS = ("python", "cli", "lm_eval", "inspect")
# setting -> its spelling per front end, `{}` where a value goes; None: the front end has no such option (the
# plain name is printed). tests/test_error_hints.py checks that every spelling parses in its front end and that
# every option() used in s1eval is listed here.
OPTION_SPELLINGS: dict[str, dict[str, str | None]] = {
    "max_thinking_tokens": {
        "cli": "--max-thinking-tokens {}",
        "lm_eval": "max_thinking_tokens={} in --model_args",
        "inspect": "-T max_thinking_tokens={}",
    },
    "budgets": {"cli": "--budgets {}", "lm_eval": "at={} in --model_args", "inspect": "-T budgets={}"},
    "max_answer_tokens": {
        "cli": "--max-answer-tokens {}",
        "lm_eval": "max_answer_tokens={} in --model_args",
        "inspect": "-T max_answer_tokens={}",
    },
    "num_extensions": {
        "cli": "--extensions {}",
        "lm_eval": "num_extensions={} in --model_args",
        "inspect": "-T num_extensions={}",
    },
    "min_thinking_tokens": {
        "cli": "--min-thinking-tokens {}",
        "lm_eval": "min_thinking_tokens={} in --model_args",
        "inspect": "-T min_thinking_tokens={}",
    },
    "temperature": {
        "cli": "--temperature {}",
        "lm_eval": "temperature={} in --model_args",
        "inspect": "--temperature {}",
    },
    "top_p": {"cli": "--top-p {}", "lm_eval": "top_p={} in --model_args", "inspect": "--top-p {}"},
    "format": {"cli": "--format {}", "lm_eval": "format={} in --model_args", "inspect": "-M format={}"},
    "gpqa_path": {
        "cli": "--data-path {}",
        "lm_eval": '--metadata \'{{"gpqa_path": "{}"}}\'',
        "inspect": "-T data_path={}",
    },
    "model": {
        "cli": "--model {}",
        "lm_eval": "pretrained={} in --model_args",
        "inspect": "--model s1openai/{}",
    },
    "batch_size": {"cli": "--batch-size {}", "lm_eval": "--batch_size {}", "inspect": "-M batch_size={}"},
    "device": {"cli": "--device {}", "lm_eval": "--device {}", "inspect": "-M device={}"},
    "dtype": {"cli": "--dtype {}", "lm_eval": "dtype={} in --model_args", "inspect": "-M dtype={}"},
    "base_url": {
        "cli": "--base-url {}",
        "lm_eval": "base_url={} in --model_args",
        "inspect": "--model-base-url {}",
    },
    "server": {"cli": "--server {}", "lm_eval": "server={} in --model_args", "inspect": "-M server={}"},
    "max_retries": {
        "cli": "--max-retries {}",
        "lm_eval": "max_retries={} in --model_args",
        "inspect": "-M max_retries={}",
    },
    "request_timeout": {
        "cli": "--request-timeout {}",
        "lm_eval": "timeout={} in --model_args",
        "inspect": "-M timeout={}",
    },
    "compat": {
        "cli": "--set compat={}",
        "lm_eval": "compat={} in --model_args",
        "inspect": "-T compat={}",
    },
}

_MARKER = re.compile("\u00ab([a-z_]+)(?:\u001f([^\u00bb]*))?\u00bb")


def option(name: str, value: object = None) -> str:
    """Mark the setting `name` (with a value, e.g. an example) in an error message; `render_error` spells it
    for the front end that prints the message."""
    if name not in OPTION_SPELLINGS:
        raise KeyError(f"no front-end spelling for option {name!r}; add it to OPTION_SPELLINGS")
    return f"\u00ab{name}" + ("" if value is None else f"\u001f{value}") + "\u00bb"


def spell(name: str, front_end: str, value: object = None) -> str:
    """How the front end spells a setting (the plain name where it has none of its own)."""
    template = None if front_end == "python" else OPTION_SPELLINGS.get(name, {}).get(front_end)
    if template is None:
        return name if value is None else f"{name}={value}"
    if value is None:
        return template.replace(" {}", "").replace("{}", "").replace("{{", "{").replace("}}", "}")
    return template.format(value)


def render_message(text: str, front_end: str = "python") -> str:
    """A message with its option markers spelled for the front end, as one line."""
    text = _MARKER.sub(lambda m: spell(m.group(1), front_end, m.group(2)), text)
    return " ".join(text.split())


def render_error(exc: BaseException, front_end: str = "python") -> str:
    """The one formatter of users' mistakes: `error: <one line>` spelled for the front end."""
    raw = exc.raw_message() if isinstance(exc, S1EvalError) else str(exc)
    return f"error: {render_message(raw, front_end)}"


class S1EvalError(Exception):
    """Base of every error s1eval raises on purpose; front ends print it as one line (`render_error`)."""

    exit_code = 2

    def __init__(self, message: object = "", *args: object) -> None:
        # args hold the Python spelling, so repr(), pickling and hosts that print args never show a marker
        self._raw = str(message)
        super().__init__(render_message(self._raw, "python"), *args)

    def raw_message(self) -> str:
        return getattr(self, "_raw", None) or (str(self.args[0]) if self.args else "")


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
        label = option(name) if name in OPTION_SPELLINGS else name
        raise ConfigError(f"{label} must be a positive integer, got {value!r}.{hint}")
