"""`!function` hooks of s1eval's lm-eval tasks: shipped data offline, s1 prompting, s1eval's scoring.

Loaders: lm-eval calls `custom_dataset` with the run's metadata (model args included) and the task's
`dataset_kwargs`, so every loader takes **kwargs and reads only its own keys.
Scoring: the model's response carries the answer phase, the thinking and the ledger (S1Response); a plain
string (a non-s1 model such as --model hf) is scored as an answer with no thinking and no ledger.
"""

from __future__ import annotations

import math
from typing import Any

from s1eval.integrations.lm_eval.response import LEDGER_KEY, in_budget_share  # noqa: F401  (YAML uses it)
from s1eval.scoring.classes import OUTCOMES

SOURCE = "s1eval"


def _rows(name: str, **load_kwargs: Any) -> dict[str, Any]:
    import datasets

    from s1eval.data import format_question, load_benchmark

    problems = load_benchmark(name, **load_kwargs)
    rows = [
        {
            "id": p.id,
            "question": format_question(p),
            "answer": p.answer,
            "kind": p.kind,
            "source": f"{SOURCE}:{name}",
        }
        for p in problems
    ]
    return {"test": datasets.Dataset.from_list(rows)}


def load_aime24(**kwargs: Any) -> dict[str, Any]:
    """AIME 2024 (30 problems) from tasks/data/aime24.jsonl; `aime24_path` (--metadata) loads your own copy."""
    return _rows("aime24", path=kwargs.get("aime24_path"))


def load_math500(**kwargs: Any) -> dict[str, Any]:
    """MATH500 from tasks/data/math500.jsonl; `math500_path` (--metadata) loads your own copy."""
    return _rows("math500", path=kwargs.get("math500_path"))


def load_gpqa_diamond(**kwargs: Any) -> dict[str, Any]:
    """GPQA-Diamond from your copy of the official CSV: `gpqa_path` (--metadata) or $S1EVAL_GPQA_PATH.

    Never shipped (its authors ask that it stay unpublished). The choice shuffle is seeded by `gpqa_seed`
    (default 0) per question id.
    """
    seed = int(kwargs.get("gpqa_seed", 0) or 0)
    return _rows("gpqa_diamond", path=kwargs.get("gpqa_path"), seed=seed)


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """exact_match, thinking tokens, the outcome class (one share per class) and the ledger itself."""
    from s1eval.scoring import score_sample

    response = results[0]
    ledger = getattr(response, "ledger", None)
    answer = getattr(response, "answer", str(response))
    thinking = getattr(response, "thinking", "")
    scored = score_sample(
        answer, thinking, str(doc["answer"]), doc["kind"], (ledger or {}).get("outcome", "answered")
    )
    metrics: dict[str, Any] = {
        "exact_match": int(scored.correct),
        "thinking_tokens": ledger["thinking_tokens"] if ledger else math.nan,
    }
    metrics.update({f"outcome_{o}": int(scored.outcome == o) for o in OUTCOMES})
    metrics[LEDGER_KEY] = ledger
    return metrics
