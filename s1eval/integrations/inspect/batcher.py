"""One engine, many concurrent Inspect samples: gather their requests into one engine call per step.

Inspect runs every sample as its own async task, while s1eval's engines want one batched call per decoding
step (that is how the hf engine shares forward passes and keeps each sequence's KV cache between rounds).
`EngineBatcher` sits between the two. Each sample opens a *session*; a session is either waiting on a
submitted request list or about to submit its next one. A call is made when every live session has
submitted, exactly like `s1eval.control.base.drive` does for a list of programs, so a sample that is still
between rounds never has its cache dropped by a call that leaves it out. Samples that start while a call
is running join the next one; a short join window after a new session lets samples that start together
share their first call.

`BatchedEngine` is the per-sample view: an Engine whose `generate` is a step of that sample's session. A
control method runs unchanged for one question in a worker thread against it, so every method in the
registry (bf, tcc, scc, ccc, rs, vote, ...) gets cross-sample batching and KV reuse with no per-method code.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from s1eval.engines.base import Engine, EngineBase, GenerationRequest, GenerationResult

T = TypeVar("T")

DEFAULT_JOIN_WINDOW_S = 0.05
"""How long the first call after a new sample waits for other new samples to join it."""
MAX_THREADS = 512
"""Worker threads for per-sample method runs (each spends nearly all its time waiting on the batcher)."""


@dataclass(frozen=True)
class EngineCall:
    """One request of a sample and what the engine gave back (what an Inspect ModelEvent is made of)."""

    request: GenerationRequest
    result: GenerationResult
    started: float  # time.time()
    finished: float


@dataclass
class _Waiter:
    requests: list[GenerationRequest]
    done: anyio.Event = field(default_factory=anyio.Event)
    results: list[GenerationResult] | None = None
    error: BaseException | None = None


class Session:
    """One sample's place in the batcher; use it through `EngineBatcher.submit` / `close`."""

    _ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(Session._ids)
        self.closed = False

    def __repr__(self) -> str:
        return f"Session({self.id})"


class EngineBatcher:
    """Batch the requests of concurrent sessions into one `engine.generate` call per step."""

    def __init__(self, engine: Engine, *, join_window_s: float = DEFAULT_JOIN_WINDOW_S):
        self.engine = engine
        self.join_window_s = join_window_s
        self._live: dict[Session, None] = {}  # insertion-ordered set
        self._pending: dict[Session, _Waiter] = {}
        self._busy = False
        self._joined = False
        self._limiter: anyio.CapacityLimiter | None = None
        self._limiter_loop: object = None
        self.stats = {"calls": 0, "requests": 0, "max_requests_per_call": 0, "max_sessions_per_call": 0}

    # ------------------------------------------------------------------ sessions
    def open(self) -> Session:
        return Session()

    async def submit(self, session: Session, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Queue this session's requests for the next call and wait for their results (in order)."""
        if session.closed:
            raise RuntimeError(f"{session!r} is closed")
        if session not in self._live:
            self._live[session] = None
            self._joined = True
        waiter = _Waiter(list(requests))
        self._pending[session] = waiter
        try:
            await self._maybe_dispatch()
            await waiter.done.wait()
        except BaseException:
            # cancelled while waiting: leave the batcher consistent for the other sessions
            if self._pending.get(session) is waiter:
                del self._pending[session]
            await self.close(session)
            raise
        if waiter.error is not None:
            raise waiter.error
        assert waiter.results is not None
        return waiter.results

    async def close(self, session: Session) -> None:
        """The session will submit nothing more; the others no longer wait for it."""
        session.closed = True
        self._live.pop(session, None)
        self._pending.pop(session, None)
        with anyio.CancelScope(shield=True):
            await self._maybe_dispatch()
        if not self._live and not self._busy:  # nothing will be continued: free the backend's caches now
            self.engine.release()

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """One-shot requests (plain chat generation) that share the next call with everything else."""
        session = self.open()
        try:
            return await self.submit(session, requests)
        finally:
            await self.close(session)

    # ------------------------------------------------------------------ running a control method per sample
    async def run_sync(self, fn: Callable[[Engine], T], calls: list[EngineCall] | None = None) -> T:
        """Run `fn(engine_view)` in a worker thread; its engine calls become steps of one session (and, with
        `calls`, are appended there in order)."""
        session = self.open()
        view = BatchedEngine(self, session, calls)
        try:
            return await anyio.to_thread.run_sync(fn, view, limiter=self._thread_limiter())
        finally:
            await self.close(session)

    def _thread_limiter(self) -> anyio.CapacityLimiter:
        # a CapacityLimiter belongs to one event loop; Inspect may run several evals (loops) per process
        import asyncio

        try:
            loop: object = asyncio.get_running_loop()
        except RuntimeError:  # another async backend: one limiter per batcher is fine there
            loop = None
        if self._limiter is None or self._limiter_loop is not loop:
            self._limiter = anyio.CapacityLimiter(MAX_THREADS)
            self._limiter_loop = loop
        return self._limiter

    # ------------------------------------------------------------------ the call
    def _ready(self) -> bool:
        return bool(self._pending) and all(s in self._pending for s in self._live)

    async def _maybe_dispatch(self) -> None:
        """Make the next call if every live session is waiting; the caller that completes the set leads it."""
        if self._busy or not self._ready():
            return
        self._busy = True
        try:
            with anyio.CancelScope(shield=True):  # others wait on this call: it must finish
                if self._joined and self.join_window_s > 0:
                    self._joined = False
                    await anyio.sleep(self.join_window_s)  # new sessions that start now submit at once
                self._joined = False
                if self._ready():
                    await self._call()
        finally:
            self._busy = False
        # sessions that submitted while this call ran may already form the next complete set
        if self._ready():
            await self._maybe_dispatch()

    async def _call(self) -> None:
        batch = list(self._pending.items())
        self._pending.clear()
        requests = [r for _, w in batch for r in w.requests]
        self.stats["calls"] += 1
        self.stats["requests"] += len(requests)
        self.stats["max_requests_per_call"] = max(self.stats["max_requests_per_call"], len(requests))
        self.stats["max_sessions_per_call"] = max(self.stats["max_sessions_per_call"], len(batch))
        try:
            results = await anyio.to_thread.run_sync(self.engine.generate, requests) if requests else []
            if len(results) != len(requests):
                raise RuntimeError(
                    f"engine {self.engine.name} returned {len(results)} results for {len(requests)} requests"
                )
        except BaseException as exc:  # every waiting sample gets the error; none hangs
            for _, waiter in batch:
                waiter.error = exc
                waiter.done.set()
            if not isinstance(exc, Exception):
                raise
            return
        start = 0
        for _, waiter in batch:
            waiter.results = list(results[start : start + len(waiter.requests)])
            start += len(waiter.requests)
            waiter.done.set()


class BatchedEngine(EngineBase):
    """The Engine a single sample's control method sees: its calls are steps of one batcher session.

    It must be used from a worker thread started by `EngineBatcher.run_sync`. Its `release` is EngineBase's
    no-op, so a method that frees the backend's caches when it finishes cannot drop other samples' caches (the
    batcher releases them once no session is live).
    """

    def __init__(self, batcher: EngineBatcher, session: Session, calls: list[EngineCall] | None = None):
        self._batcher = batcher
        self._session = session
        self._calls = calls
        engine = batcher.engine
        self.name = engine.name
        self.model_id = engine.model_id
        self.tokenizer = engine.tokenizer
        self.max_batch_size = engine.max_batch_size
        self.context_length = _context_length(engine)
        """The backend's context length (what `max_thinking_tokens="auto"` and the context check read)."""

    def describe(self) -> dict[str, Any]:
        return self._batcher.engine.describe()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        if not requests:
            return []
        started = time.time()
        results = anyio.from_thread.run(self._batcher.submit, self._session, list(requests))
        if self._calls is not None:
            finished = time.time()
            self._calls.extend(
                EngineCall(q, r, started, finished) for q, r in zip(requests, results, strict=True)
            )
        return results


def _context_length(engine: Engine) -> int | None:
    from s1eval.control.budget_forcing import engine_context_length
    from s1eval.errors import ConfigError

    try:
        return engine_context_length(engine)
    except ConfigError:  # a server that does not say: the server refuses a request that is too long
        return None
