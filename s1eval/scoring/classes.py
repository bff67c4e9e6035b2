"""The outcome classes of a sample: how its generation ended (the ledger's) and what scoring found in its text.

They live with scoring, the lowest layer that needs them: the control core records the first four, scoring
adds `no_answer` and `extraction_failed`, and metrics, reports and the front ends count them.
"""

from __future__ import annotations

from typing import Literal

Outcome = Literal["answered", "forced", "truncated", "no_answer", "extraction_failed", "engine_error"]
OUTCOMES: tuple[str, ...] = (
    "answered",
    "forced",
    "truncated",
    "no_answer",
    "extraction_failed",
    "engine_error",
)
