"""The benchmarks' A/B timer: alternating order, every repeat kept, short sides repeated until long enough."""

from __future__ import annotations

import pytest

from benchmarks import timing


def test_sides_alternate_and_every_repeat_is_kept():
    calls: list[str] = []
    out = timing.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert out["repeats"] == 3 and all(len(v) == 3 for v in out["seconds"].values())


def test_short_sides_repeat_until_min_seconds_and_stop_at_the_cap(monkeypatch):
    clock = iter(range(10_000))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: float(next(clock)))  # every call takes 1 s
    out = timing.interleaved({"a": lambda: 1, "b": lambda: 2}, 3, min_seconds=5)
    assert out["repeats"] == 5 and out["seconds"]["a"] == [1.0] * 5
    capped = timing.interleaved({"a": lambda: 1, "b": lambda: 2}, 3, min_seconds=1e9)
    assert capped["repeats"] == timing.MAX_REPEATS


def test_fewer_than_three_repeats_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        timing.interleaved({"a": lambda: 1}, 2)
