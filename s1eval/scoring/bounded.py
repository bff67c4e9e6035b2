"""Run a parse/compare call under a wall-clock limit, in the main thread or in a worker thread.

sympy (under math_verify) can take unbounded time on adversarial model output, so every parse is bounded.
math_verify's own timeout uses `signal.alarm`, which only works in the main thread and only in whole
seconds, and it wraps each step separately. We therefore switch math_verify's timeouts off and bound the
*whole* call ourselves:

- **Main thread (POSIX):** a `setitimer(ITIMER_REAL)` alarm, the same mechanism as math_verify's but with
  sub-second resolution, covering parse and verify together. It raises `_Deadline`, a BaseException, so
  math_verify's `except Exception` handlers cannot swallow it. An outer timer (someone else's) is saved and
  restored with its remaining time.
- **Any other thread (Inspect/lm-eval worker threads, thread pools):** signals are unavailable, and a Python
  thread cannot be killed, so the call runs in a small `spawn` process pool; on timeout the pool is
  terminated (which really stops the runaway sympy work) and a fresh one is made on the next call. The
  first such call waits for the children to start and import sympy; that wait is not counted in the limit.

Either way the caller gets `(ok, value, error)` and never an exception.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT_S = 5.0
_POOL_START_S = 120.0


class _Deadline(BaseException):
    """Raised by the alarm handler; a BaseException so library `except Exception` blocks let it through."""


_local = threading.local()
_pool_lock = threading.Lock()
_pool: Any = None
_POOL_SIZE = max(1, min(2, os.cpu_count() or 1))
_slots = threading.BoundedSemaphore(_POOL_SIZE)  # the limit starts when a child is free, not in the queue


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def run_bounded(fn: Callable[..., Any], *args: Any, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[bool, Any, str]:
    """Call `fn(*args)` within `timeout_s` seconds: (True, result, "") or (False, None, reason)."""
    if getattr(_local, "depth", 0) > 0:  # already inside a bounded call: the outer limit applies
        return _call(fn, *args)
    if _in_main_thread():
        return _run_with_alarm(fn, args, timeout_s)
    return _run_in_pool(fn, args, timeout_s)


def _call(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any, str]:
    try:
        return True, fn(*args), ""
    except _Deadline:
        raise
    except Exception as exc:  # a parser crash (RecursionError included) is data, not a reason to stop a run
        return False, None, f"crash: {type(exc).__name__}: {str(exc)[:200]}"


def _run_with_alarm(fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise _Deadline()

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
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - timeout_s, 0.001), old_interval)


def _get_pool() -> Any:
    """The shared child pool, started (and its imports done) before any limit is timed."""
    global _pool
    with _pool_lock:
        if _pool is None:
            pool = multiprocessing.get_context("spawn").Pool(processes=_POOL_SIZE, initializer=_warm_child)
            pool.map_async(_noop, range(_POOL_SIZE), chunksize=1).get(_POOL_START_S)
            _pool = pool
        return _pool


def _reset_pool(pool: Any) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.terminate()


def _run_in_pool(fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
    with _slots:
        try:
            pool = _get_pool()
        except Exception as exc:  # could not start children at all
            return False, None, f"crash: no parser process ({type(exc).__name__}: {str(exc)[:200]})"
        try:
            result = pool.apply_async(_call_in_child, (fn, args)).get(timeout_s)
        except multiprocessing.TimeoutError:
            _reset_pool(pool)
            return False, None, f"timeout: parsing took longer than {timeout_s:g}s (worker thread)"
        except Exception as exc:  # a pickling problem or a dead child
            _reset_pool(pool)
            return False, None, f"crash: {type(exc).__name__}: {str(exc)[:200]}"
        return result


def _warm_child() -> None:
    """Import the parser stack up front so the first timed call in each child is not an import."""
    import s1eval.scoring.equivalence  # noqa: F401


def _noop(_: int) -> None:
    return None


def _call_in_child(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any, str]:
    _local.depth = 1  # the parent enforces the limit; no alarm needed here
    return _call(fn, *args)
