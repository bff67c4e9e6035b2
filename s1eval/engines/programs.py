"""Control programs as the engines see them: a generator per sample that yields requests and receives results.

Engines may schedule programs themselves (the hf engine's `drive`, continuously batched); `drive_lockstep` is
the generic loop any engine can run. Kept with the engines so that an engine never imports the control layer.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from s1eval.engines.base import Engine, GenerationRequest, GenerationResult

Program = Generator[GenerationRequest, GenerationResult, Any]
"""A control method for one sample, written as a generator: it yields engine requests, receives results,
and returns its final value. `drive` runs many programs, batching their current requests into one engine
call per step, so every live sample is in every call (a caching backend keeps exactly the live rows)."""


def drive_lockstep(engine: Engine, programs: Sequence[Program]) -> list[Any]:
    """One batched engine call per step holding every live program's current request."""
    results: list[Any] = [None] * len(programs)
    pending: dict[int, GenerationRequest] = {}
    for i, program in enumerate(programs):
        try:
            pending[i] = next(program)
        except StopIteration as stop:
            results[i] = stop.value
    while pending:
        order = list(pending)
        outputs = engine.generate([pending[i] for i in order])
        if len(outputs) != len(order):
            raise RuntimeError(
                f"engine {engine.name} returned {len(outputs)} results for {len(order)} requests"
            )
        for i, res in zip(order, outputs, strict=True):
            try:
                pending[i] = programs[i].send(res)
            except StopIteration as stop:
                results[i] = stop.value
                del pending[i]
    return results
