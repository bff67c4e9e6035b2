"""Budget forcing (s1): cap the thinking at a token budget, or extend it past the model's own end.

*Cap*: when the budget is spent, append the end-of-thinking delimiter and `Final Answer:` and let the model
answer. *Extend*: when the model samples the end-of-thinking marker while extensions are owed, that marker is
never committed; an extension string ("Wait", "Hmm", "Alternatively", "" or a cycle of them) is appended and
thinking goes on. Every round asks the engine only for the budget that remains, so no generated token is
ever thrown away, and the engine continues the same sequence (KV reuse where the backend has it).

One thinking trajectory serves any number of budgets: `run_budget_sweep` thinks once with the largest
budget and forks an answer at each smaller budget's cut point. A budget's cut keeps every round whose
end-of-thinking event came before the budget ran out, which is exactly what a separate run would have seen.

The delimiter is put on its own line (a newline first unless the thinking already ends in one), as in the
text models are trained on. `min_thinking_tokens` is vLLM's `min_tokens` (the end of thinking is masked
until that many tokens), never a forced string, so it always terminates. `max_thinking_tokens="auto"` lets
the thinking run to the engine's context length minus the prompt, the forced text and the answer limit.

`compat="reference"` reproduces the s1 paper's lm-eval fork token for token (`_ReferenceController`);
docs/reference-differences.md lists every difference between the two modes.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from s1eval.control.base import (
    ControlResult,
    chunks,
    decode,
    derive_seed,
    encode,
    run_key,
)
from s1eval.control.ledger import Ledger, Round
from s1eval.engines.base import Engine, GenerationRequest, GenerationResult, SamplingParams
from s1eval.engines.programs import Program
from s1eval.errors import ConfigError, option, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import single_token_id

AUTO = "auto"
_MODEL_STOPS = ("delimiter", "eos", "stop_string")
"""Round stops where the model itself ended the thinking (an extension may follow)."""
COMPAT_MODES = ("s1eval", "reference")
AUTO_ANSWER_MARGIN = 100
"""The fork's `auto` leaves 100 tokens for the answer (vllm_causallms.py:L264)."""

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


def record_answer(ledger: Ledger, res: GenerationResult, prefix: str, capped: bool) -> str:
    """Add the answer round to the ledger and set the outcome; the answer text ("" after an engine error)."""
    if res.stop_reason == "error":
        ledger.add_round(Round("answer", len(res.token_ids), "error"))
        ledger.outcome = "engine_error"
        ledger.extra["error"] = res.error or "engine error"
        return ""
    stop = "length" if res.stop_reason == "length" else "eos"
    ledger.add_round(Round("answer", len(res.token_ids), stop))
    ledger.outcome = "truncated" if stop == "length" else ("forced" if capped else "answered")
    return prefix + res.text


@dataclass(frozen=True, kw_only=True)
class ForcingSettings:
    """The budget-forcing settings every method shares (extensions, answer limit, sampling): each method's config
    is one of these plus its own fields, and `budget_forcing_config` turns it into the controller's config."""

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
        budget_forcing_config(self, 1)  # validate the shared settings (and the strategy name) up front


@dataclass(frozen=True)
class BudgetForcingConfig(ForcingSettings):
    """Settings of one budget-forcing run (the budget is in generated thinking tokens): the shared forcing
    settings plus the budget and the compatibility mode."""

    max_thinking_tokens: int | str = AUTO
    """A token budget, or "auto" (the default, as in the s1 reference): up to the context length minus the prompt,
    the forced delimiter and `max_answer_tokens` (see `resolve_auto_budgets`)."""
    compat: str = "s1eval"
    """"s1eval" (the default) or "reference": token-identical to the s1 paper's lm-eval fork
    (docs/reference-differences.md)."""
    intervention: str | None = None
    """A thinking intervention on top of BF (s1eval.control.interventions: early_stop, wrap_up, alphaone,
    dynasor), as `name` or `name:key=value:...`; recorded in every ledger."""

    def __post_init__(self) -> None:  # the full check (ForcingSettings' own would build one of these)
        if isinstance(self.max_thinking_tokens, str) and self.max_thinking_tokens.strip().lower() == AUTO:
            object.__setattr__(self, "max_thinking_tokens", AUTO)
        else:
            require_positive(
                "max_thinking_tokens",
                self.max_thinking_tokens,
                "Give a thinking budget such as 4000, or auto.",
            )
        compat = str(self.compat).strip().lower()
        if compat not in COMPAT_MODES:
            raise ConfigError(f"compat must be one of {', '.join(COMPAT_MODES)}, got {self.compat!r}")
        object.__setattr__(self, "compat", compat)
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
        if self.intervention is not None:
            from s1eval.control.interventions import parse_intervention

            policy = parse_intervention(self.intervention)
            object.__setattr__(self, "intervention", None if policy is None else policy.spec)
            if policy is not None and compat == "reference":
                raise ConfigError(
                    f"compat=reference is the fork's loop, which has no interventions; drop "
                    f"intervention={policy.spec} or use compat=s1eval"
                )
        if compat == "reference" and (len(self.extension_strings) > 1 or self.extension_sampling):
            raise ConfigError(
                "compat=reference has one extension string and no extension sampling (the fork's "
                "thinking_n_ignore_str); drop the cycle / +penalty or use compat=s1eval"
            )

    @property
    def reference(self) -> bool:
        return self.compat == "reference"

    def with_budget(self, budget: int) -> BudgetForcingConfig:
        return replace(self, max_thinking_tokens=budget)

    @property
    def strategy_name(self) -> str:
        if self.strategy:
            return self.strategy
        names = {v: k for k, v in EXTENSION_PRESETS.items() if k not in ("ignore",)}
        base = names.get(self.extension_strings, "|".join(self.extension_strings))
        return base + ("+penalty" if self.extension_sampling else "")


def budget_forcing_config(config: Any, cap: int, **overrides: Any) -> BudgetForcingConfig:
    """The BudgetForcingConfig of a method config: its shared fields, with `cap` as the thinking limit."""
    names = {f.name for f in dataclasses.fields(BudgetForcingConfig)} - {"max_thinking_tokens"}
    values = {n: getattr(config, n) for n in names if hasattr(config, n)}
    return BudgetForcingConfig(max_thinking_tokens=cap, **(values | overrides))


# --------------------------------------------------------------------------- the thinking trajectory
@dataclass
class ThinkRound:
    """One thinking round of a trajectory: the ids the model generated, why it stopped, what was forced after."""

    ids: list[int]
    stop: str  # delimiter, eos, stop_string, budget, error
    forced: str | None = None  # the text appended after this round, if any ("" marks a decision point)
    forced_ids: list[int] = field(default_factory=list)
    probe: Round | None = None
    """An answer probed at the end of this round (an intervention's fork, not part of the thinking)."""


@dataclass
class Trajectory:
    """One sample's thinking as it grows: its prompt, its rounds (generated + forced ids), its cache key and seed.

    Methods built on the controller (tcc, scc, rs, vote) make one per sample or per try and hand it to
    `ThinkingController.program`."""

    index: int
    key: str
    prompt: str
    prompt_ids: list[int]
    seed: int | None
    rounds: list[ThinkRound] = field(default_factory=list)
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    """An intervention's state for this sample (probe answers, the hint position, ...)."""
    probe_text: str | None = None
    """A probe an intervention asked for, sent before the next thinking round."""

    @property
    def generated(self) -> int:
        return sum(len(r.ids) for r in self.rounds)

    @property
    def extensions(self) -> int:
        """Forced text after the model's own end of thinking (not at a method's decision point)."""
        return sum(1 for r in self.rounds if r.forced is not None and r.stop in _MODEL_STOPS)

    def context(self) -> list[int]:
        ids = list(self.prompt_ids)
        for r in self.rounds:
            ids += r.ids + r.forced_ids
        return ids


@dataclass
class ThinkingCut:
    """A trajectory cut at one budget: the answer context and the thinking part of the ledger."""

    context: list[int]
    think_end: int  # index in context where the thinking ends (before the delimiter)
    rounds: list[Round]
    thinking_tokens: int
    extensions: int
    capped: bool
    error: str | None = None
    delimiter: str = ""
    """The text forced to end the thinking (before the answer prefix, if capped)."""
    generated_mask: list[int] = field(default_factory=list)
    """Per token of the context after the prompt: 1 generated by the model, 0 forced by the method."""


class ThinkingController:
    """Drives one engine through the thinking rounds and the answer forks of a batch of prompts.

    The kernel every method shares: `program(trajectory, budgets)` is a generator (see
    s1eval.engines.programs) that thinks with the largest budget, cuts the trajectory at each budget
    (`cut`, a `ThinkingCut`), forces the end of thinking and the answer prefix, and forks one answer per cut."""

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
        self._encoded: dict[str, list[int]] = {}
        from s1eval.control.interventions import parse_intervention

        self.intervention = parse_intervention(getattr(config, "intervention", None))
        if self.intervention is not None:
            self.intervention.check(self)

    def _enc(self, text: str) -> list[int]:
        if text not in self._encoded:
            self._encoded[text] = encode(self.engine, text)
        return self._encoded[text]

    def decode_tail(self, ctx: list[int]) -> str:
        """The text of the context's last few tokens (enough to see whether it ends a line)."""
        return decode(self.engine, ctx[-8:])

    def single_token(self, text: str) -> int | None:
        """The id of a text that is one token of the engine's tokenizer, else None."""
        ids = self._enc(text)
        return ids[0] if len(ids) == 1 else None

    def tokens_ending_with(self, text: str) -> tuple[int, ...]:
        """Every vocabulary id whose text ends with `text` (BPE merges "\\n\\n" into ".\\n\\n" and the like)."""
        return _tokens_ending_with(self.engine.tokenizer, text)

    def _delimiter(self, ctx: list[int], *, capped: bool, model_ended: bool = True) -> str:
        """The end-of-thinking text: on its own line, the newline not doubled (issue 17: 1 and 4).

        At the cap (and where an intervention ends the thinking) a newline comes first unless the thinking
        already ends in one; at a natural end the model chose where to stop, so only a delimiter that starts
        with a newline (R1's) loses it when the thinking already ends in one.
        """
        end = self.fmt.think_end
        if capped and self.intervention is not None:
            forced = self.intervention.cap_delimiter(self, ctx)
            if forced is not None:
                return forced
        ends_nl = self.decode_tail(ctx).endswith("\n")
        if capped or not model_ended or end.startswith("\n"):
            return ("" if ends_nl else "\n") + end.lstrip("\n")
        return end

    # ---- one sample, as a program: think with the largest budget, then fork an answer per distinct cut
    def program(self, t: Trajectory, budgets: Sequence[int]) -> Program:
        """Yield the sample's requests; return {budget: ControlResult}. `budgets` is sorted descending."""
        round_no = 0
        while True:
            res = yield self._think_request(t, budgets[0], round_no)
            round_no += 1
            going = self._after_think(t, res, budgets[0])
            while going and t.probe_text is not None:  # an intervention's answer probe, forked from here
                going = self._after_probe(t, (yield self._probe_request(t)))
            if not going:
                break
        cuts = {b: self.cut(t, b) for b in budgets}
        answers: dict[tuple[int, ...], GenerationResult] = {}
        for b in budgets:  # largest first: every fork reuses the cached thinking
            cut = cuts[b]
            key = tuple(cut.context)
            if cut.error is None and key not in answers:
                answers[key] = yield self.answer_request(t, cut)
        return {b: self.finish(t, cuts[b], answers.get(tuple(cuts[b].context)), b) for b in budgets}

    def _think_request(self, t: Trajectory, budget: int, round_no: int) -> GenerationRequest:
        cfg = self.config
        sampling = cfg.sampling
        if t.extensions and cfg.extension_sampling:
            sampling = sampling.merged(**cfg.extension_sampling)
        last = t.rounds[-1] if t.rounds else None  # an extension, not e.g. a budget marker
        forced_before = last is not None and last.forced is not None and last.stop in _MODEL_STOPS
        remaining = budget - t.generated
        # after a forced extension the delimiter may not come right back (a 0-token round); a minimum
        # thinking length masks the end of thinking until it is reached (vLLM's min_tokens)
        min_new = 1 if forced_before else 0
        if cfg.min_thinking_tokens is not None:
            min_new = max(min_new, cfg.min_thinking_tokens - t.generated)
        stops = self.think_stop_ids
        if self.intervention is not None:  # its next decision point ends the round, as do its stop tokens
            point = self.intervention.next_point(t, budget)
            if point is not None and t.generated < point < budget:
                remaining = point - t.generated
            stops = tuple(dict.fromkeys(stops + self.intervention.stop_ids(self, t, budget)))
        return GenerationRequest(
            context_ids=t.context(),
            max_new_tokens=remaining,
            stop_token_ids=stops,
            sampling=sampling,
            seed=derive_seed(t.seed, round_no),
            min_new_tokens=max(0, min(min_new, remaining)),
            cache_key=t.key,
        )

    def _after_think(self, t: Trajectory, res: GenerationResult, budget: int) -> bool:
        """Record one thinking round; True while the sample keeps thinking."""
        if res.stop_reason == "error":
            t.rounds.append(ThinkRound(list(res.token_ids), "error"))
            t.error = res.error or "engine error"
            return False
        ids = list(res.token_ids)
        at = t.generated + len(ids)
        iv = self.intervention
        if iv is not None and at < budget:
            event = self._event(t, res, at, budget)
            if event is not None:
                handled = self._intervene(t, ids, res, event, budget)
                if handled is not None:
                    return handled
        if res.stop_reason == "length" or at >= budget:
            t.rounds.append(ThinkRound(ids, "budget"))
            return False
        stop = self._stop_kind(res)
        cfg = self.config
        owed = t.extensions < cfg.num_extensions  # bounded: min_thinking_tokens never forces text
        if not owed:
            t.rounds.append(ThinkRound(ids, stop))
            return False
        forced = cfg.extension_strings[t.extensions % len(cfg.extension_strings)]
        t.rounds.append(ThinkRound(ids, stop, forced, self.extension_ids[forced]))
        return True

    def _event(self, t: Trajectory, res: GenerationResult, at: int, budget: int) -> str | None:
        """Which intervention event ended a round short of the budget: its point, its stop token, or the
        model's end of thinking."""
        if res.stop_reason == "length":
            point = self.intervention.next_point(t, budget)  # type: ignore[union-attr]
            return "point" if point == at else None
        if res.stop_reason == "stop_token" and res.stop_token not in self.think_stop_ids:
            return "stop"
        return "end"

    def _intervene(
        self, t: Trajectory, ids: list[int], res: GenerationResult, event: str, budget: int
    ) -> bool | None:
        """Ask the intervention at an event; record its decision. None: plain budget forcing decides."""
        from s1eval.control.interventions import End, Force, Probe

        iv = self.intervention
        # the decision sees the round's tokens (the notes dict is shared: the policy's state persists)
        action = iv.decide(self, replace(t, rounds=[*t.rounds, ThinkRound(ids, "pending")]), event, budget)  # type: ignore[union-attr]
        if action is None:
            return None
        model_stop = self._stop_kind(res) if event == "end" else None
        if isinstance(action, End):
            t.rounds.append(ThinkRound(ids, model_stop or action.label))
            return False
        if event == "stop":  # the model wrote the stop token: it stays in the thinking
            ids = ids + [res.stop_token]  # type: ignore[list-item]
            if t.generated + len(ids) >= budget:  # and spent the budget with it
                t.rounds.append(ThinkRound(ids, "budget"))
                return False
        if isinstance(action, Probe):
            t.rounds.append(ThinkRound(ids, "probe", "", []))
            t.probe_text = action.text
            return True
        assert isinstance(action, Force)
        t.rounds.append(ThinkRound(ids, model_stop or action.label, action.text, self._enc(action.text)))
        return True

    def _probe_request(self, t: Trajectory) -> GenerationRequest:
        text = t.probe_text or ""
        probes = sum(1 for r in t.rounds if r.probe is not None)
        return GenerationRequest(
            context_ids=t.context() + self._enc(text),
            max_new_tokens=self.intervention.probe_tokens,  # type: ignore[union-attr]
            stop_token_ids=self.answer_stop_ids,
            sampling=self.config.sampling,
            seed=derive_seed(t.seed, 20_000 + probes),
            cache_key=t.key,
        )

    def _after_probe(self, t: Trajectory, res: GenerationResult) -> bool:
        """Record a probe (its own round: forced text + generated answer) and let the intervention decide."""
        from s1eval.control.interventions import End, Force

        text, t.probe_text = t.probe_text or "", None
        last = t.rounds[-1]
        stop = {"length": "length", "error": "error"}.get(res.stop_reason, "eos")
        last.probe = Round("probe", len(res.token_ids), stop, text, len(self._enc(text)))
        if res.stop_reason == "error":
            t.error = res.error or "engine error"
            last.stop = "error"
            return False
        action = self.intervention.after_probe(self, t, res.text)  # type: ignore[union-attr]
        if isinstance(action, End):
            last.stop, last.forced, last.forced_ids = action.label, None, []
            return False
        if isinstance(action, Force) and action.text:
            last.forced, last.forced_ids = action.text, self._enc(action.text)
        return True

    def _stop_kind(self, res: GenerationResult) -> str:
        if res.stop_reason == "stop_string":
            return "stop_string"
        if res.stop_token is not None and res.stop_token == self.end_marker_id:
            return "delimiter"
        return "eos"

    # ---- the cut at one budget
    def cut(self, t: Trajectory, budget: int) -> ThinkingCut:
        ctx = list(t.prompt_ids)
        mask: list[int] = []
        rounds: list[Round] = []
        generated = extensions = 0

        def done(think_end: int, capped: bool, delimiter: str = "", error: str | None = None) -> ThinkingCut:
            return ThinkingCut(ctx, think_end, rounds, generated, extensions, capped, error, delimiter, mask)

        for r in t.rounds:
            take = min(len(r.ids), budget - generated)
            ctx += r.ids[:take]
            mask += [1] * take
            generated += take
            if r.stop == "error":
                rounds.append(Round("think", take, "error"))
                return done(len(ctx), False, error=t.error)
            if generated >= budget:  # the budget ran out before (or exactly when) the model would stop
                think_end = len(ctx)
                delimiter = self._delimiter(ctx, capped=True)
                end_ids = self._enc(delimiter)
                ctx += end_ids + self.prefix_ids
                mask += [0] * (len(end_ids) + len(self.prefix_ids))
                forced = delimiter + self.answer_prefix
                rounds.append(Round("think", take, "budget", forced, len(end_ids) + len(self.prefix_ids)))
                return done(think_end, True, delimiter)
            if r.forced is not None:
                ctx += r.forced_ids
                mask += [0] * len(r.forced_ids)
                rounds.append(Round("think", take, r.stop, r.forced, len(r.forced_ids)))
                rounds += [r.probe] if r.probe is not None else []
                extensions += r.stop in _MODEL_STOPS
                continue
            think_end = len(ctx)
            delimiter = self._delimiter(ctx, capped=False, model_ended=r.stop in _MODEL_STOPS)
            end_ids = self._enc(delimiter)
            ctx += end_ids
            # the end marker the model sampled, where the delimiter starts with it, is the model's own token
            sampled = r.stop == "delimiter" and end_ids[:1] == [self.end_marker_id]
            mask += [1] * sampled + [0] * (len(end_ids) - sampled)
            rounds += [r.probe] if r.probe is not None else []
            rounds.append(Round("think", take, r.stop, delimiter, len(end_ids)))
            return done(think_end, False, delimiter)
        raise AssertionError("a finished trajectory ends in a natural stop, the budget or an error")

    # ---- phase 2: answer every cut
    def answer_request(self, t: Trajectory, cut: ThinkingCut) -> GenerationRequest:
        return GenerationRequest(
            context_ids=cut.context,
            max_new_tokens=self.config.max_answer_tokens,
            stop_token_ids=self.answer_stop_ids,
            sampling=self.config.sampling,
            seed=derive_seed(t.seed, 10_000),  # the same at every budget, as in a separate run
            cache_key=t.key,
        )

    def finish(
        self, t: Trajectory, cut: ThinkingCut, res: GenerationResult | None, budget: int
    ) -> ControlResult:
        ledger = Ledger(method=self.method, budget=budget)
        for r in cut.rounds:
            ledger.add_round(r)
        ledger.extensions = cut.extensions
        ledger.capped = cut.capped
        ledger.extra["strategy"] = self.config.strategy_name
        if self.intervention is not None:
            ledger.extra["intervention"] = self.intervention.spec
            ledger.extra.update(self.intervention.ledger_extra(_up_to(t, cut)))
        thinking = decode(self.engine, cut.context[len(t.prompt_ids) : cut.think_end])
        answer = ""
        answer_ids: list[int] = []
        if cut.error is not None or res is None:
            ledger.outcome = "engine_error"
            ledger.extra["error"] = cut.error or "no answer phase"
        else:
            answer = record_answer(ledger, res, self.answer_prefix if cut.capped else "", cut.capped)
            answer_ids = list(res.token_ids) + ([res.stop_token] if res.stop_token is not None else [])
        delimiter = (cut.delimiter or self.fmt.think_end) if cut.error is None else ""
        return ControlResult(
            prompt=t.prompt,
            thinking=thinking,
            answer=answer,
            ledger=ledger,
            output=thinking + delimiter + answer,
            extra={  # the exact ids (for RL on the rollouts), 1 where the model generated, 0 where forced
                "prompt_ids": list(t.prompt_ids),
                "completion_ids": cut.context[len(t.prompt_ids) :] + answer_ids,
                "completion_mask": cut.generated_mask + [1] * len(answer_ids),
            },
        )


_ENDING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tokens_ending_with(tokenizer: Any, text: str) -> tuple[int, ...]:
    """One scan of the vocabulary per tokenizer and text (a 150K vocabulary takes a second or two)."""
    per = _ENDING.setdefault(tokenizer, {})
    if text not in per:
        size = len(tokenizer) if hasattr(tokenizer, "__len__") else getattr(tokenizer, "vocab_size", 0)
        per[text] = tuple(i for i in range(size) if tokenizer.decode([i]).endswith(text))
    return per[text]


def _up_to(t: Trajectory, cut: ThinkingCut) -> Trajectory:
    """The trajectory as a run with the cut's budget saw it (its notes restricted to the kept probes)."""
    if "answers" not in t.notes:
        return t
    probes = sum(1 for r in cut.rounds if r.phase == "probe")
    notes = dict(t.notes, answers=t.notes["answers"][:probes])
    if probes < len(t.notes["answers"]):
        notes.pop("exit_answer", None)
    return replace(t, notes=notes)


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


# --------------------------------------------------------------------------- compat="reference"
FORK_ANSWER_PREFIX = "Final Answer:"
"""The fork's cap is `thinking_end + "\nFinal Answer:"` (vllm_causallms.py:L254)."""


def generation_config_eos_ids(engine: Engine) -> list[int]:
    """The model's `generation_config.eos_token_id` ids (vLLM stops on them too), where the engine has them."""
    model = getattr(engine, "model", None)
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None and getattr(engine, "name", None) == "vllm":  # it runs with ignore_eos: read the file
        try:
            from transformers import GenerationConfig

            eos = GenerationConfig.from_pretrained(
                engine.model_id, revision=getattr(engine, "revision", None)
            ).eos_token_id
        except Exception:  # no generation_config.json: vLLM has no extra EOS ids either
            eos = None
    if eos is None:
        return []
    return [int(e) for e in (eos if isinstance(eos, list | tuple) else [eos])]


def engine_context_length(engine: Engine) -> int:
    """The most positions the engine's model takes (vLLM's max_model_len, a transformers model's
    max_position_embeddings); `max_thinking_tokens="auto"` is bounded by it."""
    for attr in ("max_model_len", "context_length"):
        value = getattr(engine, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    try:
        return int(engine.llm.llm_engine.model_config.max_model_len)  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        pass
    value = getattr(getattr(getattr(engine, "model", None), "config", None), "max_position_embeddings", None)
    if isinstance(value, int) and value > 0:
        return value
    raise ConfigError(
        f"max_thinking_tokens=auto needs the context length of engine {engine.name!r}, which it does not "
        f"report; give a number of thinking tokens instead ({option('max_thinking_tokens', 4000)})"
    )


class _ReferenceController:
    """Budget forcing exactly as the s1 fork's `_model_generate` does it (vllm_causallms.py:L236-L412).

    Every thinking round asks for the whole budget, with `min_tokens=1` when extensions are asked (else
    `min_thinking_tokens`); a round that stops is stripped of the until token, the ignore string appended
    and the sequence continued; a round that hits the length limit, or the last round, ends the thinking.
    The concatenated ids (extension tokens counted) are then cut to the budget. A thinking whose last round
    ran out of tokens gets `"\n"` (unless the thinking *text* ends in one) + `thinking_end + "\nFinal
    Answer:"`; any other, cut or not, gets `thinking_end` alone.
    """

    def __init__(self, engine: Engine, fmt: ThinkingFormat, config: BudgetForcingConfig, method: str):
        self.engine, self.fmt, self.config, self.method = engine, fmt, config, method
        self.ref = fmt.reference_delimiters()
        tok = engine.tokenizer
        eos = getattr(tok, "eos_token_id", None)
        until = [self.ref.until_thinking] + ([tok.decode(eos)] if eos is not None else [])
        self.until_ids = [encode(engine, u) for u in until]
        if any(len(u) != 1 for u in self.until_ids):
            raise ConfigError(
                f"compat=reference needs single-token thinking stops, got {until!r} -> {self.until_ids}"
            )
        gen_eos = generation_config_eos_ids(engine)
        self.think_stop_ids = tuple(dict.fromkeys([u[0] for u in self.until_ids] + gen_eos))
        self.answer_stop_ids = tuple(dict.fromkeys(([eos] if eos is not None else []) + gen_eos))
        self.start_ids = encode(engine, self.ref.think_start)
        self.end_ids = encode(engine, self.ref.think_end)
        self.end_max_ids = encode(engine, self.ref.think_end + "\n" + FORK_ANSWER_PREFIX)
        self.newline_ids = encode(engine, "\n")
        self.ignore_text = config.extension_strings[0]
        self.ignore_ids = encode(engine, self.ignore_text)
        self.rounds = config.num_extensions + 1
        self.min_tokens = 1 if config.num_extensions else (config.min_thinking_tokens or 0)

    def context_ids(self, prompt: str) -> list[int]:
        """The fork's request: the chat context without the thinking start (the fork appends its own)."""
        for start in (self.fmt.think_start, self.ref.think_start):
            if start and prompt.endswith(start):
                return encode(self.engine, prompt[: -len(start)])
        return encode(self.engine, prompt)

    def auto_budget(self, contexts: Sequence[list[int]]) -> int:
        """vllm_causallms.py:L264: max_gen_toks - longest prompt - len(start) - len(end max) - 100."""
        budget = (
            self.config.max_answer_tokens
            - max(len(c) for c in contexts)
            - len(self.start_ids)
            - len(self.end_max_ids)
            - AUTO_ANSWER_MARGIN
        )
        if budget < 1:
            raise ConfigError(
                f"max_thinking_tokens=auto comes out at {budget} (compat=reference: max_answer_tokens minus "
                f"the longest prompt, the delimiters and {AUTO_ANSWER_MARGIN}); raise max_answer_tokens"
            )
        return budget

    def _strip(self, ids: list[int]) -> list[int]:
        for toks in self.until_ids:  # L395-L398, in until order
            if ids[-len(toks) :] == toks:
                ids = ids[: -len(toks)]
        return ids

    def _text(self, ids: list[int]) -> str:
        """vLLM's text of a round (an incomplete UTF-8 sequence at its end is held back)."""
        return decode(self.engine, ids).rstrip("\ufffd")

    def program(self, t: Trajectory, budget: int) -> Program:
        cfg = self.config
        ctx = list(t.prompt_ids)
        ids: list[int] = []
        owner: list[tuple[int, bool]] = []  # per id: (round, forced?)
        text = ""
        stops: list[str] = []
        finish = "stop"
        for i in range(self.rounds):
            res = yield GenerationRequest(
                context_ids=ctx,
                max_new_tokens=budget,
                stop_token_ids=self.think_stop_ids,
                sampling=cfg.sampling,
                seed=derive_seed(t.seed, i),
                min_new_tokens=min(self.min_tokens, budget),
                cache_key=t.key,
            )
            if res.stop_reason == "error":
                t.error = res.error or "engine error"
                return self._finish(t, budget, None, None, [Round("think", len(ids), "error")])
            cont = list(res.token_ids)
            if res.stop_reason == "stop_token" and res.stop_token is not None:
                cont.append(res.stop_token)  # vLLM keeps the stopping token in token_ids
            stops.append(self._stop_kind(res))
            piece = self._text(list(res.token_ids))
            if res.stop_reason == "length" or i == self.rounds - 1:
                ids += cont
                owner += [(i, False)] * len(cont)
                text += piece
                finish = "length" if res.stop_reason == "length" else "stop"
                break
            cont = self._strip(cont) + self.ignore_ids
            owner += [(i, False)] * (len(cont) - len(self.ignore_ids)) + [(i, True)] * len(self.ignore_ids)
            ids += cont
            text += piece + self.ignore_text
            ctx = ctx + cont
        was_cut = len(ids) > budget
        ids, owner = ids[:budget], owner[:budget]  # L381-L384
        kept = self._strip(ids)
        owner = owner[: len(kept)]
        if finish == "length":
            # L404: the uncut thinking text's last character, or the thinking start's first
            newline = text[-1:] == "\n" or self.ref.think_start[:1] == "\n"
            forced_ids = self.end_max_ids if newline else self.newline_ids + self.end_max_ids
            delimiter = ("" if newline else "\n") + self.ref.think_end + "\n"
            prefix = FORK_ANSWER_PREFIX
        else:
            forced_ids, delimiter, prefix = self.end_ids, self.ref.think_end, ""
        last = owner[-1][0] if owner else 0
        rounds = []
        extensions = 0
        for i in range(last + 1):
            gen = sum(1 for r, f in owner if r == i and not f)
            n_forced = sum(1 for r, f in owner if r == i and f)
            if i < last:
                rounds.append(Round("think", gen, stops[i], self.ignore_text, n_forced))
                extensions += 1
            else:
                stop = "budget" if finish == "length" or was_cut else stops[i]
                rounds.append(Round("think", gen, stop, delimiter + prefix, n_forced + len(forced_ids)))
        cut = ThinkingCut(
            context=t.prompt_ids + kept + forced_ids,
            think_end=len(t.prompt_ids) + len(kept),
            rounds=rounds,
            thinking_tokens=sum(r.generated for r in rounds),
            extensions=extensions,
            capped=finish == "length" or was_cut,
            delimiter=delimiter,
        )
        res = yield GenerationRequest(
            context_ids=cut.context,
            max_new_tokens=cfg.max_answer_tokens,
            stop_token_ids=self.answer_stop_ids,
            sampling=cfg.sampling,
            seed=derive_seed(t.seed, 10_000),
            cache_key=t.key,
        )
        extra = {"thinking_finish_reason": finish, "cut": was_cut}
        return self._finish(t, budget, cut, res, cut.rounds, prefix, extra)

    def _stop_kind(self, res: GenerationResult) -> str:
        if res.stop_reason == "length":
            return "length"
        if res.stop_token is not None and [res.stop_token] == self.until_ids[0]:
            return "delimiter"
        return "eos"

    def _finish(
        self,
        t: Trajectory,
        budget: int,
        cut: ThinkingCut | None,
        res: GenerationResult | None,
        rounds: list[Round],
        prefix: str = "",
        extra: dict | None = None,
    ) -> ControlResult:
        ledger = Ledger(method=self.method, budget=budget)
        for r in rounds:
            ledger.add_round(r)
        ledger.extra["strategy"] = self.config.strategy_name
        ledger.extra["compat"] = "reference"
        ledger.extra.update(extra or {})
        if cut is None or res is None:
            ledger.outcome = "engine_error"
            ledger.extra["error"] = t.error or "no answer phase"
            return ControlResult(prompt=t.prompt, thinking="", answer="", ledger=ledger, output="")
        ledger.extensions, ledger.capped = cut.extensions, cut.capped
        thinking = decode(self.engine, cut.context[len(t.prompt_ids) : cut.think_end])
        answer = record_answer(ledger, res, prefix, cut.capped)
        return ControlResult(
            prompt=t.prompt,
            thinking=thinking,
            answer=answer,
            ledger=ledger,
            output=thinking + (cut.delimiter if ledger.outcome != "engine_error" else "") + answer,
        )


# --------------------------------------------------------------------------- public entry points
Progress = Callable[[int], None]
Budget = int | str


def _budget_keys(budgets: Sequence[Budget]) -> list[Budget]:
    """Distinct budgets, the numbers largest first, then "auto"."""
    numbers: set[int] = set()
    auto = False
    for b in budgets:
        if isinstance(b, str) and b.strip().lower() == AUTO:
            auto = True
            continue
        try:
            value = int(b)
        except (TypeError, ValueError):
            raise ConfigError(f"budget {b!r} is not a number of thinking tokens or auto") from None
        require_positive("budget", value, "Budgets are thinking tokens, e.g. 512,1024,2048 (or auto).")
        numbers.add(value)
    keys: list[Budget] = sorted(numbers, reverse=True)
    if auto:
        keys.append(AUTO)
    if not keys:
        raise ConfigError(f"give at least one budget, e.g. {option('budgets', '512,1024,2048')}")
    return keys


def check_context(
    engine: Engine,
    fmt: ThinkingFormat,
    prompt_ids: Sequence[list[int]],
    budget: int,
    max_answer_tokens: int,
    answer_prefix: str | None = None,
    names: Sequence[str] | None = None,
    intervention: str | None = None,
) -> None:
    """Refuse a prompt whose thinking budget and answer limit do not fit the model's context, naming the numbers.

    A model run past its positions gives garbage (RoPE out of range) or a server error per sample; a number
    the user chose is never clamped behind their back. An engine that does not report its context length (a
    server) is not checked here: the server refuses such a request itself."""
    try:
        length = engine_context_length(engine)
    except ConfigError:
        return
    forced = forced_positions(engine, fmt, answer_prefix, intervention)
    for i, ids in enumerate(prompt_ids):
        need = len(ids) + budget + forced + max_answer_tokens
        if need > length:
            which = f"prompt {names[i]!r}" if names is not None else f"prompt {i}"
            if len(ids) + forced + 1 >= length:
                raise ConfigError(
                    f"{which} is {len(ids)} tokens, longer than the model's context ({length} positions) "
                    "leaves room for; shorten it or use a model with a longer context"
                )
            raise ConfigError(
                f"{which} does not fit the model's context: {len(ids)} prompt + {budget} thinking + {forced} "
                f"forced + {max_answer_tokens} answer tokens = {need} > {length} positions; lower the thinking "
                f"budget ({option('max_thinking_tokens')}, or the largest of {option('budgets')}) or "
                f"{option('max_answer_tokens')} (bf also takes {option('max_thinking_tokens', 'auto')}: what fits)"
            )


def forced_positions(
    engine: Engine, fmt: ThinkingFormat, answer_prefix: str | None, intervention: str | None = None
) -> int:
    """Positions the forced text takes beside the thinking: the cap's delimiter and answer prefix, and what an
    intervention adds (a hint, a longer cap, a probe's fork)."""
    prefix = fmt.answer_prefix if answer_prefix is None else answer_prefix
    forced = len(encode(engine, "\n" + fmt.think_end.lstrip("\n") + prefix))
    if intervention is not None:
        from s1eval.control.interventions import parse_intervention

        policy = parse_intervention(intervention)
        forced += policy.extra_positions(lambda text: encode(engine, text)) if policy is not None else 0
    return forced


def resolve_auto_budgets(
    engine: Engine, fmt: ThinkingFormat, prompt_ids: Sequence[list[int]], config: BudgetForcingConfig
) -> list[int]:
    """`max_thinking_tokens="auto"` (compat=s1eval), per prompt: the engine's context length minus the
    prompt, the cap's forced text and `max_answer_tokens`, so the thinking and a full answer fit."""
    length = engine_context_length(engine)
    forced = forced_positions(engine, fmt, config.answer_prefix, config.intervention)
    out = []
    for i, ids in enumerate(prompt_ids):
        budget = length - len(ids) - forced - config.max_answer_tokens
        if budget < 1:
            raise ConfigError(
                f"max_thinking_tokens=auto leaves no thinking for prompt {i}: context {length}, prompt "
                f"{len(ids)}, answer limit {config.max_answer_tokens}; lower max_answer_tokens"
            )
        out.append(budget)
    return out


def _trajectory(
    i: int, key: str, prompts: Sequence[str], prompt_ids: list[int], seeds: Sequence[int | None] | None
) -> Trajectory:
    """Prompt i's trajectory, cached by the engine under `key`."""
    return Trajectory(
        index=i, key=key, prompt=prompts[i], prompt_ids=prompt_ids, seed=None if seeds is None else seeds[i]
    )


def _with_setting(result: ControlResult, key: Budget) -> ControlResult:
    if key != AUTO:
        return result
    ledger = result.ledger.copy()
    ledger.extra["budget_setting"] = AUTO
    return replace(result, ledger=ledger)


def run_budget_sweep(
    engine: Engine,
    fmt: ThinkingFormat,
    prompts: Sequence[str],
    budgets: Sequence[Budget],
    config: BudgetForcingConfig,
    *,
    seeds: Sequence[int | None] | None = None,
    method: str = "bf",
    progress: Progress | None = None,
) -> dict[Budget, list[ControlResult]]:
    """Budget forcing at several budgets from one thinking trajectory per prompt (the anytime sweep).

    A budget may be "auto" (see `resolve_auto_budgets`; the ledger records the number it came to). With
    `compat="reference"` every budget is a separate run, as in the fork.
    """
    keys = _budget_keys(budgets)
    if seeds is not None and len(seeds) != len(prompts):
        raise ConfigError(f"got {len(seeds)} seeds for {len(prompts)} prompts; give one seed per prompt")
    if config.reference:
        return _run_reference(engine, fmt, prompts, keys, config, seeds, method, progress)
    prompt_ids = [encode(engine, p) for p in prompts]
    numbers = [k for k in keys if k != AUTO]
    if numbers:
        check_context(
            engine,
            fmt,
            prompt_ids,
            max(numbers),  # type: ignore[arg-type]
            config.max_answer_tokens,
            config.answer_prefix,
            intervention=config.intervention,
        )
    auto = resolve_auto_budgets(engine, fmt, prompt_ids, config) if AUTO in keys else None

    def resolved(i: int) -> dict[Budget, int]:
        return {k: (auto[i] if k == AUTO else k) for k in keys}  # type: ignore[index,misc]

    largest = max(max(resolved(i).values()) for i in range(len(prompts))) if prompts else 1
    ctl = ThinkingController(engine, fmt, config.with_budget(largest), method)
    out: dict[Budget, list[ControlResult]] = {k: [] for k in keys}
    namespace = run_key(method)
    # an intervention that places its decisions by the budget thinks once per budget, as separate runs would
    one_per_budget = ctl.intervention is not None and not ctl.intervention.sweepable
    for chunk in chunks(len(prompts), engine):
        jobs = [
            (i, group)
            for i in chunk
            for group in (
                [[b] for b in sorted(set(resolved(i).values()), reverse=True)]
                if one_per_budget
                else [sorted(set(resolved(i).values()), reverse=True)]
            )
        ]
        programs = [
            ctl.program(_trajectory(i, f"{namespace}-{i}-{group[0]}", prompts, prompt_ids[i], seeds), group)
            for i, group in jobs
        ]
        done: dict[int, dict[int, ControlResult]] = {}
        for (i, _), per_budget in zip(jobs, engine.drive(programs), strict=True):
            done.setdefault(i, {}).update(per_budget)
        for i in chunk:
            for k, b in resolved(i).items():
                out[k].append(_with_setting(done[i][b], k))
        if progress is not None:
            progress(len(chunk))
    engine.release()
    return out


def _run_reference(engine, fmt, prompts, keys, config, seeds, method, progress):
    """compat="reference": each budget a separate fork run over all prompts (auto over the longest)."""
    ctl = _ReferenceController(engine, fmt, config, method)
    prompt_ids = [ctl.context_ids(p) for p in prompts]
    numbers = {k: (ctl.auto_budget(prompt_ids) if k == AUTO else k) for k in keys} if prompts else {}
    out: dict[Budget, list[ControlResult]] = {k: [] for k in keys}
    namespace = run_key(method)
    for chunk in chunks(len(prompts), engine):
        for k, budget in numbers.items():
            programs = [
                ctl.program(
                    _trajectory(i, f"{namespace}-{k}-{i}", prompts, prompt_ids[i] + ctl.start_ids, seeds),
                    budget,
                )
                for i in chunk
            ]
            out[k].extend(_with_setting(r, k) for r in engine.drive(programs))
        if progress is not None:
            progress(len(chunk))
    engine.release()
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
