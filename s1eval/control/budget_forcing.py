"""Budget forcing (s1): cap the thinking at a token budget, or extend it past the model's own end.

*Cap*: when the budget is spent, append the end-of-thinking delimiter and `Final Answer:` and let the model
answer. *Extend*: when the model samples the end-of-thinking marker while extensions are owed, that marker is
never committed; an extension string ("Wait", "Hmm", "Alternatively", "" or a cycle of them) is appended and
thinking goes on. Every round asks the engine only for the budget that remains, so no generated token is
ever thrown away, and the engine continues the same sequence (KV reuse where the backend has it).

One thinking trajectory serves any number of budgets: `run_budget_sweep` thinks once with the largest
budget and forks an answer at each smaller budget's cut point. A budget's cut keeps every round whose
end-of-thinking event came before the budget ran out, which is exactly what a separate run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from s1eval.control.base import (
    ControlResult,
    Program,
    chunks,
    decode,
    derive_seed,
    drive,
    encode,
    release_engine,
    run_key,
)
from s1eval.control.ledger import Ledger, Round
from s1eval.engines.base import Engine, GenerationRequest, GenerationResult, SamplingParams
from s1eval.errors import ConfigError, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import single_token_id

EXTENSION_PRESETS: dict[str, tuple[str, ...]] = {
    "wait": ("Wait",),
    "hmm": ("Hmm",),
    "alternatively": ("Alternatively",),
    "none": ("",),
    "ignore": ("",),
    "cycle": ("Wait", "Hmm", "Alternatively"),
}


def parse_extension_strings(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Accept a preset name (wait, hmm, alternatively, none, cycle), a '|'-separated cycle, or a list."""
    if value is None:
        return ("Wait",)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in EXTENSION_PRESETS:
            return EXTENSION_PRESETS[key]
        if key == "":
            return ("",)
        return tuple(part for part in value.split("|")) if "|" in value else (value,)
    strings = tuple(value)
    if not strings:
        raise ConfigError(
            "extension strings must not be an empty list; use 'none' to only ignore the delimiter"
        )
    return strings


PENALTY_SAMPLING: dict[str, float] = {"frequency_penalty": 0.5}
"""What the '+penalty' strategies apply to the rounds after an extension (against repetition loops)."""


def strategy_names() -> list[str]:
    """Every extension strategy name `resolve_strategy` accepts."""
    return [n for base in EXTENSION_PRESETS for n in (base, base + "+penalty")]


def resolve_strategy(name: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """An extension strategy by name -> (extension strings, extension-round sampling overrides).

    Names are a preset (wait, hmm, alternatively, none, cycle), optionally with '+penalty' for a frequency
    penalty during the extended rounds: 'cycle+penalty' cycles Wait / Hmm / Alternatively with the penalty.
    """
    key = name.strip().lower()
    base, plus, extra = key.partition("+")
    if base not in EXTENSION_PRESETS or (plus and extra != "penalty"):
        raise ConfigError(f"unknown extension strategy {name!r}; use one of: {', '.join(strategy_names())}")
    return EXTENSION_PRESETS[base], dict(PENALTY_SAMPLING) if plus else {}


@dataclass(frozen=True)
class BudgetForcingConfig:
    """Settings of one budget-forcing run (the budget is in generated thinking tokens)."""

    max_thinking_tokens: int
    num_extensions: int = 0
    min_thinking_tokens: int | None = None
    extension_strings: tuple[str, ...] = ("Wait",)
    max_answer_tokens: int = 1024
    answer_prefix: str | None = None
    sampling: SamplingParams = field(default_factory=SamplingParams)
    extension_sampling: dict[str, float] = field(default_factory=dict)
    """Overrides for the rounds after an extension (e.g. a frequency penalty against loops)."""
    strategy: str | None = None
    """An extension strategy by name (see `resolve_strategy`: 'wait', 'cycle', 'cycle+penalty', ...), recorded in
    the ledger; it fills `extension_strings` / `extension_sampling` where those are left at their defaults."""

    def __post_init__(self) -> None:
        require_positive(
            "max_thinking_tokens", self.max_thinking_tokens, "Give a thinking budget such as 4000."
        )
        require_positive("max_answer_tokens", self.max_answer_tokens, "Give an answer limit such as 1024.")
        require_positive("min_thinking_tokens", self.min_thinking_tokens, "Or leave it unset.")
        if (
            isinstance(self.num_extensions, bool)
            or not isinstance(self.num_extensions, int)
            or self.num_extensions < 0
        ):
            raise ConfigError(f"num_extensions must be an integer >= 0, got {self.num_extensions!r}")
        if not self.extension_strings:
            raise ConfigError(
                "extension_strings must hold at least one string ('' ignores the delimiter only)"
            )
        if self.strategy is not None:  # a named strategy sets the strings and sampling left at their defaults
            strings, sampling = resolve_strategy(self.strategy)
            if self.extension_strings == ("Wait",):
                object.__setattr__(self, "extension_strings", strings)
            if not self.extension_sampling:
                object.__setattr__(self, "extension_sampling", sampling)
        unknown = set(self.extension_sampling) - set(SamplingParams.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"unknown extension_sampling fields {sorted(unknown)}; use e.g. frequency_penalty"
            )

    def with_budget(self, budget: int) -> BudgetForcingConfig:
        from dataclasses import replace

        return replace(self, max_thinking_tokens=budget)

    @property
    def strategy_name(self) -> str:
        if self.strategy:
            return self.strategy
        names = {v: k for k, v in EXTENSION_PRESETS.items() if k not in ("ignore",)}
        base = names.get(self.extension_strings, "|".join(self.extension_strings))
        return base + ("+penalty" if self.extension_sampling else "")


# --------------------------------------------------------------------------- the thinking trajectory
@dataclass
class _ThinkRound:
    ids: list[int]
    stop: str  # delimiter, eos, stop_string, budget, error
    forced: str | None = None  # the extension string appended after this round, if any
    forced_ids: list[int] = field(default_factory=list)


@dataclass
class _Trajectory:
    index: int
    key: str
    prompt: str
    prompt_ids: list[int]
    seed: int | None
    rounds: list[_ThinkRound] = field(default_factory=list)
    error: str | None = None

    @property
    def generated(self) -> int:
        return sum(len(r.ids) for r in self.rounds)

    @property
    def extensions(self) -> int:
        return sum(1 for r in self.rounds if r.forced is not None)

    def context(self) -> list[int]:
        ids = list(self.prompt_ids)
        for r in self.rounds:
            ids += r.ids + r.forced_ids
        return ids


@dataclass
class _Cut:
    """A trajectory cut at one budget: the answer context and the thinking part of the ledger."""

    context: list[int]
    think_end: int  # index in context where the thinking ends (before the delimiter)
    rounds: list[Round]
    thinking_tokens: int
    extensions: int
    capped: bool
    error: str | None = None


class _Controller:
    """Drives one engine through the thinking rounds and the answer forks of a batch of prompts."""

    def __init__(self, engine: Engine, fmt: ThinkingFormat, config: BudgetForcingConfig, method: str):
        self.engine = engine
        self.fmt = fmt
        self.config = config
        self.method = method
        tok = engine.tokenizer
        self.end_marker_id = single_token_id(tok, fmt.end_marker)
        self.think_stop_ids = _token_ids(
            tok, (fmt.end_marker, *fmt.extra_think_stops), getattr(tok, "eos_token_id", None)
        )
        self.answer_stop_ids = _token_ids(tok, fmt.answer_stops, getattr(tok, "eos_token_id", None))
        self.think_end_ids = encode(engine, fmt.think_end)
        self.answer_prefix = fmt.answer_prefix if config.answer_prefix is None else config.answer_prefix
        self.prefix_ids = encode(engine, self.answer_prefix)
        self.extension_ids = {s: encode(engine, s) for s in config.extension_strings}

    # ---- one sample, as a program: think with the largest budget, then fork an answer per distinct cut
    def program(self, t: _Trajectory, budgets: Sequence[int]) -> Program:
        """Yield the sample's requests; return {budget: ControlResult}. `budgets` is sorted descending."""
        round_no = 0
        while True:
            res = yield self._think_request(t, budgets[0], round_no)
            round_no += 1
            if not self._after_think(t, res, budgets[0]):
                break
        cuts = {b: self.cut(t, b) for b in budgets}
        answers: dict[tuple[int, ...], GenerationResult] = {}
        for b in budgets:  # largest first: every fork reuses the cached thinking
            cut = cuts[b]
            key = tuple(cut.context)
            if cut.error is None and key not in answers:
                answers[key] = yield self.answer_request(t, cut)
        return {b: self.finish(t, cuts[b], answers.get(tuple(cuts[b].context)), b) for b in budgets}

    def _think_request(self, t: _Trajectory, budget: int, round_no: int) -> GenerationRequest:
        cfg = self.config
        sampling = cfg.sampling
        if t.extensions and cfg.extension_sampling:
            sampling = sampling.merged(**cfg.extension_sampling)
        last_forced = t.rounds[-1].forced if t.rounds else None
        return GenerationRequest(
            context_ids=t.context(),
            max_new_tokens=budget - t.generated,
            stop_token_ids=self.think_stop_ids,
            sampling=sampling,
            seed=derive_seed(t.seed, round_no),
            min_new_tokens=1
            if last_forced == ""
            else 0,  # "ignore the delimiter": it may not come right back
            cache_key=t.key,
        )

    def _after_think(self, t: _Trajectory, res: GenerationResult, budget: int) -> bool:
        """Record one thinking round; True while the sample keeps thinking."""
        if res.stop_reason == "error":
            t.rounds.append(_ThinkRound(list(res.token_ids), "error"))
            t.error = res.error or "engine error"
            return False
        ids = list(res.token_ids)
        if res.stop_reason == "length" or t.generated + len(ids) >= budget:
            t.rounds.append(_ThinkRound(ids, "budget"))
            return False
        stop = self._stop_kind(res)
        generated = t.generated + len(ids)
        cfg = self.config
        owed = t.extensions < cfg.num_extensions or (
            cfg.min_thinking_tokens is not None and generated < cfg.min_thinking_tokens
        )
        if not owed:
            t.rounds.append(_ThinkRound(ids, stop))
            return False
        forced = cfg.extension_strings[t.extensions % len(cfg.extension_strings)]
        t.rounds.append(_ThinkRound(ids, stop, forced, self.extension_ids[forced]))
        return True

    def _stop_kind(self, res: GenerationResult) -> str:
        if res.stop_reason == "stop_string":
            return "stop_string"
        if res.stop_token is not None and res.stop_token == self.end_marker_id:
            return "delimiter"
        return "eos"

    # ---- the cut at one budget
    def cut(self, t: _Trajectory, budget: int) -> _Cut:
        ctx = list(t.prompt_ids)
        rounds: list[Round] = []
        generated = extensions = 0
        for r in t.rounds:
            take = min(len(r.ids), budget - generated)
            ctx += r.ids[:take]
            generated += take
            if r.stop == "error":
                rounds.append(Round("think", take, "error"))
                return _Cut(ctx, len(ctx), rounds, generated, extensions, False, t.error)
            if generated >= budget:  # the budget ran out before (or exactly when) the model would stop
                think_end = len(ctx)
                ctx += self.think_end_ids + self.prefix_ids
                forced = self.fmt.think_end + self.answer_prefix
                rounds.append(
                    Round("think", take, "budget", forced, len(self.think_end_ids) + len(self.prefix_ids))
                )
                return _Cut(ctx, think_end, rounds, generated, extensions, True)
            if r.forced is not None:
                ctx += r.forced_ids
                rounds.append(Round("think", take, r.stop, r.forced, len(r.forced_ids)))
                extensions += 1
                continue
            think_end = len(ctx)
            ctx += self.think_end_ids
            rounds.append(Round("think", take, r.stop, self.fmt.think_end, len(self.think_end_ids)))
            return _Cut(ctx, think_end, rounds, generated, extensions, False)
        raise AssertionError("a finished trajectory ends in a natural stop, the budget or an error")

    # ---- phase 2: answer every cut
    def answer_request(self, t: _Trajectory, cut: _Cut) -> GenerationRequest:
        return GenerationRequest(
            context_ids=cut.context,
            max_new_tokens=self.config.max_answer_tokens,
            stop_token_ids=self.answer_stop_ids,
            sampling=self.config.sampling,
            seed=derive_seed(t.seed, 10_000),  # the same at every budget, as in a separate run
            cache_key=t.key,
        )

    def finish(self, t: _Trajectory, cut: _Cut, res: GenerationResult | None, budget: int) -> ControlResult:
        ledger = Ledger(method=self.method, budget=budget)
        for r in cut.rounds:
            ledger.add_round(r)
        ledger.extensions = cut.extensions
        ledger.capped = cut.capped
        ledger.extra["strategy"] = self.config.strategy_name
        thinking = decode(self.engine, cut.context[len(t.prompt_ids) : cut.think_end])
        answer = ""
        if cut.error is not None or res is None:
            ledger.outcome = "engine_error"
            ledger.extra["error"] = cut.error or "no answer phase"
        elif res.stop_reason == "error":
            ledger.add_round(Round("answer", len(res.token_ids), "error"))
            ledger.outcome = "engine_error"
            ledger.extra["error"] = res.error or "engine error"
        else:
            stop = "length" if res.stop_reason == "length" else "eos"
            ledger.add_round(Round("answer", len(res.token_ids), stop))
            answer = (self.answer_prefix if cut.capped else "") + res.text
            ledger.outcome = "truncated" if stop == "length" else ("forced" if cut.capped else "answered")
        delimiter = self.fmt.think_end if cut.error is None else ""
        return ControlResult(
            prompt=t.prompt,
            thinking=thinking,
            answer=answer,
            ledger=ledger,
            output=thinking + delimiter + answer,
        )


def _token_ids(tokenizer, texts: Sequence[str], eos: int | list[int] | None) -> tuple[int, ...]:
    ids: list[int] = []
    for text in texts:
        tid = single_token_id(tokenizer, text)
        if tid is not None and tid not in ids:
            ids.append(tid)
    for e in eos if isinstance(eos, list) else [eos]:
        if e is not None and e not in ids:
            ids.append(e)
    return tuple(ids)


# --------------------------------------------------------------------------- public entry points
Progress = Callable[[int], None]


def run_budget_sweep(
    engine: Engine,
    fmt: ThinkingFormat,
    prompts: Sequence[str],
    budgets: Sequence[int],
    config: BudgetForcingConfig,
    *,
    seeds: Sequence[int | None] | None = None,
    method: str = "bf",
    progress: Progress | None = None,
) -> dict[int, list[ControlResult]]:
    """Budget forcing at several budgets from one thinking trajectory per prompt (the anytime sweep)."""
    budgets = sorted({int(b) for b in budgets}, reverse=True)
    if not budgets:
        raise ConfigError("give at least one budget, e.g. --budgets 512,1024,2048")
    for b in budgets:
        require_positive("budget", b, "Budgets are thinking tokens, e.g. 512,1024,2048.")
    if seeds is not None and len(seeds) != len(prompts):
        raise ConfigError(f"got {len(seeds)} seeds for {len(prompts)} prompts; give one seed per prompt")
    ctl = _Controller(engine, fmt, config.with_budget(budgets[0]), method)
    out: dict[int, list[ControlResult]] = {b: [] for b in budgets}
    namespace = run_key(method)
    for chunk in chunks(len(prompts), engine):
        programs = [
            ctl.program(
                _Trajectory(
                    index=i,
                    key=f"{namespace}-{i}",
                    prompt=prompts[i],
                    prompt_ids=encode(engine, prompts[i]),
                    seed=None if seeds is None else seeds[i],
                ),
                budgets,
            )
            for i in chunk
        ]
        for per_budget in drive(engine, programs):
            for b in budgets:
                out[b].append(per_budget[b])
        if progress is not None:
            progress(len(chunk))
    release_engine(engine)
    return out


def run_budget_forcing(
    engine: Engine,
    fmt: ThinkingFormat,
    prompts: Sequence[str],
    config: BudgetForcingConfig,
    *,
    seeds: Sequence[int | None] | None = None,
    method: str = "bf",
    progress: Progress | None = None,
) -> list[ControlResult]:
    """Budget forcing at one budget: the sweep with a single budget."""
    budget = config.max_thinking_tokens
    return run_budget_sweep(
        engine, fmt, prompts, [budget], config, seeds=seeds, method=method, progress=progress
    )[budget]
