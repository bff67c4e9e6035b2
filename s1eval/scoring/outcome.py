"""Score one sample: extract, compare, and give it an outcome class beside right/wrong.

The control core's ledger says how generation ended (answered, forced, truncated, engine_error); scoring
refines that with what the text holds. Rules, in order:

1. `engine_error` stays `engine_error` (nothing is scored).
2. The answer phase is read first; when it yields nothing, the end of the thinking is read instead, for
   marked answers only (\\boxed, "Final Answer:", "the answer is"): stray math in the working is not one.
3. Nothing extracted -> `no_answer`, except that a `truncated` sample stays `truncated`.
4. A parser crash or timeout (in extraction or in math_verify) -> `extraction_failed`.
5. Otherwise the ledger outcome is kept and `correct` is the equivalence verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from s1eval.scoring.bounded import DEFAULT_TIMEOUT_S
from s1eval.scoring.classes import OUTCOMES
from s1eval.scoring.equivalence import check_equivalence
from s1eval.scoring.extract import check_kind, extract_answer

THINKING_TAIL_CHARS = 4000
"""How much of the end of the thinking is searched when the answer phase has no answer."""


@dataclass(frozen=True)
class ScoredSample:
    pred: str | None
    correct: bool
    outcome: str
    reason: str
    source: str = ""
    """Where `pred` came from: "answer", "thinking", or "" when nothing was extracted."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(ledger_outcome: str, pred: str | None, parse_error: str = "") -> str:
    """The outcome class from the ledger's outcome, the extracted answer and any parser failure."""
    if ledger_outcome not in OUTCOMES:
        raise ValueError(f"unknown ledger outcome {ledger_outcome!r}; expected one of {', '.join(OUTCOMES)}")
    if ledger_outcome == "engine_error":
        return "engine_error"
    if parse_error:
        return "extraction_failed"
    if pred is None:
        return "truncated" if ledger_outcome == "truncated" else "no_answer"
    return ledger_outcome


def score_sample(
    answer_text: str,
    thinking_text: str,
    gold: str,
    kind: str,
    ledger_outcome: str = "answered",
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ScoredSample:
    """Extract the answer from a sample's text, judge it against `gold`, and classify the outcome."""
    check_kind(kind)
    if ledger_outcome == "engine_error":
        classify(ledger_outcome, None)
        return ScoredSample(None, False, "engine_error", "the engine failed; the sample is not scored")
    pred, source, error = _extract(answer_text, thinking_text, kind)
    if error:
        return ScoredSample(None, False, classify(ledger_outcome, None, error), f"extraction {error}")
    if pred is None:
        outcome = classify(ledger_outcome, None)
        why = "answer cut at the token limit" if outcome == "truncated" else "no answer"
        return ScoredSample(None, False, outcome, f"{why}: nothing extracted from the answer or thinking")
    verdict = check_equivalence(pred, gold, kind, timeout_s=timeout_s)
    outcome = classify(ledger_outcome, pred, verdict.error)
    if verdict.error:
        return ScoredSample(pred, False, outcome, f"equivalence {verdict.error}", source)
    reason = f"{'matches' if verdict.equal else 'differs from'} the gold answer (from the {source} text)"
    return ScoredSample(pred, verdict.equal, outcome, reason, source)


def _extract(answer_text: str, thinking_text: str, kind: str) -> tuple[str | None, str, str]:
    try:
        pred = extract_answer(answer_text or "", kind)
        if pred is not None:
            return pred, "answer", ""
        pred = extract_answer((thinking_text or "")[-THINKING_TAIL_CHARS:], kind, explicit_only=True)
        return pred, ("thinking" if pred is not None else ""), ""
    except Exception as exc:  # regex/recursion trouble on odd text must not end a run
        return None, "", f"crash: {type(exc).__name__}: {str(exc)[:200]}"
