"""The registry of control methods, one entry point shared by the CLI, lm-eval, Inspect and studies.

Every method takes questions (the user message text), builds its own prompts through the thinking format
(TCC/SCC/CCC change the prompt), drives an engine, and returns results keyed by its x-axis value: a token
budget for bf/tcc/scc/rs, a class name for ccc, the number of samples for vote.

Settings arrive as Python values or as strings (lm-eval's `--model_args`, CLI options); `settings_from_kwargs`
converts and validates them against the method's config dataclass and names the valid keys on a typo.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from s1eval.control.base import ControlResult
from s1eval.control.budget_forcing import BudgetForcingConfig, parse_extension_strings, run_budget_sweep
from s1eval.engines.base import Engine, SamplingParams
from s1eval.errors import ConfigError
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt

Progress = Callable[[int], None]


class Method(Protocol):
    name: str
    config_class: type

    def run(
        self,
        engine: Engine,
        fmt: ThinkingFormat,
        questions: Sequence[str],
        config: Any,
        *,
        budgets: Sequence[Any] | None = None,
        seeds: Sequence[int | None] | None = None,
        system: str | None = None,
        progress: Progress | None = None,
    ) -> dict[Any, list[ControlResult]]: ...

    def default_budgets(self, config: Any) -> list[Any]: ...


_REGISTRY: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    _REGISTRY[method.name] = method
    return method


def get_method(name: str) -> Method:
    _load_builtin_methods()
    key = name.strip().lower()
    if key not in _REGISTRY:
        raise ConfigError(f"unknown method {name!r}; use one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def method_names() -> list[str]:
    _load_builtin_methods()
    return sorted(_REGISTRY)


def _load_builtin_methods() -> None:
    """Import the method modules that register themselves (kept lazy so importing s1eval stays cheap)."""
    import importlib

    for module in ("s1eval.control.conditional", "s1eval.control.rejection", "s1eval.control.voting"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a method module that is not written yet
            if exc.name != module:
                raise


# --------------------------------------------------------------------------- settings parsing
SAMPLING_KEYS = set(SamplingParams.__dataclass_fields__)
SETTING_ALIASES = {"extension_string": "extension_strings", "budget": "max_thinking_tokens"}


def settings_from_kwargs(config_class: type, kwargs: dict[str, Any], *, method: str) -> Any:
    """Build a method config from loose keyword arguments (strings allowed), refusing unknown keys."""
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    kwargs = dict(kwargs)
    for alias, target in SETTING_ALIASES.items():
        if alias in kwargs and alias not in fields and target in fields:
            kwargs[target] = kwargs.pop(alias)
    sampling_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in SAMPLING_KEYS and k not in fields}
    unknown = sorted(set(kwargs) - set(fields))
    if unknown:
        valid = ", ".join(sorted(set(fields) - {"sampling"} | SAMPLING_KEYS))
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} for method {method!r}; valid: {valid}")
    hints = typing.get_type_hints(config_class)
    values: dict[str, Any] = {}
    for key, raw in kwargs.items():
        values[key] = _convert(key, raw, hints[key], method)
    if sampling_kwargs and "sampling" in fields:
        base = values.get("sampling", SamplingParams())
        sampling_hints = typing.get_type_hints(SamplingParams)
        values["sampling"] = base.merged(
            **{k: _convert(k, v, sampling_hints[k], method) for k, v in sampling_kwargs.items()}
        )
    missing = [
        f.name
        for f in fields.values()
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in values
    ]
    if missing:
        raise ConfigError(f"method {method!r} needs {', '.join(missing)} (e.g. --max-thinking-tokens 4000)")
    return config_class(**values)


def _convert(key: str, raw: Any, hint: Any, method: str) -> Any:
    if key in ("extension_strings", "extension_string"):
        return parse_extension_strings(raw)
    if not isinstance(raw, str):
        return raw
    if key == "max_thinking_tokens" and raw.strip().lower() == "auto":
        return "auto"  # up to the context length (budget_forcing.resolve_auto_budgets)
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and args:
        if raw.strip().lower() in ("none", "null", ""):
            return None
        hint = args[0]
        origin = typing.get_origin(hint)
    try:
        if hint is bool:
            low = raw.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return low in ("true", "1", "yes")
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if origin is tuple:
            return tuple(part for part in raw.split("|"))
        if origin is dict:
            import json

            return json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"setting {key}={raw!r} for method {method!r} is not a valid {hint}") from exc
    return raw


# --------------------------------------------------------------------------- registry entries
class RegisteredMethod:
    """Base of the registry entries: `run` (the Method protocol) resolves the x values and hands the rest to
    the entry's `execute`, so each entry only says how its method runs."""

    name: str
    config_class: type

    def default_budgets(self, config: Any) -> list[Any]:
        return [config.max_thinking_tokens]

    def run(
        self,
        engine: Engine,
        fmt: ThinkingFormat,
        questions: Sequence[str],
        config: Any,
        *,
        budgets: Sequence[Any] | None = None,
        seeds: Sequence[int | None] | None = None,
        system: str | None = None,
        progress: Progress | None = None,
    ) -> dict[Any, list[ControlResult]]:
        chosen = list(budgets) if budgets else self.default_budgets(config)
        return self.execute(
            engine, fmt, questions, chosen, config, seeds=seeds, system=system, progress=progress
        )

    def execute(
        self,
        engine: Engine,
        fmt: ThinkingFormat,
        questions: Sequence[str],
        budgets: list[Any],
        config: Any,
        **options,
    ) -> dict[Any, list[ControlResult]]:
        """Run at the given x values; `options` are seeds, system and progress."""
        raise NotImplementedError


@dataclass(frozen=True)
class BudgetForcingMethod(RegisteredMethod):
    """`bf`: the paper's budget forcing (cap + optional extensions), swept over budgets from one trajectory."""

    name: str = "bf"
    config_class: type = BudgetForcingConfig

    def execute(self, engine, fmt, questions, budgets, config, *, system=None, **options):
        prompts = [build_prompt(engine.tokenizer, fmt, q, system) for q in questions]
        return run_budget_sweep(engine, fmt, prompts, budgets, config, method=self.name, **options)


register_method(BudgetForcingMethod())


@dataclass
class PreparedMethod:
    """A method bound to an engine and a checked thinking format: what every front end runs."""

    method: Method
    config: Any
    fmt: ThinkingFormat
    engine: Engine

    def run(
        self,
        questions: Sequence[str],
        *,
        budgets: Sequence[Any] | None = None,
        seeds: Sequence[int | None] | None = None,
        system: str | None = None,
        progress: Progress | None = None,
    ) -> dict[Any, list[ControlResult]]:
        return self.method.run(
            self.engine,
            self.fmt,
            questions,
            self.config,
            budgets=budgets,
            seeds=seeds,
            system=system,
            progress=progress,
        )

    def budgets(self, budgets: Sequence[Any] | None = None) -> list[Any]:
        """The x values to run, each once (a repeated budget would write its samples twice)."""
        chosen = list(budgets) if budgets else self.method.default_budgets(self.config)
        return list(dict.fromkeys(chosen))


def validate_method(method: str, settings: dict[str, Any]) -> tuple[Method, Any]:
    """Check a method name and its settings before anything expensive (like loading a model) happens."""
    chosen = get_method(method)
    return chosen, settings_from_kwargs(chosen.config_class, dict(settings), method=chosen.name)


def prepare_method(
    engine: Engine, method: str, settings: dict[str, Any], format_name: str | ThinkingFormat | None = "auto"
) -> PreparedMethod:
    """Resolve the format (detect + preflight the tokenizer), the method and its validated settings."""
    from s1eval.formats.prompting import preflight, resolve_format

    chosen, config = validate_method(method, settings)
    fmt = resolve_format(format_name, engine.tokenizer)
    preflight(engine.tokenizer, fmt, engine.model_id)
    return PreparedMethod(chosen, config, fmt, engine)
