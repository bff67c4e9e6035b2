"""Interleaved A/B timing: every side runs once per repeat, the order alternating, and every repeat is kept.

Absolute times on a shared 2-core machine drift; running the sides in turn (A B, B A, A B, ...) exposes both
to the same drift, and the median of at least three repeats is what a ratio is taken from.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

MIN_REPEATS = 3
MAX_REPEATS = 15


def interleaved(
    sides: dict[str, Callable[[], Any]], repeats: int = MIN_REPEATS, *, min_seconds: float = 0.0
) -> dict[str, Any]:
    """{"seconds": {side: [each repeat]}, "median_seconds": {side: m}, "last": {side: last return value}}.

    With `min_seconds`, short sides repeat beyond `repeats` (up to `MAX_REPEATS`) until each has run that long in
    all: a one-second cell's median of three moves by several percent with the machine's drift."""
    if repeats < MIN_REPEATS:
        raise ValueError(f"at least {MIN_REPEATS} repeats, got {repeats}")
    names = list(sides)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    last: dict[str, Any] = {}
    r = 0
    while r < repeats or (r < MAX_REPEATS and min(sum(v) for v in seconds.values()) < min_seconds):
        for name in names if r % 2 == 0 else reversed(names):
            start = time.perf_counter()
            last[name] = sides[name]()
            seconds[name].append(round(time.perf_counter() - start, 4))
        r += 1
    return {
        "repeats": r,
        "order": "alternating (A B, B A, ...)",
        "seconds": seconds,
        "median_seconds": {n: round(statistics.median(v), 4) for n, v in seconds.items()},
        "last": last,
    }


def ratio(timing: dict[str, Any], numerator: str, denominator: str) -> float:
    """median(numerator) / median(denominator): "A / B time"; invert for throughput."""
    med = timing["median_seconds"]
    return round(med[numerator] / med[denominator], 3)
