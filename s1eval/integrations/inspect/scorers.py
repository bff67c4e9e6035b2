"""Inspect scorers, metrics and epoch reducers over s1eval's scoring (extraction, equivalence, outcomes).

A score is CORRECT/INCORRECT with `answer` = the extracted prediction; its metadata holds the outcome class
(answered, forced, truncated, no_answer, extraction_failed, engine_error), the sample's ledger, its thinking
tokens, and for a budget sweep the verdict at every budget. Metrics: accuracy with stderr, mean thinking
tokens, the share of each outcome class, and accuracy per budget of a sweep. Reducers for epochs: avg@k (mean
correctness over the k epochs) and maj@k (the answer most epochs agree on, judged against the gold answer).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from inspect_ai.model import ContentReasoning
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Metric,
    SampleScore,
    Score,
    Scorer,
    ScoreReducer,
    Target,
    Value,
    accuracy,
    metric,
    score_reducer,
    scorer,
    stderr,
)
from inspect_ai.solver import TaskState

from s1eval.errors import ConfigError
from s1eval.integrations.inspect._names import namespaced, qualified
from s1eval.scoring import KINDS, is_equivalent, score_sample
from s1eval.scoring.classes import OUTCOMES
from s1eval.scoring.outcome import THINKING_TAIL_CHARS


# --------------------------------------------------------------------------- metrics
@metric(qualified("mean_thinking_tokens"), scores="unreduced")
def mean_thinking_tokens() -> Metric:
    """Mean thinking tokens per sample (every epoch counts; samples without a ledger are left out)."""

    def compute(scores: list[SampleScore]) -> Value:
        values = [
            float(s.score.metadata["thinking_tokens"])
            for s in scores
            if s.score.metadata and s.score.metadata.get("thinking_tokens") is not None
        ]
        return sum(values) / len(values) if values else 0.0

    return compute


@metric(qualified("outcome_shares"), scores="unreduced")
def outcome_shares() -> Metric:
    """The share of samples in each outcome class (every epoch counts), as share_<outcome>."""

    def compute(scores: list[SampleScore]) -> Value:
        counts = Counter(str((s.score.metadata or {}).get("outcome", "answered")) for s in scores)
        n = len(scores) or 1
        return {f"share_{o}": counts.get(o, 0) / n for o in OUTCOMES}

    return compute


@metric(qualified("budget_accuracy"), scores="unreduced")
def budget_accuracy() -> Metric:
    """Accuracy at each budget of a sweep (`budgets=`), as acc@<budget>; nothing without a sweep."""

    def compute(scores: list[SampleScore]) -> Value:
        hits: dict[str, list[bool]] = {}
        for s in scores:
            for budget, verdict in ((s.score.metadata or {}).get("per_budget") or {}).items():
                hits.setdefault(str(budget), []).append(bool(verdict.get("correct")))
        return {f"acc@{b}": sum(v) / len(v) for b, v in sorted(hits.items(), key=lambda kv: _sort_key(kv[0]))}

    return compute


def _sort_key(budget: str) -> tuple[int, Any]:
    try:
        return (0, int(budget))
    except ValueError:
        return (1, budget)


# --------------------------------------------------------------------------- scorers
def _score_state(state: TaskState, target: Target, kind: str | None) -> Score:
    kind = kind or state.metadata.get("kind")
    if kind not in KINDS:
        raise ConfigError(
            f"cannot score sample {state.sample_id}: answer kind {kind!r}; give kind= one of {KINDS}"
        )
    gold = target.text
    info = state.metadata.get("s1eval") or {}
    ledger = state.metadata.get("ledger")
    outcome = (ledger or {}).get("outcome", "answered")
    answer_text = info.get("answer", state.output.completion if info == {} else "")
    thinking_text = _reasoning(state)
    scored = score_sample(answer_text, thinking_text, gold, kind, outcome)
    metadata: dict[str, Any] = {
        "outcome": scored.outcome,
        "kind": kind,
        "gold": gold,
        "source": scored.source,
        "thinking_tokens": (ledger or {}).get("thinking_tokens"),
        "ledger": ledger,
    }
    results = info.get("results")
    if results:
        metadata["per_budget"] = {}
        for budget, res in results.items():
            sub = score_sample(
                res["answer"], res.get("thinking_tail", ""), gold, kind, res["ledger"]["outcome"]
            )
            metadata["per_budget"][budget] = {
                "correct": sub.correct,
                "pred": sub.pred,
                "outcome": sub.outcome,
                "thinking_tokens": res["ledger"].get("thinking_tokens"),
            }
    return Score(
        value=CORRECT if scored.correct else INCORRECT,
        answer=scored.pred,
        explanation=scored.reason,
        metadata=metadata,
    )


def _reasoning(state: TaskState) -> str:
    message = state.output.message if state.output and state.output.choices else None
    if message is None or isinstance(message.content, str):
        return ""
    parts = [c.reasoning for c in message.content if isinstance(c, ContentReasoning)]
    return "".join(parts)[-THINKING_TAIL_CHARS:]


_METRICS = [accuracy(), stderr(), mean_thinking_tokens(), outcome_shares(), budget_accuracy()]


@scorer(metrics=_METRICS, name=qualified("answer"))
def answer(kind: str | None = None) -> Scorer:
    """Score the s1eval answer of any benchmark; `kind` (math, aime, integer, gpqa) defaults to the sample's."""

    async def score(state: TaskState, target: Target) -> Score:
        return _score_state(state, target, kind)

    return score


@scorer(metrics=_METRICS, name=qualified("aime_answer"))
def aime_answer() -> Scorer:
    """AIME: the integer in the final answer (\\boxed{033} == 33)."""

    async def score(state: TaskState, target: Target) -> Score:
        return _score_state(state, target, "aime")

    return score


@scorer(metrics=_METRICS, name=qualified("math_answer"))
def math_answer() -> Scorer:
    """MATH500: the final answer compared with math_verify (equivalent expressions match)."""

    async def score(state: TaskState, target: Target) -> Score:
        return _score_state(state, target, "math")

    return score


@scorer(metrics=_METRICS, name=qualified("gpqa_answer"))
def gpqa_answer() -> Scorer:
    """GPQA-Diamond: the chosen letter (A-D) against the shuffled position of the right answer."""

    async def score(state: TaskState, target: Target) -> Score:
        return _score_state(state, target, "gpqa")

    return score


# --------------------------------------------------------------------------- epoch reducers
def _usable(scores: list[Score]) -> list[Score]:
    return [s for s in scores if not (isinstance(s.value, float) and s.value != s.value)]


def _reduced_metadata(scores: list[Score], **extra: Any) -> dict[str, Any]:
    """What the epochs had in common, their mean thinking tokens, and each epoch's outcome and answer."""
    first = dict(scores[0].metadata or {}) if scores else {}
    tokens = [
        s.metadata["thinking_tokens"]
        for s in scores
        if s.metadata and s.metadata.get("thinking_tokens") is not None
    ]
    return {
        "kind": first.get("kind"),
        "gold": first.get("gold"),
        "thinking_tokens": sum(tokens) / len(tokens) if tokens else None,
        "outcome": Counter((s.metadata or {}).get("outcome", "answered") for s in scores).most_common(1)[0][0]
        if scores
        else "no_answer",
        "epochs": [
            {"answer": s.answer, "correct": s.value == CORRECT, "outcome": (s.metadata or {}).get("outcome")}
            for s in scores
        ],
        **extra,
    }


@score_reducer(name=namespaced("avg_at_k"))
def avg_at_k() -> ScoreReducer:
    """avg@k: the mean correctness of a sample's k epochs."""

    def reduce(scores: list[Score]) -> Score:
        usable = _usable(scores)
        if not usable:
            return Score(value=float("nan"))
        value = sum(1.0 if s.value == CORRECT else 0.0 for s in usable) / len(usable)
        return Score(value=value, metadata=_reduced_metadata(usable))

    return reduce


@score_reducer(name=namespaced("maj_at_k"))
def maj_at_k() -> ScoreReducer:
    """maj@k: the answer most epochs agree on (equivalent answers vote together), judged against the gold."""
    from s1eval.metrics.repeated import majority_answer

    def reduce(scores: list[Score]) -> Score:
        usable = _usable(scores)
        if not usable:
            return Score(value=float("nan"))
        meta = usable[0].metadata or {}
        kind, gold = meta.get("kind"), meta.get("gold")
        if kind not in KINDS or gold is None:
            raise ConfigError(
                "maj_at_k needs scores from an s1eval scorer (kind and gold in the score metadata)"
            )
        winner = majority_answer([s.answer for s in usable], kind)
        correct = winner is not None and is_equivalent(winner, gold, kind)
        return Score(
            value=1.0 if correct else 0.0,
            answer=winner,
            metadata=_reduced_metadata(usable, votes=[s.answer for s in usable]),
        )

    return reduce
