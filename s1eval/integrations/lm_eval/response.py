"""What an s1 model hands back to lm-eval: the text to score, carrying the sample's ledger along.

lm-eval passes the returned strings through its filters into `process_results`. A `str` subclass keeps the
answer, the thinking and the ledger attached on that path (s1eval's own tasks score with them), and pickles
with its attributes (lm-eval's `--use_cache` stores responses in SQLite). Filters that build new strings
(regex) drop the attributes, so the model also records every ledger in `LEDGERS`, keyed by task and document,
where the stock-task hook (`patches.py`) finds it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

LEDGER_KEY = "s1_ledger"
"""The per-sample key the ledger gets in lm-eval's `--log_samples` rows (and its metric name)."""


class S1Response(str):
    """The text lm-eval scores, with `answer`, `thinking`, `output` and `ledger` attached."""

    answer: str
    thinking: str
    output: str
    ledger: dict[str, Any] | None

    def __new__(
        cls,
        text: str = "",
        *,
        answer: str | None = None,
        thinking: str = "",
        output: str | None = None,
        ledger: dict[str, Any] | None = None,
    ) -> S1Response:
        obj = super().__new__(cls, text)
        obj.answer = text if answer is None else answer
        obj.thinking = thinking
        obj.output = text if output is None else output
        obj.ledger = ledger
        return obj


def doc_key(task_name: str | None, doc: Any) -> str:
    """A stable key for one document of one task (the same dict content gives the same key)."""
    blob = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return f"{task_name}:{hashlib.sha256(blob.encode('utf-8')).hexdigest()}"


class LedgerStore:
    """Ledgers of generated samples by (task, document), for tasks whose filters drop the attributes."""

    def __init__(self) -> None:
        self._items: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def add(self, task_name: str | None, doc: Any, ledger: dict[str, Any]) -> None:
        with self._lock:
            self._items.setdefault(doc_key(task_name, doc), []).append(ledger)

    def pop(self, task_name: str | None, doc: Any) -> list[dict[str, Any]]:
        if not self._items:
            return []
        with self._lock:
            return self._items.pop(doc_key(task_name, doc), [])

    def __len__(self) -> int:
        return len(self._items)


LEDGERS = LedgerStore()


def in_budget_share(ledgers: list[Any]) -> float:
    """Aggregation of the `s1_ledger` metric: the share of samples whose thinking stayed within its budget.

    lm-eval aggregates every per-sample metric to a number; the ledger dicts themselves stay in the samples
    log. What is compared depends on what the ledger's budget is:

    - a number of thinking tokens (bf, tcc, scc, rs and their variants): the sample's `thinking_tokens`
      against its `budget`; a sample without a budget (an uncapped method) counts as within it;
    - a ledger over several model samples (`vote`, whose budget is n, the number of samples): each sample's
      thinking (`sample_thinking_tokens`) against the per-sample cap (`sample_budget`), each sample counted
      once; with no per-sample cap there is no token budget, and the ledger is left out;
    - anything else, such as a class (`ccc`'s "short" / "long"): no token budget, so no "within budget"
      share; the ledger is left out.

    Rows without a ledger are skipped. NaN when no ledger has a token budget to compare with.
    """
    flat: list[dict[str, Any]] = []
    for item in ledgers:
        if isinstance(item, dict):
            flat.append(item)
        elif isinstance(item, list):
            flat.extend(x for x in item if isinstance(x, dict))
    inside = total = 0
    for ledger in flat:
        for thinking, budget in _thinking_and_budgets(ledger):
            total += 1
            inside += budget is None or thinking <= budget
    return inside / total if total else float("nan")


def _thinking_and_budgets(ledger: dict[str, Any]) -> list[tuple[float, float | None]]:
    """(thinking tokens, token budget or None) of each model sample a ledger covers; [] when it has no
    budget in tokens to compare with."""
    per_sample = ledger.get("sample_thinking_tokens")
    if isinstance(per_sample, list):  # several samples (vote): the budget is a count of samples, not tokens
        cap = _tokens(ledger.get("sample_budget"))
        if cap is None:
            return []
        return [(float(t), cap) for t in per_sample if _tokens(t) is not None]
    if ledger.get("method") == "vote":  # a vote ledger without its samples' record: nothing to compare
        return []
    budget = ledger.get("budget")
    if budget is None:
        return [(float(_tokens(ledger.get("thinking_tokens", 0)) or 0), None)]
    cap = _tokens(budget)
    if cap is None:  # a class ("short" / "long") or another non-token budget
        return []
    return [(float(_tokens(ledger.get("thinking_tokens", 0)) or 0), cap)]


def _tokens(value: Any) -> float | None:
    """A token count as a number, or None when `value` is not one (a class name, a bool, a missing value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
