"""The registry of control methods, one entry point shared by the CLI, lm-eval, Inspect and studies.

Every method takes questions (the user message text), builds its own prompts through the thinking format
(TCC/SCC/CCC change the prompt), drives an engine, and returns results keyed by its x-axis value: a token
budget for bf/tcc/scc/rs, a class name for ccc, the number of samples for vote.

Settings arrive as Python values or as strings (lm-eval's `--model_args`, CLI options); `settings_from_kwargs`
converts and validates them against the method's config dataclass and names the valid keys on a typo.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from s1eval.control.base import ControlResult
from s1eval.control.budget_forcing import BudgetForcingConfig, parse_extension_strings, run_budget_sweep
from s1eval.engines.base import Engine, SamplingParams
from s1eval.errors import ConfigError, option
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


@dataclass(frozen=True)
class MethodInfo:
    """What every front end needs to know of a method, declared once where the method is registered.

    The lm-eval model classes and entry points, the Inspect solvers, the CLI's `--method` choices, `s1eval
    methods` and the report's labels and order are made from (or checked against, in
    tests/test_method_registry.py) these entries."""

    name: str
    display: str
    """How tables and plots name it (BF, TCC, TCC+BF, ...)."""
    summary: str
    """One line: what the method does."""
    lm_eval_class: str
    """The class in s1eval.integrations.lm_eval.models (model `s1_<name>`, `+` as `_`)."""
    inspect_solver: str | None
    """The Inspect solver `s1eval/<this>`; None: run it with `s1eval/control` and method=<name>."""
    config_class: type
    x_unit: str
    sweep_sets_cap: bool
    samples_by_default: bool
    """Whether its default sampling is not greedy (rs, vote)."""


_INFO: dict[str, MethodInfo] = {}


def register_method(
    method: Method,
    *,
    display: str | None = None,
    summary: str | None = None,
    lm_eval_class: str | None = None,
    inspect_solver: str | None = None,
) -> Method:
    """Add a method to the registry with its names in every front end (a plugin may leave them to the defaults:
    the name in capitals, its config's first docstring line, a generated lm-eval class, `s1eval/control`)."""
    _REGISTRY[method.name] = method
    doc = (method.config_class.__doc__ or method.name).strip().splitlines()[0]
    sampling = getattr(method.config_class, "__dataclass_fields__", {}).get("sampling")
    default = (
        sampling.default_factory() if sampling is not None and callable(sampling.default_factory) else None
    )
    _INFO[method.name] = MethodInfo(
        name=method.name,
        display=display or method.name.upper(),
        summary=summary or doc,
        lm_eval_class=lm_eval_class or "S1LM_" + re.sub(r"[^a-z0-9_]", "_", method.name.lower()),
        inspect_solver=inspect_solver,
        config_class=method.config_class,
        x_unit=getattr(method, "x_unit", "tokens"),
        sweep_sets_cap=bool(getattr(method, "sweep_sets_cap", False)),
        samples_by_default=default is not None and not default.greedy,
    )
    return method


def method_info(name: str) -> MethodInfo:
    """The front-end names and properties of a registered method."""
    return _INFO[get_method(name).name]


def registered_methods() -> list[MethodInfo]:
    """Every method, in the order they are registered (the order of tables and listings)."""
    _load_builtin_methods()
    return list(_INFO.values())


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
        raise ConfigError(
            f"method {method!r} needs {', '.join(missing)} (e.g. {option('max_thinking_tokens', 4000)})"
        )
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
XUnit = Literal["tokens", "class", "samples"]
AUTO = "auto"


class RegisteredMethod:
    """Base of the registry entries: `run` (the Method protocol) resolves the x values and hands the rest to
    the entry's `execute`, so each entry only says how its method runs.

    `x_unit` is what the method's x-axis counts: thinking tokens (bf, tcc, scc, rs and the +bf variants), a
    class name (ccc: one of `x_choices`) or a number of samples (vote). `x_values` checks the x values a user
    gave against it before anything runs."""

    name: str
    config_class: type
    x_unit: XUnit = "tokens"
    x_choices: tuple[str, ...] = ()
    accepts_auto: bool = False
    sweep_sets_cap: bool = False
    """A sweep thinks once, up to its largest x (bf's anytime sweep); the others run each x on its own."""

    def default_budgets(self, config: Any) -> list[Any]:
        return [config.max_thinking_tokens]

    def x_values(self, values: Sequence[Any] | None) -> list[Any] | None:
        """The user's x values checked against the method's unit, each once (one-line errors name the fix)."""
        if values is None:
            return None
        out: list[Any] = []
        for value in values:
            out.append(self._x_value(value))
        return list(dict.fromkeys(out))

    def _x_value(self, value: Any) -> Any:
        text = str(value).strip()
        if self.x_unit == "class":
            if text.lower() not in self.x_choices:
                raise ConfigError(
                    f"{self.name}'s x values are the classes {', '.join(self.x_choices)}, not {text!r}; give "
                    f"e.g. {option('budgets', self.x_choices[0])}"
                )
            return text.lower()
        if self.accepts_auto and text.lower() == AUTO:
            return AUTO
        what = "thinking tokens" if self.x_unit == "tokens" else "numbers of samples"
        example = "1024" if self.x_unit == "tokens" else "8"
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            number = int(text) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            auto = " or auto" if self.accepts_auto else ""
            raise ConfigError(
                f"{self.name}'s x values are {what}{auto}; {text!r} is not one (give e.g. "
                f"{option('budgets', example)})"
            ) from None
        if number <= 0:
            raise ConfigError(
                f"{self.name}'s x values must be positive {what}, got {number} ({option('budgets')})"
            )
        return number

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
    accepts_auto: ClassVar[bool] = True
    sweep_sets_cap: ClassVar[bool] = True

    def execute(self, engine, fmt, questions, budgets, config, *, system=None, **options):
        prompts = [build_prompt(engine.tokenizer, fmt, q, system) for q in questions]
        return run_budget_sweep(engine, fmt, prompts, budgets, config, method=self.name, **options)


register_method(
    BudgetForcingMethod(),
    display="BF",
    summary="budget forcing: cap the thinking at the budget (forced end + answer prefix), extend it with 'Wait'",
    lm_eval_class="S1BudgetForcingLM",
    inspect_solver="budget_forcing",
)


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

    def check_context(
        self,
        questions: Sequence[str],
        budgets: Sequence[Any] | None = None,
        system: str | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        """Before a run: every question's prompt + the largest token budget + the answer limit must fit the
        model (methods whose x is thinking tokens; `auto` fits by construction)."""
        from s1eval.control.budget_forcing import check_context, encode

        if getattr(self.method, "x_unit", "tokens") != "tokens" or not hasattr(
            self.config, "max_answer_tokens"
        ):
            return
        numbers = [b for b in self.budgets(budgets) if isinstance(b, int)]
        if not numbers:
            return
        ids = [
            encode(self.engine, build_prompt(self.engine.tokenizer, self.fmt, q, system)) for q in questions
        ]
        check_context(
            self.engine,
            self.fmt,
            ids,
            max(numbers),
            self.config.max_answer_tokens,
            getattr(self.config, "answer_prefix", None),
            names,
            intervention=getattr(self.config, "intervention", None),
        )

    def budgets(self, budgets: Sequence[Any] | None = None) -> list[Any]:
        """The x values to run, each once (a repeated budget would write its samples twice)."""
        chosen = list(budgets) if budgets else self.method.default_budgets(self.config)
        return list(dict.fromkeys(chosen))


def parse_budgets(value: str | int | Sequence[Any] | None) -> list[Any] | None:
    """'512,1024' or [512, 1024] -> [512, 1024], each once; words (CCC classes, auto) stay strings.

    Only the shape is read here; `resolve_settings` checks the values against the method's x unit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        parts: list[Any] = value.split(",")
    elif isinstance(value, Sequence):
        parts = list(value)
    else:
        parts = [value]
    out: list[Any] = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        try:
            out.append(int(text))
        except ValueError:
            out.append(text)
    if not out:
        raise ConfigError(f"{option('budgets')} is empty; give e.g. 512,1024,2048")
    return list(dict.fromkeys(out))  # 8,4,8 runs 8 once


@dataclass
class ResolvedSettings:
    """A method, its validated config and its checked x values: what every front end resolves first."""

    method: Method
    config: Any
    budgets: list[Any] | None


def resolve_settings(
    method: str, settings: dict[str, Any], budgets: str | Sequence[Any] | None = None
) -> ResolvedSettings:
    """Check a method name, its settings and its x values before anything expensive (a model load) happens.

    A sweep of a method that thinks once for all its budgets (bf: `sweep_sets_cap`) goes up to the largest:
    that budget is its `max_thinking_tokens` when none is given, and a smaller one is refused, not ignored.
    A method that runs each budget on its own (tcc, scc, rs) refuses `max_thinking_tokens` beside budgets."""
    chosen = get_method(method)
    values = chosen.x_values(parse_budgets(budgets))  # type: ignore[attr-defined]
    settings = dict(settings)
    fields = {f.name for f in dataclasses.fields(chosen.config_class)}
    if values and getattr(chosen, "x_unit", "tokens") == "tokens" and "max_thinking_tokens" in fields:
        numbers = [v for v in values if isinstance(v, int)]
        largest: Any = AUTO if AUTO in values else max(numbers)
        key = "max_thinking_tokens" if "max_thinking_tokens" in settings else "budget"
        given = settings.get(key)
        shown = ",".join(map(str, values))
        if not getattr(chosen, "sweep_sets_cap", False):
            if given is not None:
                raise ConfigError(
                    f"{chosen.name} runs each of {option('budgets', shown)} as its budget, so "
                    f"{option('max_thinking_tokens', given)} would be ignored; give only one of them"
                )
        elif given is None:
            settings["max_thinking_tokens"] = largest
        elif str(given).strip().lower() != AUTO and (largest == AUTO or _as_number(given) < largest):
            raise ConfigError(
                f"{option('max_thinking_tokens', given)} is below the largest of {option('budgets', shown)}: "
                "a sweep thinks up to its largest budget; leave out "
                f"{option('max_thinking_tokens')} (or make it {'auto' if largest == AUTO else f'at least {largest}'})"
            )
    config = settings_from_kwargs(chosen.config_class, settings, method=chosen.name)
    return ResolvedSettings(chosen, config, values)


def _as_number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{option('max_thinking_tokens', repr(value))} is not a number of tokens or auto"
        ) from None


def validate_method(method: str, settings: dict[str, Any]) -> tuple[Method, Any]:
    """Check a method name and its settings (no x values) before anything expensive happens."""
    resolved = resolve_settings(method, settings)
    return resolved.method, resolved.config


def prepare_method(
    engine: Engine,
    method: str,
    settings: dict[str, Any],
    format_name: str | ThinkingFormat | None = "auto",
    budgets: str | Sequence[Any] | None = None,
) -> PreparedMethod:
    """Resolve the format (detect + preflight the tokenizer), the method and its validated settings (with the
    x values to run, when a sweep's largest budget is the thinking budget)."""
    from s1eval.formats.prompting import preflight, resolve_format

    resolved = resolve_settings(method, settings, budgets)
    chosen, config = resolved.method, resolved.config
    fmt = resolve_format(format_name, engine.tokenizer)
    preflight(engine.tokenizer, fmt, engine.model_id)
    if getattr(config, "intervention", None) is not None:  # what this tokenizer cannot carry out, up front
        from s1eval.control.budget_forcing import ThinkingController, budget_forcing_config

        ThinkingController(engine, fmt, budget_forcing_config(config, 1), chosen.name)
    return PreparedMethod(chosen, config, fmt, engine)
