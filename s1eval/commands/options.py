"""Options shared by the commands that run a model: the engine, the thinking format, the method settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from s1eval.control.methods import registered_methods
from s1eval.errors import ConfigError, RunFailed

DTYPES = ("auto", "float32", "float16", "bfloat16")


class BudgetType(click.ParamType):
    """A thinking budget: a positive number of tokens, or auto."""

    name = "TOKENS|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if text.isascii() and text.isdecimal() and int(text) > 0:
            return int(text)
        self.fail(f"{value!r} is not a positive number of tokens or auto", param, ctx)


BUDGET = BudgetType()

# CLI option name -> method setting name; only the options the user gave are passed to the method.
METHOD_OPTIONS: dict[str, str] = {
    "max_thinking_tokens": "max_thinking_tokens",
    "extensions": "num_extensions",
    "min_thinking_tokens": "min_thinking_tokens",
    "extension_string": "extension_strings",
    "max_answer_tokens": "max_answer_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "frequency_penalty": "frequency_penalty",
    "intervention": "intervention",
}


def engine_options(func: Callable) -> Callable:
    decorators = [
        click.option(
            "--model", "-m", required=True, help="Hub id or local path of the model (or the served name)."
        ),
        click.option(
            "--engine", type=click.Choice(["hf", "vllm", "openai"]), default="hf", show_default=True
        ),
        click.option(
            "--format",
            "format_name",
            default="auto",
            show_default=True,
            help="Thinking format: s1, r1 or auto.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=16,
            show_default=True,
            help="hf: sequences decoded together.",
        ),
        click.option(
            "--dtype",
            type=click.Choice(DTYPES),
            default="auto",
            show_default=True,
            help="hf: weights dtype (auto: bfloat16 on a GPU that has it, else float32).",
        ),
        click.option(
            "--device", default="auto", show_default=True, help="hf: auto, cpu, cuda, cuda:N or mps."
        ),
        click.option("--revision", default=None, help="Model revision (branch, tag or commit)."),
        click.option(
            "--trust-remote-code", is_flag=True, help="Run the model repository's own code (off by default)."
        ),
        click.option(
            "--base-url", multiple=True, help="openai: server URL(s), e.g. http://127.0.0.1:8000/v1."
        ),
        click.option(
            "--request-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="SECONDS",
            help="openai: seconds to wait for a reply before retrying [default: 30; raise it for long "
            "generations on a busy server].",
        ),
        click.option(
            "--server",
            type=click.Choice(["auto", "vllm", "transformers", "openai"]),
            default=None,
            help="openai: the server's dialect [default: auto, detected from GET /v1/models].",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0),
            default=None,
            help="openai: retries after a timeout, 429/5xx or dropped connection [default: 3].",
        ),
        click.option(
            "--tensor-parallel-size", type=click.IntRange(min=1), default=None, help="vllm: GPUs per replica."
        ),
        click.option("--system", default=None, help="System prompt (default: the format's)."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def method_options(func: Callable) -> Callable:
    decorators = [
        click.option(
            "--method",
            type=click.Choice([m.name for m in registered_methods()], case_sensitive=False),
            default="bf",
            show_default=True,
            help="A control method of the registry (s1eval methods lists them with their settings).",
        ),
        click.option(
            "--max-thinking-tokens",
            type=BUDGET,
            default=None,
            help="Thinking budget in tokens, or auto: up to the model's context length minus the prompt and "
            "the answer limit [default: auto for bf; 4000 for tcc, scc, rs]. Servers (--engine openai) do not "
            "report a context length: give a number there.",
        ),
        click.option(
            "--budgets", default=None, help="Comma-separated x values, e.g. 512,1024,2048 (one sweep)."
        ),
        click.option(
            "--extensions",
            type=click.IntRange(min=0),
            default=None,
            help="bf: times to suppress the end of thinking.",
        ),
        click.option(
            "--min-thinking-tokens",
            type=click.IntRange(min=1),
            default=None,
            help="bf: extend until this many tokens.",
        ),
        click.option(
            "--extension-string", default=None, help="Wait, Hmm, Alternatively, none, cycle or A|B|C."
        ),
        click.option("--max-answer-tokens", type=click.IntRange(min=1), default=None),
        click.option(
            "--intervention",
            default=None,
            metavar="NAME[:KEY=VALUE...]",
            help="bf: a thinking intervention (early_stop, wrap_up, alphaone, dynasor; `s1eval methods` lists "
            "their options), e.g. dynasor:interval=64:agree=3.",
        ),
        click.option("--temperature", type=click.FloatRange(min=0.0), default=None),
        click.option("--top-p", type=click.FloatRange(min=0.0, max=1.0, min_open=True), default=None),
        click.option("--frequency-penalty", type=float, default=None),
        click.option(
            "--set", "extra_settings", multiple=True, metavar="KEY=VALUE", help="Any other method setting."
        ),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


@dataclass
class MethodChoice:
    name: str
    settings: dict[str, Any]
    budgets: list[Any] | None


def method_from_options(options: dict[str, Any]) -> MethodChoice:
    """The method name, its settings and its x values from parsed options, checked by the registry
    (`resolve_settings`) before any model loads."""
    from s1eval.control.methods import resolve_settings

    settings: dict[str, Any] = {}
    for option, key in METHOD_OPTIONS.items():
        if options.get(option) is not None:
            settings[key] = options[option]
    for item in options.get("extra_settings") or ():
        if "=" not in item:
            raise ConfigError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        settings[key.strip()] = value
    resolved = resolve_settings(options["method"], settings, options.get("budgets"))
    return MethodChoice(resolved.method.name, settings, resolved.budgets)


def check_failures(records: list[dict[str, Any]], *, rerun: str) -> None:
    """Say how many samples failed with engine_error; a run where every sample failed is an error (exit 1).

    A run with no answer at all must not look like a model that scores 0: its accuracy would be published.
    """
    failed = [r for r in records if _outcome(r) == "engine_error"]
    if not failed:
        return
    first = str((failed[0].get("ledger") or {}).get("error") or failed[0].get("error") or "").strip()
    why = f" (first: {first.splitlines()[0][:160]})" if first else ""
    if len(failed) == len(records):
        raise RunFailed(f"all {len(records)} samples failed with engine_error{why}; {rerun}")
    click.echo(
        f"warning: {len(failed)} of {len(records)} samples failed with engine_error{why}; {rerun}", err=True
    )


def _outcome(record: dict[str, Any]) -> str | None:
    return record.get("outcome") or (record.get("ledger") or {}).get("outcome")


def engine_from_options(options: dict[str, Any]):
    """Build the engine the options describe."""
    from s1eval.engines import create_engine

    kind = options["engine"]
    if kind == "hf":
        kwargs: dict[str, Any] = {
            "batch_size": options["batch_size"],
            "dtype": options["dtype"],
            "device": options["device"],
            "revision": options["revision"],
            "trust_remote_code": options["trust_remote_code"],
        }
    elif kind == "vllm":
        kwargs = {"trust_remote_code": options["trust_remote_code"], "revision": options["revision"]}
        if options.get("tensor_parallel_size"):
            kwargs["tensor_parallel_size"] = options["tensor_parallel_size"]
    else:
        kwargs = {}
        if options.get("base_url"):
            kwargs["base_url"] = list(options["base_url"])
        if options.get("request_timeout") is not None:
            kwargs["timeout"] = options["request_timeout"]
        if options.get("max_retries") is not None:
            kwargs["max_retries"] = options["max_retries"]
        if options.get("server"):
            kwargs["server"] = options["server"]
    return create_engine(kind, options["model"], **kwargs)
