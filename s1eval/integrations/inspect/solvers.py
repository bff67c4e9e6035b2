"""Inspect solvers for s1eval's control methods, driving the same control core as lm-eval and the CLI.

Two paths to a model, one control core (`get_method(name).run(...)` for this sample's question):
- the fast path, on s1eval's providers (s1hf, s1vllm, s1openai, s1fake): the solver takes the engine behind
  the provider and runs the method through the provider's batcher, so samples share engine calls and each
  sample's sequence keeps its KV cache between rounds; token counts are the ids generated;
- the portable path, on Inspect's own providers that continue a prefilled assistant message (vllm/, sglang/,
  openai-api/ against a vLLM or SGLang server): every engine round is the model's own `generate()` on the
  conversation so far (prefill.py), so Inspect's model events, usage, retries and cache apply as for any
  solver; the ledger says its counts are retokenized and carries the provider's usage.

What a sample ends with:
- an assistant message: the thinking as reasoning content, then the answer phase as text;
- `state.metadata["ledger"]`: the ledger of the reported run (the largest budget of a sweep);
- `state.metadata["s1eval"]`: method, budget, format, answer text, and for a sweep (`budgets=`) every
  budget's ledger and answer, which the s1eval scorers score one by one;
- one model event per engine round (fast path: `events.py`, with input, output, stop reason, exact token
  counts; portable path: Inspect's own), then an info event with the ledger, so `inspect view` shows the
  forcing step by step beside the messages;
- the system prompt used (the task's, else the format's default) as the first message.

Budget settings are solver arguments; `max_thinking_tokens` defaults to `--reasoning-tokens`, else to the
method's own default (bf: `auto`, thinking up to the context length, as the s1 reference does). Sampling
comes from Inspect's generate config (`--temperature`, `--top-p`, ...; none given means greedy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import anyio
from inspect_ai.log import transcript
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    ChatMessageSystem,
    ContentReasoning,
    ContentText,
    GenerateConfig,
    ModelOutput,
    ModelUsage,
    get_model,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from s1eval.control.base import ControlResult
from s1eval.control.methods import (
    PreparedMethod,
    get_method,
    parse_budgets,
    prepare_method,
    registered_methods,
    resolve_settings,
)
from s1eval.control.seeds import sample_seed
from s1eval.integrations.inspect._errors import inspect_user_errors
from s1eval.integrations.inspect._names import qualified
from s1eval.integrations.inspect.batcher import EngineBatcher, EngineCall
from s1eval.integrations.inspect.events import record_round_events
from s1eval.integrations.inspect.prefill import (
    PrefillEngine,
    context_length_of,
    load_tokenizer,
    require_prefill_provider,
)
from s1eval.scoring.extract import CHOICE_LETTERS, extract_choice_letter

THINKING_TAIL_CHARS = 4000
"""How much of each swept budget's thinking is kept for scoring (where an answer is looked for)."""
_SAMPLING_FROM_CONFIG = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty")


def engine_batcher(model: Any = None) -> EngineBatcher | None:
    """The batcher of the active (or given) model's s1eval provider; None for Inspect's own providers."""
    model = model if model is not None else get_model()
    batcher = getattr(model.api, "batcher", None)
    return batcher if isinstance(batcher, EngineBatcher) else None


def generate_config(model: Any) -> GenerateConfig:
    """The generate settings in force for this sample: the model's, with the eval's (--temperature, ...)."""
    try:  # Inspect keeps the eval's settings in a private context variable; without it, the model's alone
        from inspect_ai.model._generate_config import active_generate_config
    except ImportError:
        return model.config
    return model.config.merge(active_generate_config())


_TOKENIZERS: dict[tuple[str, bool], tuple[Any, int | None]] = {}


def portable_engine(model: Any, tokenizer: str | None, config: GenerateConfig) -> PrefillEngine:
    """A PrefillEngine for one sample (a tokenizer loaded once per name per process)."""
    require_prefill_provider(model)
    name = tokenizer or model.api.model_name
    key = (name, False)
    if key not in _TOKENIZERS:
        _TOKENIZERS[key] = (load_tokenizer(name), context_length_of(name))
    tok, context_length = _TOKENIZERS[key]
    return PrefillEngine(model, tok, config, context_length)


@solver(name=qualified("control"))
def control(
    method: str = "bf",
    max_thinking_tokens: int | None = None,
    budgets: str | Sequence[Any] | None = None,
    format: str | None = None,
    system: str | None = None,
    tokenizer: str | None = None,
    **settings: Any,
) -> Solver:
    """Run any s1eval control method (bf, tcc, scc, ccc, rs, vote, tcc+bf, ...) on the sample's question.

    Args:
      method: A name from s1eval's method registry.
      max_thinking_tokens: The thinking budget; defaults to --reasoning-tokens, else the method's (bf: auto).
      budgets: Several x values ("512,1024,2048") run as one sweep; the largest is the reported result.
      format: Thinking format (s1, r1); default: the provider's -M format, else detected from the tokenizer.
      system: System prompt; default: the sample's system message, else the format's default.
      tokenizer: On Inspect's own providers (vllm/, sglang/, openai-api/), the tokenizer s1eval renders
        prompts and counts tokens with (hub id or path); default: the model name.
      **settings: Any other setting of the method (num_extensions, extension_strings, max_answer_tokens, ...).
    """
    with inspect_user_errors():  # a wrong setting fails when the task is built, not per sample
        chosen = get_method(method)
        sweep = _check_at_build(chosen, max_thinking_tokens, parse_budgets(budgets), settings)
    prepared: dict[tuple[int, str], PreparedMethod] = {}

    def prepare(engine: Any, fmt_default: str, config: GenerateConfig) -> PreparedMethod:
        # per engine (portable path: per tokenizer, its engines are per sample) and generate settings
        key = (id(getattr(engine, "prepared_for", engine)), config.model_dump_json(exclude_none=True))
        if key not in prepared:
            values = _settings(chosen, max_thinking_tokens, sweep, settings, config)
            prepared[key] = prepare_method(engine, chosen.name, values, format or fmt_default, sweep)
        return prepared[key]

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = get_model()
        batcher = engine_batcher(model)
        config = generate_config(model)
        if batcher is None:
            with inspect_user_errors():
                engine = portable_engine(model, tokenizer, config)
            ready = prepare(engine, "auto", config)
        else:
            ready = prepare(batcher.engine, getattr(model.api, "format_name", "auto"), config)
        question = question_with_choices(state)
        sys_text = system if system is not None else _system_message(state)
        # Inspect's epochs count from 1; repeat 0 is the first, as in `s1eval eval --samples`
        seed = sample_seed(config.seed, state.sample_id, state.epoch - 1)
        method_config = _for_sample(ready, settings, state)

        def run(engine: Any) -> dict[Any, list[ControlResult]]:
            return ready.method.run(
                engine, ready.fmt, [question], method_config, budgets=sweep, seeds=[seed], system=sys_text
            )

        if batcher is None:  # Inspect's generate() per round: it records the model events and the usage
            results = await anyio.to_thread.run_sync(run, engine)
            per_x = {x: found[0] for x, found in results.items()}
            extra = engine.ledger_fields()
        else:
            calls: list[EngineCall] = []
            try:
                per_x = {x: found[0] for x, found in (await batcher.run_sync(run, calls)).items()}
            finally:  # the rounds a failed sample made are in the transcript too
                record_round_events(calls, model=str(model), tokenizer=ready.engine.tokenizer, fmt=ready.fmt)
            extra = {}
        primary = reported_x(per_x, ready.budgets(sweep))
        _show_system(state, sys_text if sys_text is not None else ready.fmt.default_system)
        record(state, str(model), ready, per_x, primary, extra)
        mark_choices(state, per_x[primary].answer)
        if batcher is not None:
            _record_usage(model, state.output.usage)
        return state

    return solve


def question_with_choices(state: TaskState) -> str:
    """The question the model sees; a multiple-choice sample (`Sample.choices`, as inspect_evals builds them)
    gets its options as "A) ..." lines, as s1eval's GPQA prompt has them, unless its text already lists them."""
    question = state.user_prompt.text
    options = [c.value for c in state.choices] if state.choices else []
    if not options or all(f"{CHOICE_LETTERS[i]}) {v}" in question for i, v in enumerate(options)):
        return question
    lines = [f"{CHOICE_LETTERS[i]}) {value}" for i, value in enumerate(options)]
    return question.rstrip() + "\n\n" + "\n".join(lines)


def mark_choices(state: TaskState, answer: str) -> None:
    """Mark the choice the answer names, so Inspect's `choice()` scorer reads it (what `multiple_choice()` does
    after its own generate); the letter is found by s1eval's letter extractor, for up to 10 options."""
    if not state.choices:
        return
    letter = extract_choice_letter(answer, len(state.choices))
    for i in range(len(state.choices)):
        state.choices.mark_choice(i, letter == CHOICE_LETTERS[i])


def _check_at_build(
    method: Any, budget: int | None, sweep: list[Any] | None, settings: dict[str, Any]
) -> list[Any] | None:
    """Validate the solver's settings and x values when the task is built (a budget from --reasoning-tokens
    is checked when the generate config is known)."""
    values = dict(settings)
    if budget is not None:
        values["max_thinking_tokens"] = budget
    return resolve_settings(method.name, values, sweep).budgets


def _settings(
    method: Any, budget: int | None, sweep: list[Any] | None, settings: dict[str, Any], config: GenerateConfig
) -> dict[str, Any]:
    """The method's settings: the solver's, the budget (solver arg, else --reasoning-tokens when no sweep
    gives it), and sampling from the generate config where the method samples."""
    fields = {f.name: f for f in dataclasses.fields(method.config_class)}
    values = dict(settings)
    if budget is not None:
        values["max_thinking_tokens"] = budget
    elif "max_thinking_tokens" in fields and not sweep and "budget" not in values:
        if "max_thinking_tokens" not in values and config.reasoning_tokens is not None:
            values["max_thinking_tokens"] = config.reasoning_tokens  # else the method's default (bf: auto)
    if "max_answer_tokens" in fields and "max_answer_tokens" not in values and config.max_tokens is not None:
        values["max_answer_tokens"] = config.max_tokens  # Inspect's --max-tokens caps the answer phase
    if "sampling" in fields:
        for key in _SAMPLING_FROM_CONFIG:
            if key not in values and getattr(config, key) is not None:
                values[key] = getattr(config, key)
    return values


def _for_sample(ready: PreparedMethod, settings: dict[str, Any], state: TaskState) -> Any:
    """The method config for one sample: a method that votes on answers compares them as the sample's kind."""
    kind = state.metadata.get("kind")
    has_kind = any(f.name == "kind" for f in dataclasses.fields(ready.config))
    if has_kind and "kind" not in settings and kind and kind != ready.config.kind:
        return dataclasses.replace(ready.config, kind=kind)
    return ready.config


def _record_usage(model: Any, usage: ModelUsage | None) -> None:
    """Count the tokens in the eval's and the sample's model usage, as a generate() call would."""
    if usage is None:
        return
    try:
        from inspect_ai.model._model import record_and_check_model_usage
    except ImportError:  # a private helper; without it the usage is still on the sample's output
        return
    record_and_check_model_usage(model, usage)


def _show_system(state: TaskState, used: str | None) -> None:
    """The Messages tab shows the system prompt the method used: added when the sample has none, replaced when
    the solver's `system=` overrode the sample's own."""
    if not used:
        return
    for i, message in enumerate(state.messages):
        if isinstance(message, ChatMessageSystem):
            if message.text != used:
                state.messages[i] = ChatMessageSystem(content=used)
            return
    state.messages.insert(0, ChatMessageSystem(content=used))


def _system_message(state: TaskState) -> str | None:
    for message in state.messages:
        if isinstance(message, ChatMessageSystem):
            return message.text
    return None


def reported_x(per_x: dict[Any, ControlResult], order: Sequence[Any]) -> Any:
    """The result a sample reports: the largest numeric budget, else the last x in the order given."""
    keys = list(per_x)
    numeric = [k for k in keys if isinstance(k, int | float) and not isinstance(k, bool)]
    if numeric and len(numeric) == len(keys):
        return max(numeric)
    given = [x for x in order if x in per_x]
    return given[-1] if given else keys[-1]


def record(
    state: TaskState,
    model_name: str,
    ready: PreparedMethod,
    per_x: dict[Any, ControlResult],
    x: Any,
    extra: dict[str, Any] | None = None,
) -> None:
    """Put the reported result in the messages/output and every budget's ledger in the metadata (`extra`:
    what the portable path adds to each ledger about its token counts)."""
    result = per_x[x]
    ledger = {**result.ledger.to_dict(), **(extra or {})}
    content: list[Any] = []
    if result.thinking:
        content.append(ContentReasoning(reasoning=result.thinking))
    content.append(ContentText(text=result.answer))
    message = ChatMessageAssistant(content=content, model=model_name, source="generate")
    prompt_tokens = len(ready.engine.tokenizer.encode(result.prompt, add_special_tokens=False))
    generated = sum(int(ledger.get(k, 0)) for k in ("thinking_tokens", "answer_tokens", "probe_tokens"))
    state.messages.append(message)
    state.output = ModelOutput(
        model=model_name,
        choices=[
            ChatCompletionChoice(
                message=message, stop_reason="max_tokens" if ledger.get("outcome") == "truncated" else "stop"
            )
        ],
        usage=ModelUsage(
            input_tokens=prompt_tokens,
            output_tokens=generated,
            total_tokens=prompt_tokens + generated,
            reasoning_tokens=int(ledger.get("thinking_tokens", 0)),
        ),
    )
    state.metadata["ledger"] = ledger
    info: dict[str, Any] = {
        "method": ready.method.name,
        "budget": x,
        "format": ready.fmt.name,
        "answer": result.answer,
    }
    if len(per_x) > 1:
        info["results"] = {
            str(b): {
                "ledger": {**r.ledger.to_dict(), **(extra or {})},
                "answer": r.answer,
                "thinking_tail": r.thinking[-THINKING_TAIL_CHARS:],
            }
            for b, r in per_x.items()
        }
    state.metadata["s1eval"] = info
    transcript().info({"ledger": ledger, "budget": x, "method": ready.method.name}, source="s1eval")


# --------------------------------------------------------------------------- one solver per method
@solver(name=qualified("budget_forcing"))
def budget_forcing(
    max_thinking_tokens: int | None = None,
    num_extensions: int = 0,
    extension_strings: str | Sequence[str] = "Wait",
    min_thinking_tokens: int | None = None,
    max_answer_tokens: int | None = None,
    budgets: str | Sequence[int] | None = None,
    format: str | None = None,
    system: str | None = None,
    intervention: str | None = None,
    **settings: Any,
) -> Solver:
    """s1's budget forcing: cap the thinking at the budget, or suppress its end `num_extensions` times.

    Args:
      max_thinking_tokens: Thinking budget in generated tokens (default: --reasoning-tokens, else auto).
      num_extensions: Times to replace the end of thinking with an extension string.
      extension_strings: "Wait", "Hmm", "Alternatively", "none", "cycle", or "A|B|C".
      min_thinking_tokens: Extend until at least this many thinking tokens.
      max_answer_tokens: Limit of the answer phase (default 1024).
      budgets: Several budgets as one anytime sweep (one trajectory, an answer forked at each budget).
      format: Thinking format (s1, r1); default: detected.
      system: System prompt; default: the sample's system message, else the format's default.
      intervention: A thinking intervention on the BF core: early_stop, wrap_up, alphaone, dynasor, with
        options as NAME:KEY=VALUE:... (`s1eval methods` lists them).
      **settings: Other BudgetForcingConfig fields (strategy, extension_sampling, answer_prefix, ...).
    """
    extra = {"num_extensions": num_extensions, "extension_strings": extension_strings, **settings}
    if min_thinking_tokens is not None:
        extra["min_thinking_tokens"] = min_thinking_tokens
    if max_answer_tokens is not None:
        extra["max_answer_tokens"] = max_answer_tokens
    if intervention is not None:
        extra["intervention"] = intervention
    return control("bf", max_thinking_tokens, budgets, format, system, **extra)


def _method_solver(method: str, doc: str):
    def factory(
        max_thinking_tokens: int | None = None,
        budgets: str | Sequence[Any] | None = None,
        format: str | None = None,
        system: str | None = None,
        **settings: Any,
    ) -> Solver:
        return control(method, max_thinking_tokens, budgets, format, system, **settings)

    factory.__doc__ = (
        doc + "\n\n    Settings are the method's own (see `s1eval methods`); budgets as for `control`.\n"
    )
    return factory


def _named(name: str, method: str, doc: str):
    factory = _method_solver(method, doc)
    factory.__name__ = factory.__qualname__ = name
    factory.__module__ = __name__
    return solver(name=qualified(name))(factory)


SOLVERS: dict[str, Any] = {"bf": budget_forcing}
"""Method name -> its Inspect solver, one per registry entry that names one (tcc, scc, ccc,
rejection_sampling, majority_vote, ...); the others run as `s1eval/control` with method=<name>."""
for _info in registered_methods():
    if _info.inspect_solver and _info.name not in SOLVERS:
        SOLVERS[_info.name] = globals()[_info.inspect_solver] = _named(
            _info.inspect_solver, _info.name, _info.summary[:1].upper() + _info.summary[1:] + "."
        )
