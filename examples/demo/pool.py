"""The curation pool for the demo: counter problems with traces, domains, grades and planted bad rows.

The rows look like what s1's 59K pool looks like to the curation stages, in miniature:

- `domain` is the operation ("add 4", "sub 7"): 16 domains for the diversity stage to sample uniformly;
- `small_solved` / `big_solved` say whether two reference models solve the question; short problems are
  mostly solved (the difficulty stage drops them), long ones mostly not;
- planted low-quality rows: a failed API call in the trace, a missing answer, a question that refers to a
  figure, exact duplicates with another trace, and a few held-out test questions (decontamination);
- the thinking traces are those of `task.write_trace`: full, lazy (stops early, wrong), Wait-and-finish,
  re-check.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from examples.demo.task import Spec, write_trace

# P(a reference model solves a problem of n steps): the small model only the shortest, the big one a bit more.
SMALL_SOLVES = {1: 0.9, 2: 0.6, 3: 0.3, 4: 0.1}
BIG_SOLVES = {1: 1.0, 2: 0.7, 3: 0.4, 4: 0.2, 5: 0.05}
PLANTED = ("failed_api", "missing_answer", "figure", "duplicate", "contaminated")


def _row(spec: Spec, rng: random.Random, index: int) -> dict[str, Any]:
    trace = write_trace(spec, rng)
    return {
        "id": f"pool-{index:05d}",
        "question": spec.question(),
        "thinking": trace.thinking,
        "answer": trace.answer_text,
        "solution": str(spec.answer()),
        "source": "modcounter",
        "domain": spec.domain,
        "steps": spec.n,
        "style": trace.style,
        "planted": None,
        "small_solved": rng.random() < SMALL_SOLVES.get(spec.n, 0.0),
        "big_solved": rng.random() < BIG_SOLVES.get(spec.n, 0.0),
    }


def build_pool(
    specs: list[Spec], test_specs: list[Spec], seed: int = 0, planted_share: float = 0.08
) -> list[dict[str, Any]]:
    """One row per spec (shuffled) plus planted low-quality rows; deterministic in `seed`."""
    rng = random.Random(seed)
    order = list(specs)
    rng.shuffle(order)
    rows = [_row(spec, rng, i) for i, spec in enumerate(order)]
    planted = int(len(rows) * planted_share)
    for j in range(planted):
        kind = PLANTED[j % len(PLANTED)]
        if kind == "contaminated":
            row = _row(rng.choice(test_specs), rng, 0)
        else:
            row = _row(rng.choice(order), rng, 0)
        row["planted"] = kind
        if kind == "failed_api":
            row["thinking"] = "API call failed: error code: 429 (rate limit exceeded)"
        elif kind == "missing_answer":
            row["answer"] = ""
        elif kind == "figure":
            row["question"] = row["question"][:-1] + ", as shown in the figure."
        rows.insert(rng.randrange(len(rows) + 1), row)
    for i, row in enumerate(rows):
        row["id"] = f"pool-{i:05d}"
    return rows


def write_pool(rows: list[dict[str, Any]], path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return p


def describe(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the demo's summary: rows, planted rows by kind, trace styles, domains."""
    return {
        "rows": len(rows),
        "planted": dict(sorted(Counter(r["planted"] for r in rows if r["planted"]).items())),
        "styles": dict(sorted(Counter(r["style"] for r in rows).items())),
        "domains": len({r["domain"] for r in rows}),
    }
