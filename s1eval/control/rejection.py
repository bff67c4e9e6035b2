"""Rejection sampling (`rs`): sample until the thinking fits the budget, and say what that cost.

The paper's baseline for length control without touching the decoding: draw samples (temperature 1.0 by
default) until one thinks for at most `budget` tokens, up to `max_tries`. Every try has its own seed, and the
ledger records the tries, every try's thinking length and the total tokens generated over all of them.

Only the accepted try is answered. When the tries run out the sample says so (`accepted: false`) and is,
by `fallback`: "shortest" - the shortest try that ended its thinking on its own, answered as it is (over
budget: the ledger says so); or "cap" - the shortest try cut at the budget and forced to answer, as BF would.
With `early_reject`, a try is abandoned as soon as its thinking passes the budget, which is cheaper and
changes nothing about which try is accepted (all its tries then end at the cap, so the fallback is "cap").

Each try is a new sequence (its own cache key): a caching backend frees a rejected try instead of keeping
its tokens as holes behind the next one, at the price of encoding the prompt again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from s1eval.control.base import (
    ControlResult,
    chunks,
    derive_seed,
    encode,
    run_key,
)
from s1eval.control.budget_forcing import ThinkingController, Trajectory, budget_forcing_config
from s1eval.control.conditional import report_questions
from s1eval.control.methods import RegisteredMethod, register_method
from s1eval.control.seeds import sample_seed
from s1eval.engines.base import Engine, SamplingParams
from s1eval.engines.programs import Program
from s1eval.errors import ConfigError, option, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt

Progress = Callable[[int], None]
Fallback = Literal["shortest", "cap"]


@dataclass(frozen=True)
class RejectionSamplingConfig:
    """Settings of `rs`; `max_thinking_tokens` is the budget when no budgets are given."""

    max_thinking_tokens: int = 4000
    max_tries: int = 8
    max_tokens: int = 32768
    """Thinking limit of one try (a try that reaches it is rejected)."""
    early_reject: bool = False
    """Stop a try once its thinking passes the budget (cheaper; the fallback is then always 'cap')."""
    fallback: str = "shortest"
    """When every try is over budget: 'shortest' (answer the shortest finished try) or 'cap' (BF-cap it)."""
    seed: int = 0
    """Base seed when the caller gives no per-question seeds (each try derives its own)."""
    max_answer_tokens: int = 1024
    answer_prefix: str | None = None
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(temperature=1.0))

    def __post_init__(self) -> None:
        require_positive("max_thinking_tokens", self.max_thinking_tokens, "Give a budget such as 4000.")
        require_positive("max_tries", self.max_tries, "Give how many samples to draw at most, e.g. 8.")
        require_positive("max_tokens", self.max_tokens, "Give a thinking limit per try such as 32768.")
        if self.fallback not in ("shortest", "cap"):
            raise ConfigError(f"fallback must be 'shortest' or 'cap', got {self.fallback!r}")
        if self.sampling.greedy and self.max_tries > 1:
            raise ConfigError(
                "rejection sampling with temperature 0 draws the same sample every try; set temperature=1.0"
            )
        budget_forcing_config(self, 1)


def rejection_program(
    ctl: ThinkingController,
    prompt: str,
    prompt_ids: list[int],
    key: str,
    seed: int | None,
    budget: int,
    config: Any,
) -> Program:
    """One question's rejection sampling as a `drive` program; returns its ControlResult."""
    cap = budget + 1 if config.early_reject else max(config.max_tokens, budget + 1)
    tries: list[Trajectory] = []
    for k in range(config.max_tries):
        t = Trajectory(
            index=k, key=f"{key}-{k}", prompt=prompt, prompt_ids=prompt_ids, seed=derive_seed(seed, k)
        )
        tries.append(t)
        round_no = 0
        while True:
            res = yield ctl._think_request(t, cap, round_no)
            round_no += 1
            if not ctl._after_think(t, res, cap):
                break
        if t.error is not None:
            return (yield from _answer(ctl, t, tries, budget, cap, accepted=False))
        if t.rounds[-1].stop != "budget" and t.generated <= budget:
            return (yield from _answer(ctl, t, tries, budget, cap, accepted=True))
    finished = [t for t in tries if t.rounds[-1].stop != "budget"]
    if config.fallback == "shortest" and finished:
        chosen = min(finished, key=lambda t: t.generated)
        return (yield from _answer(ctl, chosen, tries, budget, cap, accepted=False))
    chosen = min(tries, key=lambda t: t.generated)
    return (yield from _answer(ctl, chosen, tries, budget, budget, accepted=False))


def _answer(
    ctl: ThinkingController,
    t: Trajectory,
    tries: list[Trajectory],
    budget: int,
    cut_at: int,
    *,
    accepted: bool,
) -> Program:
    cut = ctl.cut(t, cut_at)
    res = None
    if cut.error is None:
        res = yield ctl.answer_request(t, cut)
    result = ctl.finish(t, cut, res, budget)
    ledger = result.ledger
    thinking_all = sum(x.generated for x in tries)
    ledger.extra.pop("strategy", None)
    ledger.extra.update(
        {
            "tries": len(tries),
            "accepted": accepted,
            "try_thinking_tokens": [x.generated for x in tries],
            "total_tokens": thinking_all + ledger.answer_tokens,
            "chosen_try": tries.index(t),
        }
    )
    if not accepted and t.error is None:
        ledger.extra["fallback"] = "cap" if cut.capped else "shortest"
    return result


def run_rejection_sampling(
    engine: Engine,
    fmt: ThinkingFormat,
    questions: Sequence[str],
    budgets: Sequence[int],
    config: RejectionSamplingConfig,
    *,
    seeds: Sequence[int | None] | None = None,
    system: str | None = None,
    method: str = "rs",
    progress: Progress | None = None,
) -> dict[int, list[ControlResult]]:
    """Rejection sampling at every budget; {budget: one result per question}. Budgets run independently."""
    budgets = list(dict.fromkeys(int(b) for b in budgets))
    if not budgets:
        raise ConfigError(f"rs needs at least one budget, e.g. {option('budgets', '512,1024,2048')}")
    for b in budgets:
        require_positive("budget", b, "Budgets are thinking tokens, e.g. 512,1024,2048.")
    if seeds is not None and len(seeds) != len(questions):
        raise ConfigError(
            f"got {len(seeds)} seeds for {len(questions)} questions; give one seed per question"
        )
    # no seeds given: each question's own text is its id, so its samples do not depend on its position
    base = [sample_seed(config.seed, q) for q in questions] if seeds is None else list(seeds)
    prompts = [build_prompt(engine.tokenizer, fmt, q, system) for q in questions]
    prompt_ids = [encode(engine, p) for p in prompts]
    cap = max(config.max_tokens, max(budgets) + 1)
    ctl = ThinkingController(engine, fmt, budget_forcing_config(config, cap, num_extensions=0), method)
    jobs = [(b, i) for i in range(len(questions)) for b in budgets]  # question-major, for progress
    namespace = run_key(method)
    out: dict[int, list[ControlResult]] = {b: [] for b in budgets}
    reported = 0
    for chunk in chunks(len(jobs), engine):
        programs = [
            rejection_program(
                ctl,
                prompts[jobs[k][1]],
                prompt_ids[jobs[k][1]],
                f"{namespace}-{k}",
                base[jobs[k][1]],
                jobs[k][0],
                config,
            )
            for k in chunk
        ]
        for k, result in zip(chunk, engine.drive(programs), strict=True):
            out[jobs[k][0]].append(result)
        reported = report_questions(progress, chunk.stop // len(budgets), reported)
    engine.release()
    return out


@dataclass(frozen=True)
class RejectionSamplingMethod(RegisteredMethod):
    """`rs` in the method registry."""

    name: str = "rs"
    config_class: type = RejectionSamplingConfig

    def execute(self, engine, fmt, questions, budgets, config, **options):
        return run_rejection_sampling(engine, fmt, questions, budgets, config, method=self.name, **options)


RS = register_method(
    RejectionSamplingMethod(),
    display="RS",
    summary="rejection sampling: sample (seeded tries) until the thinking fits the budget",
    lm_eval_class="S1RejectionSamplingLM",
    inspect_solver="rejection_sampling",
)
