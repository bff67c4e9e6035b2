"""lm-eval model classes: `s1_bf`, `s1_tcc`, `s1_scc`, `s1_ccc`, `s1_rs`, `s1_vote` (and `s1_tcc_bf`, `s1_scc_bf`).

Each is the same wrapper bound to one control method of s1eval's registry: it builds an engine from
`--model_args`, hands every request's user message to `get_method(name).run(...)`, and returns the text
lm-eval scores (an `S1Response` that carries the sample's ledger). Nothing of a method is reimplemented here.

lm-eval names: method `tcc+bf` is model `s1_tcc_bf` (a `+` in a model name is awkward in shells and
output paths).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Sequence
from typing import Any, ClassVar

from lm_eval.api.model import LM

import s1eval
from s1eval.control.base import ControlResult
from s1eval.control.methods import (
    SAMPLING_KEYS,
    Method,
    get_method,
    method_info,
    registered_methods,
    settings_from_kwargs,
)
from s1eval.control.seeds import sample_seed
from s1eval.errors import ConfigError
from s1eval.integrations.lm_eval.args import ModelArgs, engine_class, split_gen_kwargs, split_model_args
from s1eval.integrations.lm_eval.naming import lm_eval_name
from s1eval.integrations.lm_eval.prompts import ChatPrompts, cut_at_stops
from s1eval.integrations.lm_eval.response import LEDGERS, S1Response
from s1eval.runs.identity import method_settings

log = logging.getLogger(__name__)

OWN_TASK_SOURCE = "s1eval"
"""Docs of s1eval's own lm-eval tasks carry source="s1eval:<benchmark>" (return_text=auto logs the thinking)."""


class S1MethodLM(LM):
    """An lm-eval LM that runs one s1eval control method over an engine (generation requests only)."""

    METHOD: ClassVar[str] = "bf"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.model_name = lm_eval_name(self.METHOD)
        self.method: Method = get_method(self.METHOD)
        self.args: ModelArgs = split_model_args(
            kwargs, self.method.config_class, self.METHOD, self.model_name
        )
        self._raw_settings = dict(self.args.settings)
        self.config = self._config(self._raw_settings)  # validated before the model is loaded
        self._budgets(self.config)
        self.engine = self._create_engine()
        from s1eval.formats.prompting import preflight, resolve_format

        self.fmt = resolve_format(self.args.format, self.engine.tokenizer)
        preflight(self.engine.tokenizer, self.fmt, self.engine.model_id)
        self.chat = ChatPrompts(self.engine.tokenizer, self.fmt, self.model_name)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> S1MethodLM:
        """lm-eval's constructor route; a key in --model_args (batch_size=8, as users pass it to
        `--model hf`) wins over the same key from lm-eval's own flags instead of a TypeError."""
        from lm_eval.utils import simple_parse_args_string

        return cls.create_from_arg_obj(simple_parse_args_string(arg_string), additional_config)

    @classmethod
    def create_from_arg_obj(
        cls, arg_dict: dict[str, Any], additional_config: dict | None = None
    ) -> S1MethodLM:
        extra = {k: v for k, v in (additional_config or {}).items() if v is not None and k not in arg_dict}
        return cls(**arg_dict, **extra)

    def _config(self, settings: dict[str, Any]) -> Any:
        fields = dataclasses.fields(self.method.config_class)
        missing = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in settings
        ]
        if missing and not ("max_thinking_tokens" in missing and "budget" in settings):
            example = ",".join(f"{m}=8000" if "token" in m else f"{m}=..." for m in missing)
            raise ConfigError(
                f"{self.model_name} needs {', '.join(missing)} in --model_args (e.g. {example})"
            )
        return settings_from_kwargs(self.method.config_class, settings, method=self.METHOD)

    def _create_engine(self) -> Any:
        cls = engine_class(self.args.engine)
        options = dict(self.args.engine_options)
        device = str(options.get("device", ""))
        if device.startswith("cuda"):  # lm-eval's CLI passes cuda:0 unless told otherwise
            import torch

            if not torch.cuda.is_available():
                log.info(
                    "%s: device %s requested but CUDA is not available; using the default",
                    self.model_name,
                    device,
                )
                options.pop("device")
        return cls(self.args.pretrained, **options)

    # ------------------------------------------------------------------ lm-eval hooks
    def loglikelihood(self, requests: list) -> list:
        raise ConfigError(self._generation_only("loglikelihood"))

    def loglikelihood_rolling(self, requests: list) -> list:
        raise ConfigError(self._generation_only("loglikelihood_rolling"))

    def _generation_only(self, kind: str) -> str:
        return (
            f"{self.model_name} only generates text, and this task asks for {kind} scores (a multiple_choice or "
            "perplexity task); run a generate_until task (s1_aime24, s1_math500, s1_gpqa_diamond, aime24) or "
            "use --model hf for this one"
        )

    @property
    def tokenizer_name(self) -> str:
        return f"{self.engine.model_id}:{self.fmt.name}".replace("/", "__")

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        template = getattr(self.engine.tokenizer, "chat_template", None)
        if isinstance(template, dict):
            name = chat_template if isinstance(chat_template, str) else "default"
            return template.get(name) or next(iter(template.values()), "")
        return template or ""

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return self.chat.render(chat_history, add_generation_prompt)

    def get_model_info(self) -> dict[str, Any]:
        """Merged into lm-eval's results["config"]: the method, its settings and budget, the engine."""
        return {
            "s1": {
                "s1eval_version": s1eval.__version__,
                "model": self.model_name,
                "method": self.METHOD,
                "budget": getattr(self.config, "max_thinking_tokens", None),
                "settings": _jsonable(method_settings(self.config)),
                "format": self.fmt.name,
                "engine": _jsonable(self.engine.describe()),
                "return_text": self.args.return_text,
            }
        }

    def set_cache_hook(self, cache_hook: Any) -> None:
        """`--use_cache` keys a response by its request alone (prompt and gen_kwargs), while the budget and every
        other method setting live in `--model_args`: a rerun at another budget would be served the first
        budget's answers. So the cache's table is named by this model's run identity (model, engine, format,
        method, settings, `at=`, seed): each keeps its own answers in the same file. A sampling method without
        `seed=` in `--model_args` gets a table of its own per run (lm-eval does not cache sampled requests)."""
        super().set_cache_hook(cache_hook)
        dbdict = getattr(cache_hook, "dbdict", None)
        if dbdict is not None:
            from s1eval.integrations.lm_eval.cache import namespace_cache

            namespace_cache(dbdict, self.cache_namespace())

    def cache_namespace(self) -> str:
        from s1eval.runs.identity import identity_key, run_identity

        identity = run_identity(self, seed=self.args.seed) | {
            "at": self.args.at,
            "return_text": self.args.return_text,
        }
        if self.args.seed is None and not _greedy(self.config):
            identity["run"] = random.SystemRandom().getrandbits(64)  # never served to another run
        return f"s1eval_{self.METHOD.replace('+', '_')}_{identity_key(identity)}"

    # ------------------------------------------------------------------ generation
    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str]:
        if not requests:
            return []
        base_seed = self.args.seed if self.args.seed is not None else random.getrandbits(31)
        groups: dict[tuple, list[int]] = {}
        parts = []
        question_ids, repeats = question_keys(requests)
        for i, req in enumerate(requests):
            context, gen_kwargs = req.args[0], req.args[1]
            system, question = self.chat.parts(context)
            parts.append((system, question))
            kind = _doc(req).get("kind") if "kind" in _config_fields(self.method) else None
            key = (json.dumps(gen_kwargs or {}, sort_keys=True, default=str), system, kind)
            groups.setdefault(key, []).append(i)

        from tqdm import tqdm

        out: list[S1Response | None] = [None] * len(requests)
        with tqdm(total=len(requests), disable=disable_tqdm or self.rank != 0, desc=self.model_name) as bar:
            for (_, system, kind), idxs in groups.items():
                gen = split_gen_kwargs(requests[idxs[0]].args[1], self.method.config_class, self.model_name)
                config = self._task_config(gen, kind)
                seeds = [sample_seed(base_seed, question_ids[i], repeats[i]) for i in idxs]
                results = self._run([parts[i][1] for i in idxs], config, seeds, system, bar.update)
                for i, result in zip(idxs, results, strict=True):
                    out[i] = self._response(requests[i], result, gen.until)
        return [r for r in out if r is not None]

    def _task_config(self, gen: Any, kind: str | None) -> Any:
        settings = dict(self._raw_settings)
        for key, value in gen.overrides.items():
            if key in SAMPLING_KEYS and key in self._raw_settings:
                continue  # sampling named in --model_args is the user's choice; a task's default keeps out
            settings[key] = value
        if gen.do_sample is False and "temperature" not in self._raw_settings:
            if method_info(self.METHOD).samples_by_default:
                log.warning("%s samples by design; the task's do_sample=false is ignored", self.model_name)
                settings.pop("temperature", None)
            else:
                settings["temperature"] = 0.0  # lm-eval: do_sample=false is greedy
        if kind and "kind" not in self._raw_settings and "kind" not in gen.overrides:
            settings["kind"] = kind
        config = self._config(settings)
        answer_limit = getattr(config, "max_answer_tokens", None)
        if (
            gen.max_gen_toks is not None
            and answer_limit is not None
            and "max_answer_tokens" not in gen.overrides
        ):
            if gen.max_gen_toks < answer_limit:
                config = dataclasses.replace(config, max_answer_tokens=gen.max_gen_toks)
        sampling = getattr(config, "sampling", None)
        if gen.do_sample and sampling is not None and sampling.greedy:
            config = dataclasses.replace(config, sampling=sampling.merged(temperature=1.0))
        return config

    def _budgets(self, config: Any) -> list[Any]:
        """The one x value lm-eval scores: `at=`, the method's only default, or the largest n for vote."""
        defaults = self.method.default_budgets(config)
        if self.args.at is not None:
            return self.method.x_values(
                [self.args.at]
            )  # checked against the method's unit, before the model loads
        if len(defaults) > 1 and self.METHOD != "vote":
            raise ConfigError(
                f"{self.model_name} reports one setting per run; pass at=<one of {', '.join(map(str, defaults))}> "
                "in --model_args"
            )
        return [max(defaults)] if len(defaults) > 1 else list(defaults)

    def _run(
        self, questions: list[str], config: Any, seeds: list[int], system: str | None, progress: Any
    ) -> list[ControlResult]:
        budgets = self._budgets(config)
        results = self.method.run(
            self.engine,
            self.fmt,
            questions,
            config,
            budgets=budgets,
            seeds=seeds,
            system=system,
            progress=progress,
        )
        if len(results) != 1:
            raise ConfigError(f"{self.model_name}: method returned {len(results)} settings for one requested")
        return next(iter(results.values()))

    def _response(self, req: Any, result: ControlResult, until: Sequence[str]) -> S1Response:
        answer = cut_at_stops(result.answer, until) if until else result.answer
        output = (
            result.output[: len(result.output) - len(result.answer)] + answer
            if result.answer
            else result.output
        )
        ledger = result.ledger.to_dict()
        doc = _doc(req)
        mode = self.args.return_text
        if mode == "auto":
            own = str(doc.get("source", "")).startswith(OWN_TASK_SOURCE)
            mode = "output" if own else "answer"
        text = output if mode == "output" else answer
        if mode == "answer":  # lm-eval logs only `text` as the response: keep the thinking beside the ledger
            ledger = {**ledger, "thinking": result.thinking}
        response = S1Response(text, answer=answer, thinking=result.thinking, output=output, ledger=ledger)
        LEDGERS.add(getattr(req, "task_name", None), req.doc, ledger)
        self.cache_hook.add_partial("generate_until", req.args, response)
        return response


def _doc(req: Any) -> dict[str, Any]:
    doc = getattr(req, "doc", None)
    return doc if isinstance(doc, dict) else {}


def _config_fields(method: Method) -> set[str]:
    return {f.name for f in dataclasses.fields(method.config_class)}


def question_keys(requests: Sequence[Any]) -> tuple[list[str], list[int]]:
    """Each request's benchmark question id and repeat (lm-eval lists a doc `repeats` times in a row).

    The id is the benchmark's own (the doc's `id` / `unique_id` / `ID`), the same that `s1eval eval` and
    Inspect use, so `sample_seed` gives a question the same samples in every front end.
    """
    ids: list[str] = []
    repeats: list[int] = []
    seen: dict[str, int] = {}
    for req in requests:
        doc = _doc(req)
        qid = next(
            (str(doc[k]) for k in ("id", "unique_id", "ID", "question_id") if doc.get(k) is not None), None
        )
        if qid is None:
            qid = f"{getattr(req, 'task_name', '')}:{getattr(req, 'doc_id', '')}"
        ids.append(qid)
        repeats.append(seen.get(qid, 0))
        seen[qid] = seen.get(qid, 0) + 1
    return ids, repeats


def _greedy(config: Any) -> bool:
    sampling = getattr(config, "sampling", None)
    return sampling is None or sampling.greedy


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --------------------------------------------------------------------------- one class per method
def _make_class(method: str) -> type[S1MethodLM]:
    """The lm-eval model class of a registered method, named as the registry says (its entry point)."""
    info = method_info(method)
    name = info.lm_eval_class  # the registry names every method's class (S1LM_<name> by default)
    return type(
        name,
        (S1MethodLM,),
        {
            "METHOD": info.name,
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"`{lm_eval_name(info.name)}`: {info.summary}.",
        },
    )


MODEL_CLASSES: dict[str, type[S1MethodLM]] = {}
for (
    _info
) in registered_methods():  # S1BudgetForcingLM, S1TokenConditionalLM, ... (see pyproject's entry points)
    MODEL_CLASSES[_info.name] = globals()[_info.lm_eval_class] = _make_class(_info.name)


def model_class(method: str) -> type[S1MethodLM]:
    """The LM class of a method; a method registered after this module loaded (a plugin) gets one now."""
    key = get_method(method).name
    if key not in MODEL_CLASSES:
        cls = _make_class(key)
        MODEL_CLASSES[key] = globals()[cls.__name__] = cls
    return MODEL_CLASSES[key]


def __getattr__(name: str) -> Any:
    """A lazy registry placeholder may name the class of a method registered later; build it on first access."""
    for info in registered_methods():
        if name == info.lm_eval_class:
            return model_class(info.name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
