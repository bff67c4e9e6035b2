"""Conditional length control (the s1 paper's TCC, SCC, CCC) and its budget-forced variants (TCC+BF, SCC+BF).

The prompt states the budget: "Think for up to N tokens." (TCC), "... up to S steps." (SCC, a step being about
100 tokens), or a generic "think short" / "think long" instruction (CCC, two classes). Without BF nothing
enforces it: the model may overrun, and Control measures how often it does; thinking only stops at the
method's `max_tokens` safety limit. With BF (`tcc+bf`, `scc+bf`) the stated budget is also the hard cap.

Markers: for models trained with them, a remaining-budget marker ("<|im_start|>300 tokens left", see
`markers.py`) is forced every `marker_interval` thinking tokens: thinking is generated in chunks that end at
the marker positions, and each chunk continues the same sequence (KV reuse). Markers are forced tokens,
counted apart from the generated thinking.

Every method here is budget forcing with another prompt, so it runs on the BF controller: the same rounds,
ledger and invariants, one batched engine call per step across all budgets and questions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from s1eval.control.base import ControlResult, chunks, encode, run_key
from s1eval.control.budget_forcing import (
    ForcingSettings,
    ThinkingController,
    ThinkRound,
    Trajectory,
    budget_forcing_config,
)
from s1eval.control.markers import DEFAULT_INTERVAL, STEP_TOKENS, MarkerSchedule, steps_for
from s1eval.control.methods import RegisteredMethod, register_method
from s1eval.engines.base import Engine, GenerationRequest, GenerationResult
from s1eval.errors import ConfigError, option, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt

Progress = Callable[[int], None]
Unit = Literal["tokens", "steps", "class"]
DEFAULT_MAX_TOKENS = 32768
"""Thinking limit of the methods that do not cap at the budget (s1's own generation limit)."""


# --------------------------------------------------------------------------- configs
@dataclass(frozen=True)
class TokenConditionalConfig(ForcingSettings):
    """TCC / TCC+BF: the prompt states a token budget (`max_thinking_tokens` when no budgets are given)."""

    max_thinking_tokens: int = 4000
    instruction: str = "Think for up to {budget} tokens."
    """Appended to the question; `{budget}` is the token budget (SCC also has `{steps}`)."""
    markers: bool = False
    """Force remaining-budget markers into the thinking (for models trained with them)."""
    marker_interval: int = DEFAULT_INTERVAL
    max_tokens: int = DEFAULT_MAX_TOKENS
    """Thinking limit without BF, so a runaway sample ends (not used by the +bf variants)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("max_thinking_tokens", self.max_thinking_tokens, "Give a budget such as 4000.")
        require_positive("marker_interval", self.marker_interval, "Give tokens between markers, e.g. 100.")
        require_positive("max_tokens", self.max_tokens, "Give a thinking limit such as 32768.")
        _check_instruction(self.instruction, budget=1, steps=1)


@dataclass(frozen=True)
class StepConditionalConfig(TokenConditionalConfig):
    """SCC / SCC+BF: the prompt states a budget in steps of about `step_tokens` tokens.

    Budgets stay in tokens (the shared x-axis); the prompt says round(budget / step_tokens) steps.
    """

    instruction: str = "Think for up to {steps} steps."
    step_tokens: int = STEP_TOKENS

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("step_tokens", self.step_tokens, "A step is about 100 tokens.")


@dataclass(frozen=True)
class ClassConditionalConfig(ForcingSettings):
    """CCC: two generic instructions, one per class (|A| = 2)."""

    short_instruction: str = "Think briefly: use as little reasoning as you need, then answer."
    long_instruction: str = (
        "Think carefully and at length: reason step by step and check your work before answering."
    )
    max_tokens: int = DEFAULT_MAX_TOKENS

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("max_tokens", self.max_tokens, "Give a thinking limit such as 32768.")

    def instruction_for(self, cls: str) -> str:
        if cls == "short":
            return self.short_instruction
        if cls == "long":
            return self.long_instruction
        raise ConfigError(
            f"unknown CCC class {cls!r}; use short and/or long (e.g. {option('budgets', 'short,long')})"
        )


def _check_instruction(template: str, **values: Any) -> None:
    try:
        template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        names = ", ".join("{" + k + "}" for k in values)
        raise ConfigError(
            f"instruction {template!r} is not a valid template ({exc}); it may use {names}"
        ) from exc


def with_instruction(question: str, instruction: str) -> str:
    """The user message: the question, then the length instruction on its own paragraph."""
    return f"{question.rstrip()}\n\n{instruction}" if instruction else question


# --------------------------------------------------------------------------- the marker-aware controller
@dataclass
class _MarkedTrajectory(Trajectory):
    schedule: MarkerSchedule | None = None
    # a marker round is forced text at a method's point, not after the model's end: never an extension


class MarkedController(ThinkingController):
    """The BF controller, plus markers: thinking stops at each marker position and the marker is forced."""

    def _think_request(self, t: Trajectory, budget: int, round_no: int) -> GenerationRequest:
        req = super()._think_request(t, budget, round_no)
        schedule = getattr(t, "schedule", None)
        nxt = schedule.next_at(t.generated) if schedule is not None else None
        if nxt is not None:
            req.max_new_tokens = min(req.max_new_tokens, nxt - t.generated)
        return req

    def _after_think(self, t: Trajectory, res: GenerationResult, budget: int) -> bool:
        schedule = getattr(t, "schedule", None)
        if schedule is not None and res.stop_reason == "length":
            at = t.generated + len(res.token_ids)
            if at < budget and schedule.next_at(at - 1) == at:  # the chunk ended at a marker, not the cap
                text = schedule.text(at)
                t.rounds.append(ThinkRound(list(res.token_ids), "marker", text, encode(self.engine, text)))
                return True
        return super()._after_think(t, res, budget)


# --------------------------------------------------------------------------- running
@dataclass
class _Job:
    """One (x value, question) sample: its prompt, thinking limit, marker schedule and ledger fields."""

    x: Any
    question_index: int
    prompt: str
    cap: int
    schedule: MarkerSchedule | None
    extra: dict[str, Any]


def run_conditional(
    engine: Engine,
    fmt: ThinkingFormat,
    questions: Sequence[str],
    budgets: Sequence[Any],
    config: TokenConditionalConfig | ClassConditionalConfig,
    *,
    method: str,
    unit: Unit = "tokens",
    hard_cap: bool = False,
    seeds: Sequence[int | None] | None = None,
    system: str | None = None,
    progress: Progress | None = None,
) -> dict[Any, list[ControlResult]]:
    """Run a conditional-control method at every budget (or class); {x: one result per question}.

    `unit` is what the prompt states: "tokens" (TCC), "steps" (SCC, needs a StepConditionalConfig) or
    "class" (CCC, needs a ClassConditionalConfig). `hard_cap` makes the stated budget the BF cap.
    """
    _check_config(method, unit, config)
    if not budgets:
        raise ConfigError(
            f"method {method!r} needs at least one budget, e.g. {option('budgets', '512,1024,2048')}"
        )
    if seeds is not None and len(seeds) != len(questions):
        raise ConfigError(
            f"got {len(seeds)} seeds for {len(questions)} questions; give one seed per question"
        )
    xs = list(dict.fromkeys(budgets))
    jobs = [  # question-major, so progress can count finished questions
        _job(engine, fmt, q, i, x, config, unit, hard_cap, system)
        for i, q in enumerate(questions)
        for x in xs
    ]
    ctl = MarkedController(engine, fmt, budget_forcing_config(config, max(j.cap for j in jobs)), method)
    namespace = run_key(method.replace("+", ""))
    out: dict[Any, list[ControlResult]] = {x: [] for x in xs}
    reported = 0
    for chunk in chunks(len(jobs), engine):
        programs = []
        for k in chunk:
            job = jobs[k]
            traj = _MarkedTrajectory(
                index=k,
                key=f"{namespace}-{k}",
                prompt=job.prompt,
                prompt_ids=encode(engine, job.prompt),
                seed=None if seeds is None else seeds[job.question_index],
                schedule=job.schedule,
            )
            programs.append(ctl.program(traj, [job.cap]))
        for k, per_cap in zip(chunk, engine.drive(programs), strict=True):
            job = jobs[k]
            out[job.x].append(_relabel(per_cap[job.cap], job))
        reported = report_questions(progress, chunk.stop // len(xs), reported)
    engine.release()
    return out


def report_questions(progress: Progress | None, finished: int, reported: int) -> int:
    """Tell `progress` how many more questions have all their samples done; returns the new count."""
    if progress is not None and finished > reported:
        progress(finished - reported)
    return max(finished, reported)


def _job(
    engine: Engine,
    fmt: ThinkingFormat,
    question: str,
    index: int,
    x: Any,
    config: Any,
    unit: Unit,
    hard_cap: bool,
    system: str | None,
) -> _Job:
    if unit == "class":
        instruction = config.instruction_for(str(x))
        extra: dict[str, Any] = {"class": str(x)}
        cap, schedule = config.max_tokens, None
    else:
        budget = _token_budget(x)
        if unit == "steps":
            steps = steps_for(budget, config.step_tokens)
            instruction = config.instruction.format(budget=budget, steps=steps)
            extra = {"prompt_budget": steps, "prompt_unit": "steps", "step_tokens": config.step_tokens}
            schedule = MarkerSchedule("steps", steps, config.marker_interval, config.step_tokens)
        else:
            instruction = config.instruction.format(budget=budget)
            extra = {"prompt_budget": budget, "prompt_unit": "tokens"}
            schedule = MarkerSchedule("tokens", budget, config.marker_interval)
        schedule = schedule if config.markers else None
        cap = budget if hard_cap else config.max_tokens
    extra["max_thinking"] = cap
    prompt = build_prompt(engine.tokenizer, fmt, with_instruction(question, instruction), system)
    return _Job(x, index, prompt, cap, schedule, extra)


def _check_config(method: str, unit: Unit, config: Any) -> None:
    need = {"class": ClassConditionalConfig, "steps": StepConditionalConfig}.get(unit, TokenConditionalConfig)
    if unit not in ("tokens", "steps", "class"):
        raise ConfigError(f"unit must be tokens, steps or class, got {unit!r}")
    if not isinstance(config, need):
        raise ConfigError(f"method {method!r} takes a {need.__name__}, got {type(config).__name__}")


def _token_budget(x: Any) -> int:
    try:
        value = int(x)
    except (TypeError, ValueError):
        raise ConfigError(
            f"budget {x!r} is not a number of thinking tokens; use e.g. {option('budgets', '512,1024')}"
        ) from None
    require_positive("budget", value, "Budgets are thinking tokens, e.g. 512,1024,2048.")
    return value


def _relabel(result: ControlResult, job: _Job) -> ControlResult:
    """The ledger keyed by the method's x (the stated budget or class), not the thinking limit used."""
    ledger = result.ledger
    ledger.budget = job.x
    ledger.extra.update(job.extra)
    markers = sum(1 for r in ledger.rounds if r.stop == "marker")
    if markers:
        ledger.extra["markers"] = markers
    return result


# --------------------------------------------------------------------------- registry entries
@dataclass(frozen=True)
class ConditionalMethod(RegisteredMethod):
    """A conditional-control method in the registry (`tcc`, `scc`, `ccc`, `tcc+bf`, `scc+bf`)."""

    name: str
    config_class: type
    unit: Unit = "tokens"
    hard_cap: bool = False

    @property
    def x_unit(self) -> str:  # type: ignore[override]
        return "class" if self.unit == "class" else "tokens"

    x_choices: ClassVar[tuple[str, ...]] = ("short", "long")

    sweep_sets_cap: ClassVar[bool] = False  # each budget is its own job with its own cap (+bf too)

    def default_budgets(self, config: Any) -> list[Any]:
        if self.unit == "class":
            return ["short", "long"]
        return [config.max_thinking_tokens]

    def execute(self, engine, fmt, questions, budgets, config, **options):
        return run_conditional(
            engine,
            fmt,
            questions,
            budgets,
            config,
            method=self.name,
            unit=self.unit,
            hard_cap=self.hard_cap,
            **options,
        )


TCC = register_method(
    ConditionalMethod("tcc", TokenConditionalConfig),
    display="TCC",
    summary="token-conditional control: the prompt states the thinking-token limit",
    lm_eval_class="S1TokenConditionalLM",
    inspect_solver="tcc",
)
TCC_BF = register_method(
    ConditionalMethod("tcc+bf", TokenConditionalConfig, hard_cap=True),
    display="TCC+BF",
    summary="TCC with budget forcing's hard cap at the stated budget",
    lm_eval_class="S1TokenConditionalBFLM",
)
SCC = register_method(
    ConditionalMethod("scc", StepConditionalConfig, unit="steps"),
    display="SCC",
    summary="step-conditional control: the prompt states a step limit (~100 tokens a step)",
    lm_eval_class="S1StepConditionalLM",
    inspect_solver="scc",
)
SCC_BF = register_method(
    ConditionalMethod("scc+bf", StepConditionalConfig, unit="steps", hard_cap=True),
    display="SCC+BF",
    summary="SCC with budget forcing's hard cap at the stated budget",
    lm_eval_class="S1StepConditionalBFLM",
)
CCC = register_method(
    ConditionalMethod("ccc", ClassConditionalConfig, unit="class"),
    display="CCC",
    summary="class-conditional control: generic 'think short' / 'think long' prompts",
    lm_eval_class="S1ClassConditionalLM",
    inspect_solver="ccc",
)
