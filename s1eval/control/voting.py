"""Parallel scaling (`vote`): N independent seeded samples per question and a majority vote over their answers.

Each sample is a budget-forcing sample (capped at `max_thinking_tokens`, or uncapped up to `max_tokens`) with
its own seed, so sample j of a question is the same whatever N is: maj@n for every n <= N comes from the
first n samples of one run, and equals what a separate run with N = n would give.

Votes: answers are extracted per the answer `kind` (s1eval.scoring), equivalent answers vote together, the
most votes win, and ties go to the answer seen first (deterministic). A `weighting` names a per-sample score
to weigh the votes by (`register_sample_score` adds one, e.g. a verifier's). The result for n carries the
text of the first sample that voted for the winner, so scoring it scores the vote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from s1eval.control.base import ControlResult, chunks, derive_seed, encode, run_key
from s1eval.control.budget_forcing import (
    ForcingSettings,
    ThinkingController,
    Trajectory,
    budget_forcing_config,
)
from s1eval.control.conditional import DEFAULT_MAX_TOKENS, report_questions
from s1eval.control.ledger import Ledger
from s1eval.control.methods import RegisteredMethod, register_method
from s1eval.control.seeds import sample_seed
from s1eval.engines.base import Engine, SamplingParams
from s1eval.errors import ConfigError, option, require_positive
from s1eval.formats.base import ThinkingFormat
from s1eval.formats.prompting import build_prompt

Progress = Callable[[int], None]
SampleScore = Callable[[ControlResult], float]
THINKING_TAIL_CHARS = 4000
"""As in scoring: when the answer phase has no answer, the end of the thinking is read."""

_SAMPLE_SCORES: dict[str, SampleScore] = {
    "none": lambda r: 1.0,
    "inverse_length": lambda r: 1.0 / (1.0 + r.ledger.thinking_tokens / 1000.0),
    "extra": lambda r: float(r.extra.get("score", 1.0)),
}


def register_sample_score(name: str, score: SampleScore) -> None:
    """Add a per-sample score for weighted votes (e.g. a reward model's), selectable as weighting=name."""
    _SAMPLE_SCORES[name.strip().lower()] = score


def sample_score(name: str) -> SampleScore:
    key = name.strip().lower()
    if key not in _SAMPLE_SCORES:
        raise ConfigError(f"unknown vote weighting {name!r}; use one of: {', '.join(sorted(_SAMPLE_SCORES))}")
    return _SAMPLE_SCORES[key]


@dataclass(frozen=True)
class VoteConfig(ForcingSettings):
    """Settings of `vote`: N samples (the default x-axis is n = 1..N), each a BF sample."""

    n: int = 16
    max_thinking_tokens: int | None = None
    """Per-sample BF cap; None leaves samples uncapped (up to `max_tokens`)."""
    max_tokens: int = DEFAULT_MAX_TOKENS
    kind: str = "math"
    """How answers are extracted and compared: math, aime, integer, gpqa."""
    weighting: str = "none"
    """Per-sample vote weight: none, inverse_length, extra (result.extra['score']), or a registered score."""
    seed: int = 0
    """Base seed when the caller gives no per-question seeds (each sample derives its own)."""
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(temperature=1.0))

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("n", self.n, "Give the number of samples to vote over, e.g. 16.")
        require_positive("max_thinking_tokens", self.max_thinking_tokens, "Or leave it unset for no cap.")
        require_positive("max_tokens", self.max_tokens, "Give a thinking limit such as 32768.")
        from s1eval.scoring.extract import check_kind

        check_kind(self.kind)
        sample_score(self.weighting)

    @property
    def cap(self) -> int:
        return self.max_thinking_tokens if self.max_thinking_tokens is not None else self.max_tokens


# --------------------------------------------------------------------------- the vote
@dataclass(frozen=True)
class Vote:
    """The vote over some samples: the winning answer, who voted for what."""

    winner: str | None
    winner_index: int | None
    """Index of the first sample that voted for the winner."""
    votes: float
    counts: dict[str, float]
    """Votes per distinct answer (the first spelling seen), in order of first appearance."""


def vote_prefixes(
    answers: Sequence[str | None], kind: str, weights: Sequence[float] | None = None
) -> list[Vote]:
    """The vote over the first n answers, for every n = 1..len(answers), in one pass (equivalent answers merge)."""
    from s1eval.scoring.equivalence import is_equivalent

    if weights is not None and len(weights) != len(answers):
        raise ValueError(f"got {len(weights)} weights for {len(answers)} answers")
    reps: list[str] = []
    first: list[int] = []
    counts: list[float] = []
    out: list[Vote] = []
    for i, answer in enumerate(answers):
        if answer is not None and str(answer).strip():
            w = 1.0 if weights is None else float(weights[i])
            for c, rep in enumerate(reps):
                if rep == answer or is_equivalent(answer, rep, kind):
                    counts[c] += w
                    break
            else:
                reps.append(answer)
                first.append(i)
                counts.append(w)
        if reps:
            best = max(range(len(reps)), key=lambda c: (counts[c], -first[c]))
            out.append(Vote(reps[best], first[best], counts[best], dict(zip(reps, counts, strict=True))))
        else:
            out.append(Vote(None, None, 0.0, {}))
    return out


def majority_vote(answers: Sequence[str | None], kind: str, weights: Sequence[float] | None = None) -> Vote:
    """The vote over all answers."""
    if not answers:
        return Vote(None, None, 0.0, {})
    return vote_prefixes(answers, kind, weights)[-1]


def extract_sample_answer(result: ControlResult, kind: str) -> str | None:
    """A sample's answer as scoring reads it: the answer phase, else the end of the thinking."""
    from s1eval.scoring.extract import extract_answer

    if result.ledger.outcome == "engine_error":
        return None
    try:
        found = extract_answer(result.answer or "", kind)
        if found is None:
            found = extract_answer((result.thinking or "")[-THINKING_TAIL_CHARS:], kind)
    except Exception:  # odd model text must not end a run; scoring reports such a sample itself
        return None
    return found


def vote_results(
    samples: Sequence[ControlResult], ns: Sequence[int], config: VoteConfig
) -> dict[int, ControlResult]:
    """One question's samples -> the voted result at each n (from the first n samples)."""
    answers = [extract_sample_answer(s, config.kind) for s in samples]
    score = sample_score(config.weighting)
    weights = None if config.weighting == "none" else [score(s) for s in samples]
    votes = vote_prefixes(answers, config.kind, weights)
    out: dict[int, ControlResult] = {}
    for n in ns:
        head, vote = samples[:n], votes[n - 1]
        rep = _representative(head, vote)
        ledger = Ledger(
            method="vote",
            budget=n,
            thinking_tokens=sum(s.ledger.thinking_tokens for s in head),
            answer_tokens=sum(s.ledger.answer_tokens for s in head),
            extensions=sum(s.ledger.extensions for s in head),
            capped=rep.ledger.capped,
            outcome=rep.ledger.outcome,
            forced_tokens=sum(s.ledger.forced_tokens for s in head),
        )
        ledger.extra.update(
            {
                "n": n,
                "votes": vote.votes,
                "vote_counts": vote.counts,
                "answers": answers[:n],
                "winner": vote.winner,
                "winner_sample": vote.winner_index,
                "sample_budget": config.max_thinking_tokens,
                "sample_thinking_tokens": [s.ledger.thinking_tokens for s in head],
                "sample_outcomes": [s.ledger.outcome for s in head],
                "kind": config.kind,
                "weighting": config.weighting,
            }
        )
        if weights is not None:
            ledger.extra["weights"] = weights[:n]
        out[n] = ControlResult(
            prompt=rep.prompt,
            thinking=rep.thinking,
            answer=rep.answer,
            ledger=ledger,
            output=rep.output,
            extra={"samples": list(head)},
        )
    return out


def _representative(head: Sequence[ControlResult], vote: Vote) -> ControlResult:
    if vote.winner_index is not None:
        return head[vote.winner_index]
    for s in head:  # no answer anywhere: the first sample that did not fail, so scoring says no_answer
        if s.ledger.outcome != "engine_error":
            return s
    return head[0]


# --------------------------------------------------------------------------- running
def run_vote(
    engine: Engine,
    fmt: ThinkingFormat,
    questions: Sequence[str],
    ns: Sequence[int],
    config: VoteConfig,
    *,
    seeds: Sequence[int | None] | None = None,
    system: str | None = None,
    method: str = "vote",
    progress: Progress | None = None,
) -> dict[int, list[ControlResult]]:
    """Draw max(ns) samples per question once; {n: the maj@n result per question} for every n in `ns`."""
    ns = sorted({_as_n(n) for n in ns})
    if not ns:
        raise ConfigError(f"vote needs at least one sample count, e.g. {option('budgets', '1,2,4,8,16')}")
    if seeds is not None and len(seeds) != len(questions):
        raise ConfigError(
            f"got {len(seeds)} seeds for {len(questions)} questions; give one seed per question"
        )
    big_n = ns[-1]
    if config.sampling.greedy and big_n > 1:
        raise ConfigError("voting over greedy samples votes N copies of one answer; set temperature=1.0")
    # no seeds given: each question's own text is its id, so its samples do not depend on its position
    base = [sample_seed(config.seed, q) for q in questions] if seeds is None else list(seeds)
    prompts = [build_prompt(engine.tokenizer, fmt, q, system) for q in questions]
    prompt_ids = [encode(engine, p) for p in prompts]
    cap = config.cap
    ctl = ThinkingController(engine, fmt, budget_forcing_config(config, cap), method)
    jobs = [(i, j) for i in range(len(questions)) for j in range(big_n)]
    namespace = run_key(method)
    samples: list[list[ControlResult]] = [[] for _ in questions]
    reported = 0
    for chunk in chunks(len(jobs), engine):
        programs = []
        for k in chunk:
            i, j = jobs[k]
            traj = Trajectory(
                index=k,
                key=f"{namespace}-{k}",
                prompt=prompts[i],
                prompt_ids=prompt_ids[i],
                seed=derive_seed(base[i], j),
            )
            programs.append(ctl.program(traj, [cap]))
        for k, per_cap in zip(chunk, engine.drive(programs), strict=True):
            result = per_cap[cap]
            result.ledger.extra["sample"] = jobs[k][1]
            samples[jobs[k][0]].append(result)
        reported = report_questions(progress, chunk.stop // big_n, reported)
    engine.release()
    out: dict[int, list[ControlResult]] = {n: [] for n in ns}
    for per_question in samples:
        voted = vote_results(per_question, ns, config)
        for n in ns:
            out[n].append(voted[n])
    return out


def _as_n(n: Any) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ConfigError(
            f"vote's x-axis is the number of samples; {n!r} is not one (use e.g. 1,2,4,8,16)"
        ) from None
    require_positive("number of samples", value, "Give sample counts such as 1,2,4,8,16.")
    return value


@dataclass(frozen=True)
class VoteMethod(RegisteredMethod):
    """`vote` in the method registry: budgets are the sample counts n (maj@n), all from one set of samples."""

    name: str = "vote"
    config_class: type = VoteConfig
    x_unit: ClassVar[str] = "samples"

    def default_budgets(self, config: VoteConfig) -> list[int]:
        return list(range(1, config.n + 1))

    def execute(self, engine, fmt, questions, budgets, config, **options):
        return run_vote(engine, fmt, questions, budgets, config, method=self.name, **options)


VOTE = register_method(
    VoteMethod(),
    display="Vote",
    summary="parallel scaling: N seeded samples and a majority vote over equivalent answers",
    lm_eval_class="S1MajorityVoteLM",
    inspect_solver="majority_vote",
)
