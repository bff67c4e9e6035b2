"""A small curated-style arithmetic set: the data of the CPU recipe, the tests and the demo.

Rows have the fields curation exports (`question`, `thinking`, `answer`, plus `id` and `source`), with short
traces so the tiny model learns the layout within a few dozen CPU steps.
"""

from __future__ import annotations

import random


def arithmetic_rows(n: int = 32, seed: int = 0) -> list[dict[str, str]]:
    """`n` addition problems, each with a brief thinking trace and a boxed answer."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.randint(1, 12), rng.randint(1, 12)
        total = a + b
        rows.append(
            {
                "id": f"arith-{i:03d}",
                "source": "s1eval-toy",
                "question": f"What is {a} + {b}?",
                "thinking": f"Add {a} and {b}. {a} + {b} = {total}. Check: {total} - {b} = {a}. Yes.",
                "answer": f"\\boxed{{{total}}}",
            }
        )
    return rows
