"""Repeated-sampling metrics (k samples per question) and accuracy beside outcome classes.

- avg@k: mean over questions of the mean correctness of their k samples.
- pass@k: the unbiased estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k) per question, averaged;
  it uses all n >= k samples rather than only the first k, which lowers the variance.
- maj@k: per question, the answer most of the first k samples agree on (equivalent answers vote together,
  clustered with `is_equivalent`; a tie goes to the answer seen first) is compared with the gold answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from s1eval.scoring.classes import OUTCOMES
from s1eval.scoring.equivalence import is_equivalent

ANSWERED_OUTCOMES: tuple[str, ...] = ("answered", "forced")
"""Outcomes where the model gave an answer in its answer phase (the denominator of accuracy_answered)."""


def avg_at_k(correct: Sequence[Sequence[bool]], k: int | None = None) -> float:
    """Mean accuracy over the first k samples of each question (all samples when k is None)."""
    if not correct:
        return 0.0
    per_question = []
    for samples in correct:
        chosen = list(samples)[:k] if k is not None else list(samples)
        if not chosen:
            raise ValueError("avg@k needs at least one sample per question")
        per_question.append(sum(bool(c) for c in chosen) / len(chosen))
    return sum(per_question) / len(per_question)


def pass_at_k_estimate(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one question with n samples of which c are correct (Chen et al., 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    # 1 - prod_{i=n-c+1}^{n} (1 - k / i): the numerically stable product form of 1 - C(n-c,k)/C(n,k)
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def pass_at_k(correct: Sequence[Sequence[bool]], k: int) -> float:
    """Mean unbiased pass@k over questions; each question's list holds its n >= k sample verdicts."""
    if not correct:
        return 0.0
    values = [pass_at_k_estimate(len(s), sum(bool(c) for c in s), k) for s in correct]
    return sum(values) / len(values)


def majority_answer(preds: Sequence[str | None], kind: str) -> str | None:
    """The answer most samples agree on; equivalent answers vote together, ties go to the first seen."""
    clusters: list[list[Any]] = []  # [representative, votes]
    for pred in preds:
        if pred is None or not str(pred).strip():
            continue
        for cluster in clusters:
            if cluster[0] == pred or is_equivalent(pred, cluster[0], kind):
                cluster[1] += 1
                break
        else:
            clusters.append([pred, 1])
    if not clusters:
        return None
    best = max(clusters, key=lambda cl: cl[1])  # max keeps the first of equal counts
    return best[0]


def maj_at_k(
    preds: Sequence[Sequence[str | None]], golds: Sequence[str], kind: str, k: int | None = None
) -> float:
    """Share of questions whose majority answer over the first k samples equals the gold answer."""
    if len(preds) != len(golds):
        raise ValueError(f"maj@k got {len(preds)} prediction lists for {len(golds)} gold answers")
    if not preds:
        return 0.0
    hits = 0
    for samples, gold in zip(preds, golds, strict=True):
        chosen = list(samples)[:k] if k is not None else list(samples)
        winner = majority_answer(chosen, kind)
        hits += winner is not None and is_equivalent(winner, gold, kind)
    return hits / len(preds)


def accuracy_summary(scored_samples: Iterable[Any]) -> dict[str, Any]:
    """Accuracy over all samples and over answered ones, with the count and share of each outcome class.

    Accepts ScoredSample objects or sample-record dicts (anything with `correct` and `outcome`).
    """
    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    n = correct = answered = answered_correct = 0
    for sample in scored_samples:
        is_correct, outcome = _fields(sample)
        if outcome not in counts:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
        n += 1
        counts[outcome] += 1
        correct += is_correct
        if outcome in ANSWERED_OUTCOMES:
            answered += 1
            answered_correct += is_correct
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "n_answered": answered,
        "accuracy_answered": answered_correct / answered if answered else 0.0,
        "outcomes": counts,
        "outcome_shares": {k: (v / n if n else 0.0) for k, v in counts.items()},
    }


def _fields(sample: Any) -> tuple[bool, str]:
    if isinstance(sample, Mapping):
        return bool(sample.get("correct", False)), str(sample.get("outcome", "answered"))
    return bool(sample.correct), str(sample.outcome)
