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


def interleaved(sides: dict[str, Callable[[], Any]], repeats: int = MIN_REPEATS) -> dict[str, Any]:
    """{"seconds": {side: [each repeat]}, "median_seconds": {side: m}, "last": {side: last return value}}."""
    if repeats < MIN_REPEATS:
        raise ValueError(f"at least {MIN_REPEATS} repeats, got {repeats}")
    names = list(sides)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    last: dict[str, Any] = {}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            start = time.perf_counter()
            last[name] = sides[name]()
            seconds[name].append(round(time.perf_counter() - start, 4))
    return {
        "repeats": repeats,
        "order": "alternating (A B, B A, ...)",
        "seconds": seconds,
        "median_seconds": {n: round(statistics.median(v), 4) for n, v in seconds.items()},
        "last": last,
    }


def ratio(timing: dict[str, Any], numerator: str, denominator: str) -> float:
    """median(numerator) / median(denominator): "A / B time"; invert for throughput."""
    med = timing["median_seconds"]
    return round(med[numerator] / med[denominator], 3)
