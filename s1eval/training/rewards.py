"""The GRPO recipe's reward functions, in TRL's form: `f(prompts, completions, **columns) -> list[float]`.

The columns they read come from the rollout function (`s1eval.training.grpo`): `s1_answer` and `s1_thinking`
(the method's answer and thinking text), `gold`, `kind` and `ledger` (the sample's ledger as a dict).

- `correctness` is the scorer's verdict and nothing else: 1.0 when `s1eval.scoring.score_sample` calls the
  sample correct, 0.0 otherwise (a wrong answer, no answer, a truncated one, an engine error alike), so the
  reward is exactly the accuracy an evaluation would count.
- `budget_adherence` is L1-style (Aggarwal & Welleck 2025, "L1: Controlling How Long a Reasoning Model Thinks
  With Reinforcement Learning"), normalised: ``-weight * |thinking_tokens - target| / target``, with the
  thinking tokens the model generated (the ledger's count; forced text excluded). L1-Exact is
  ``-alpha * |n_gold - n_y|`` per token of the whole output with the target stated in the prompt; here the
  target is the budget (or `adherence_target`), normalised so one weight suits any budget, and the prompt is
  the method's (TCC states the budget, BF does not: under a BF cap with the default target the term only
  rewards thinking up to the cap). It is its own reward function, so TRL logs it apart from correctness
  (`rewards/budget_adherence/mean`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from s1eval.scoring import ScoredSample, extract_answer, score_sample


def gold_answer(text: Any, kind: str) -> str:
    """The gold answer of a data row: the marked answer (``\\boxed{..}``, "Final Answer: x") when the column
    holds a worked solution, else the column's text."""
    raw = str(text).strip()
    marked = extract_answer(raw, kind, explicit_only=True)
    return marked if marked is not None else raw


def score_rollouts(
    s1_answer: Sequence[str],
    s1_thinking: Sequence[str],
    gold: Sequence[str],
    kind: Sequence[str],
    ledger: Sequence[dict[str, Any]],
) -> list[ScoredSample]:
    """The scorer's judgement of each rollout, with the ledger's outcome (forced, truncated, engine_error)."""
    return [
        score_sample(answer, thinking, g, k, led.get("outcome", "answered"))
        for answer, thinking, g, k, led in zip(s1_answer, s1_thinking, gold, kind, ledger, strict=True)
    ]


def correctness(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    *,
    s1_answer: Sequence[str],
    s1_thinking: Sequence[str],
    gold: Sequence[str],
    kind: Sequence[str],
    ledger: Sequence[dict[str, Any]],
    on_scored: Callable[[list[ScoredSample]], None] | None = None,
    **_: Any,
) -> list[float]:
    """1.0 where the scorer calls the rollout correct, else 0.0; `on_scored` sees the full verdicts (the log)."""
    scored = score_rollouts(s1_answer, s1_thinking, gold, kind, ledger)
    if on_scored is not None:
        on_scored(scored)
    return [1.0 if s.correct else 0.0 for s in scored]


def adherence_penalty(thinking_tokens: int, target: int, weight: float) -> float:
    """The L1-style penalty for thinking `thinking_tokens` when `target` was asked: 0 on target, linear either
    side, normalised by the target."""
    penalty = weight * abs(thinking_tokens - target) / target
    return -penalty if penalty else 0.0


def budget_adherence(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    *,
    ledger: Sequence[dict[str, Any]],
    weight: float,
    target: int | None = None,
    **_: Any,
) -> list[float]:
    """The L1-style length reward per rollout; `target` defaults to each ledger's own budget."""
    out = []
    for led in ledger:
        goal = target if target is not None else int(led["budget"])
        out.append(adherence_penalty(int(led["thinking_tokens"]), goal, weight))
    return out


__all__ = [
    "adherence_penalty",
    "budget_adherence",
    "correctness",
    "gold_answer",
    "score_rollouts",
]
