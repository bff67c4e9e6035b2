"""Run a parse/compare call under a wall-clock limit, in the main thread or in a worker thread.

sympy (under math_verify) can take unbounded time on adversarial model output, so every parse is bounded.
math_verify's own timeout uses `signal.alarm`, which only works in the main thread and only in whole
seconds, and it wraps each step separately. We therefore switch math_verify's timeouts off and bound the
*whole* call ourselves:

- **Main thread (POSIX):** a `setitimer(ITIMER_REAL)` alarm, the same mechanism as math_verify's but with
  sub-second resolution, covering parse and verify together. It raises `_Deadline`, a BaseException, so
  math_verify's `except Exception` handlers cannot swallow it. An outer timer (someone else's) is saved and
  restored with what is left of it.
- **Any other thread (Inspect/lm-eval worker threads, thread pools):** signals are unavailable there and a
  Python thread cannot be killed, so the call runs in a child process (`spawn`; at most two at once, kept
  for reuse). On timeout only that child is killed, which really stops the runaway sympy work without
  touching other threads' calls; the next call starts a fresh child. Starting a child (importing sympy) is
  not counted in the limit.

Either way the caller gets `(ok, value, error)` and never an exception.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT_S = 5.0
_START_S = 120.0
_MAX_CHILDREN = max(1, min(2, os.cpu_count() or 1))


class _Deadline(BaseException):
    """Raised by the alarm handler; a BaseException so library `except Exception` blocks let it through."""


_local = threading.local()


def run_bounded(
    fn: Callable[..., Any], *args: Any, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[bool, Any, str]:
    """Call `fn(*args)` within `timeout_s` seconds: (True, result, "") or (False, None, reason).

    In a worker thread `fn` and its arguments must be picklable (a module-level function and strings).
    """
    if getattr(_local, "depth", 0) > 0:  # already inside a bounded call: the outer limit applies
        return _call(fn, *args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        return _run_with_alarm(fn, args, timeout_s)
    return _run_in_child(fn, args, timeout_s)


def _call(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any, str]:
    try:
        return True, fn(*args), ""
    except Exception as exc:  # a parser crash (RecursionError included) is data, not a reason to stop a run
        return False, None, f"crash: {type(exc).__name__}: {str(exc)[:200]}"


def _run_with_alarm(fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise _Deadline()

    started = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, timeout_s)
    _local.depth = 1
    try:
        return _call(fn, *args)
    except _Deadline:
        return False, None, f"timeout: parsing took longer than {timeout_s:g}s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _local.depth = 0
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:  # give back what was left of someone else's timer (at least a tick)
            left = old_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), old_interval)


class _Child:
    """One spawned parser process, spoken to over a pipe; killed outright when a call overruns."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=_child_main, args=(child_end,), daemon=True, name="s1eval-parser")
        self.proc.start()
        child_end.close()
        if not self.conn.poll(_START_S):  # waits for the child's imports; not part of any call's limit
            self.kill()
            raise TimeoutError(f"parser process did not start within {_START_S:g}s")
        self.conn.recv()

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
        self.conn.send((fn, args))
        if not self.conn.poll(timeout_s):
            self.kill()
            return False, None, f"timeout: parsing took longer than {timeout_s:g}s (worker thread)"
        return self.conn.recv()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


_slots = threading.BoundedSemaphore(_MAX_CHILDREN)
_idle: list[_Child] = []
_idle_lock = threading.Lock()


def _run_in_child(fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
    with _slots:  # the limit starts when a child is ours, not while waiting for one
        with _idle_lock:
            child = _idle.pop() if _idle else None
        try:
            if child is None or not child.proc.is_alive():
                child = _Child()
            result = child.call(fn, args, timeout_s)
        except Exception as exc:  # could not start a child, pickle the call, or the child died
            if child is not None and child.proc.is_alive():
                child.kill()
            return False, None, f"crash: parser process: {type(exc).__name__}: {str(exc)[:200]}"
        if child.proc.is_alive():
            with _idle_lock:
                _idle.append(child)
        return result


def _child_main(conn: Any) -> None:
    import s1eval.scoring.equivalence  # noqa: F401 - import the parser stack before saying "ready"

    _local.depth = 1  # the parent enforces the limit; no alarm in here
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_call(fn, *args))
