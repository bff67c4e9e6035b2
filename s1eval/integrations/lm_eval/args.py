"""lm-eval's `--model_args` and `--gen_kwargs` mapped onto an engine and a control method's settings.

`--model_args` hold three kinds of keys: the wrapper's own (`pretrained`, `engine`, `format`, ...), the
engine's constructor options (`dtype`, `revision`, `base_url`, ...: whatever the chosen engine takes), and the
method's settings (`max_thinking_tokens`, `num_extensions`, `extension_string`, ...), validated by the method
registry. A key that is none of these is refused with the valid keys listed.

`--gen_kwargs` (and a task's `generation_kwargs`) are per task: `until` cuts the answer phase, `max_gen_toks`
caps the answer length, `do_sample`/`temperature`/`top_p`/`top_k` set the sampling, and any method setting
(e.g. `max_thinking_tokens=2000`) overrides the model's for that task.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from s1eval.control.methods import SAMPLING_KEYS, SETTING_ALIASES
from s1eval.errors import ConfigError

log = logging.getLogger(__name__)

WRAPPER_KEYS: dict[str, str] = {
    "pretrained": "hub id or local path of the model",
    "engine": "hf (transformers), vllm or openai",
    "format": "thinking format: auto, s1 or r1",
    "batch_size": "sequences per engine call (lm-eval's --batch_size)",
    "max_batch_size": "cap for --batch_size auto",
    "device": "torch device for engine=hf",
    "seed": "base seed of the per-sample seeds (default: drawn from lm-eval's --seed)",
    "return_text": "what lm-eval scores: auto, answer or output (thinking + answer)",
    "at": "which x value a sweeping method reports (ccc: short|long; vote: n)",
}
ENGINE_MODULES = {
    "hf": ("s1eval.engines.hf", "HFEngine"),
    "vllm": ("s1eval.engines.vllm", "VLLMEngine"),
    "openai": ("s1eval.engines.openai", "OpenAIEngine"),
}
RETURN_TEXT = ("auto", "answer", "output")
LM_EVAL_GEN_KEYS = {"until", "max_gen_toks", "do_sample"}
IGNORED_GEN_KEYS = {"num_beams", "early_stopping", "use_cache"}


@dataclass
class ModelArgs:
    """`--model_args` split by destination."""

    pretrained: str
    engine: str = "hf"
    format: str | None = None
    seed: int | None = None
    return_text: str = "auto"
    at: Any = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def engine_class(kind: str) -> type:
    """The engine class for a kind, imported only now (hf pulls in torch, vllm may not be installed)."""
    import importlib

    if kind not in ENGINE_MODULES:
        raise ConfigError(f"engine={kind!r} is not an engine; use one of: {', '.join(ENGINE_MODULES)}")
    module_name, class_name = ENGINE_MODULES[kind]
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except ModuleNotFoundError as exc:
        hint = " (pip install 's1eval[vllm]')" if kind == "vllm" else ""
        raise ConfigError(f"engine={kind} is not available here: {exc}{hint}") from None


def engine_option_names(cls: type) -> set[str]:
    params = inspect.signature(cls.__init__).parameters
    return {n for n, p in params.items() if n not in ("self", "model") and p.kind is not p.VAR_KEYWORD}


def split_model_args(
    kwargs: Mapping[str, Any], config_class: type, method: str, model_name: str
) -> ModelArgs:
    """Sort model args into wrapper keys, engine options and method settings; refuse unknown keys."""
    raw = {k: v for k, v in kwargs.items() if v is not None}
    pretrained = raw.pop("pretrained", None)
    if not pretrained:
        raise ConfigError(f"{model_name} needs pretrained=<hub id or local path> in --model_args")
    kind = str(raw.pop("engine", "hf")).strip().lower()
    cls = engine_class(kind)
    engine_keys = engine_option_names(cls)
    setting_keys = {f.name for f in dataclasses.fields(config_class)} | SAMPLING_KEYS | set(SETTING_ALIASES)

    args = ModelArgs(pretrained=str(pretrained), engine=kind)
    args.format = raw.pop("format", None)
    seed = raw.pop("seed", None)
    if seed is not None:  # the run seed of every sample (s1eval.control.sample_seed), as `s1eval eval --seed`
        args.seed = _as_int("seed", seed, model_name)
        if "seed" in setting_keys:
            raw["seed"] = seed
    args.return_text = str(raw.pop("return_text", "auto")).strip().lower()
    if args.return_text not in RETURN_TEXT:
        raise ConfigError(
            f"return_text={args.return_text!r} for {model_name}; use one of: {', '.join(RETURN_TEXT)}"
        )
    args.at = raw.pop("at", None)

    batch_size = raw.pop("batch_size", None)
    max_batch_size = raw.pop("max_batch_size", None)
    batch = _batch_size(batch_size, max_batch_size, model_name)
    if batch is not None and "batch_size" in engine_keys:
        args.engine_options["batch_size"] = batch
    device = raw.pop("device", None)
    if device is not None and "device" in engine_keys:
        args.engine_options["device"] = str(device)

    unknown = []
    for key, value in raw.items():
        if key in setting_keys:
            args.settings[key] = value
        elif key in engine_keys:
            args.engine_options[key] = _engine_value(key, value)
        else:
            unknown.append(key)
    if unknown:
        valid = sorted(set(WRAPPER_KEYS) | (engine_keys - {"tokenizer"}) | (setting_keys - {"sampling"}))
        raise ConfigError(
            f"unknown model arg(s) {', '.join(sorted(unknown))} for --model {model_name} (engine={kind}); "
            f"valid: {', '.join(valid)}"
        )
    return args


def _engine_value(key: str, value: Any) -> Any:
    if key == "base_url" and isinstance(value, str):
        return value.replace("|", ",")  # several servers: lm-eval splits model args on commas
    return value


def _as_int(key: str, value: Any, model_name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r} for {model_name} must be an integer") from None


def _batch_size(batch_size: Any, max_batch_size: Any, model_name: str) -> int | None:
    """lm-eval's batch size: an integer, or 'auto' / 'auto:N' (the engine's own default, capped)."""
    if batch_size is None or (isinstance(batch_size, str) and batch_size.strip().lower().startswith("auto")):
        return _as_int("max_batch_size", max_batch_size, model_name) if max_batch_size is not None else None
    size = _as_int("batch_size", batch_size, model_name)
    if size <= 0:
        raise ConfigError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}")
    return size


@dataclass
class TaskGeneration:
    """One task's generation kwargs, resolved."""

    until: tuple[str, ...] = ()
    max_gen_toks: int | None = None
    do_sample: bool | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    """Method settings for this task (sampling included), merged over the model args."""


def split_gen_kwargs(gen_kwargs: Mapping[str, Any], config_class: type, model_name: str) -> TaskGeneration:
    """Map lm-eval generation kwargs onto the method's settings."""
    gen = dict(gen_kwargs or {})
    out = TaskGeneration()
    until = gen.pop("until", None)
    if isinstance(until, str):
        until = [until]
    out.until = tuple(s for s in (until or []) if s)
    max_gen = gen.pop("max_gen_toks", None)
    if max_gen is not None:
        out.max_gen_toks = _as_int("max_gen_toks", max_gen, model_name)
    out.do_sample = _truthy(gen.pop("do_sample", None))
    fields = {f.name for f in dataclasses.fields(config_class)}
    for key, value in gen.items():
        if key in fields or key in SAMPLING_KEYS or key in SETTING_ALIASES:
            out.overrides[key] = value
        elif key not in IGNORED_GEN_KEYS:
            log.warning(
                "%s ignores generation kwarg %s=%r (not an s1 setting or sampling option)",
                model_name,
                key,
                value,
            )
    return out


def _truthy(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
