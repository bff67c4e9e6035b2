"""Options shared by the commands that run a model: the engine, the thinking format, the method settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from s1eval.errors import ConfigError, RunFailed

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
            "--batch-size", type=int, default=16, show_default=True, help="hf: sequences decoded together."
        ),
        click.option("--dtype", default="auto", show_default=True),
        click.option("--device", default="auto", show_default=True),
        click.option("--revision", default=None, help="Model revision (branch, tag or commit)."),
        click.option(
            "--trust-remote-code", is_flag=True, help="Run the model repository's own code (off by default)."
        ),
        click.option(
            "--base-url", multiple=True, help="openai: server URL(s), e.g. http://127.0.0.1:8000/v1."
        ),
        click.option("--tensor-parallel-size", type=int, default=None, help="vllm: GPUs per model replica."),
        click.option("--system", default=None, help="System prompt (default: the format's)."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def method_options(func: Callable) -> Callable:
    decorators = [
        click.option(
            "--method", default="bf", show_default=True, help="bf, tcc, scc, ccc, rs, vote, tcc+bf, scc+bf."
        ),
        click.option("--max-thinking-tokens", type=int, default=None, help="Thinking budget in tokens."),
        click.option(
            "--budgets", default=None, help="Comma-separated x values, e.g. 512,1024,2048 (one sweep)."
        ),
        click.option(
            "--extensions", type=int, default=None, help="bf: times to suppress the end of thinking."
        ),
        click.option(
            "--min-thinking-tokens", type=int, default=None, help="bf: extend until this many tokens."
        ),
        click.option(
            "--extension-string", default=None, help="Wait, Hmm, Alternatively, none, cycle or A|B|C."
        ),
        click.option("--max-answer-tokens", type=int, default=None),
        click.option("--temperature", type=float, default=None),
        click.option("--top-p", type=float, default=None),
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
    """Collect the method name, its settings (as strings/values) and the budgets from parsed options."""
    settings: dict[str, Any] = {}
    for option, key in METHOD_OPTIONS.items():
        if options.get(option) is not None:
            settings[key] = options[option]
    for item in options.get("extra_settings") or ():
        if "=" not in item:
            raise ConfigError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        settings[key.strip()] = value
    budgets = parse_budgets(options.get("budgets"))
    capped = options["method"] in ("bf", "tcc+bf", "scc+bf")
    if budgets and capped and "max_thinking_tokens" not in settings:
        # a sweep thinks once with its largest budget: --budgets alone is enough
        settings["max_thinking_tokens"] = max(b for b in budgets if isinstance(b, int))
    return MethodChoice(options["method"], settings, budgets)


def parse_budgets(text: str | None) -> list[Any] | None:
    """'512,1024' -> [512, 1024]; non-numeric values (CCC classes) stay strings."""
    if not text:
        return None
    values: list[Any] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(int(part))
        except ValueError:
            values.append(part)
    if not values:
        raise ConfigError("--budgets is empty; give e.g. 512,1024,2048")
    return list(dict.fromkeys(values))  # 8,4,8 runs 8 once


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
    return create_engine(kind, options["model"], **kwargs)
