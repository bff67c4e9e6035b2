"""Run a parse/compare call under a CPU-time limit, in the main thread or in a worker thread.

sympy (under math_verify) can take unbounded time on adversarial model output, so every parse is bounded.
The limit is **CPU time spent on the call**, not wall-clock time: a verdict must not depend on how busy the
machine is (on a loaded machine a 5 s wall-clock limit judged a true equivalence "not equal"). A call that
spends its CPU seconds is pathological input; a call that merely waits for a core is not. A generous wall-clock
backstop (`WALL_FACTOR` x the limit, at least `MIN_WALL_S`) only ends a call that is blocked without using
CPU at all.

- **Main thread (POSIX):** a `setitimer(ITIMER_PROF)` signal, delivered by the kernel (so it also lands
  inside long C-level sympy work), whose handler compares the main thread's own CPU time with the limit and
  re-arms for what is left until the call has really used it; then it raises `_Deadline`, a BaseException, so
  math_verify's `except Exception` handlers cannot swallow it. math_verify's own `signal.alarm` timeouts are
  switched off (wall-clock, whole seconds). An outer profiling timer is saved and restored.
- **Any other thread (Inspect/lm-eval worker threads, thread pools):** signals are unavailable there and a
  Python thread cannot be killed, so the call runs in a worker process of our own
  (`python -m s1eval.scoring.parse_worker`: it imports nothing of the user's program, unlike a multiprocessing
  `spawn` child that re-runs the user's `__main__`). The parent reads the worker's CPU time and kills it when
  the call has used its limit; the next call starts a fresh worker. Starting a worker is not counted.

Either way the caller gets `(ok, value, error)` and never an exception.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT_S = 5.0
"""CPU seconds one parse + compare may use."""
WALL_FACTOR = 30.0
MIN_WALL_S = 60.0
_POLL_S = 0.01
_START_S = 120.0
_MAX_CHILDREN = max(1, min(2, os.cpu_count() or 1))


class _Deadline(BaseException):
    """Raised by the interrupt handler; a BaseException so library `except Exception` blocks let it through."""


_local = threading.local()


def wall_backstop(timeout_s: float) -> float:
    """Wall-clock seconds after which a call that is not using CPU is ended anyway."""
    return max(MIN_WALL_S, WALL_FACTOR * timeout_s)


def run_bounded(
    fn: Callable[..., Any], *args: Any, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[bool, Any, str]:
    """Call `fn(*args)` within `timeout_s` CPU seconds: (True, result, "") or (False, None, reason).

    In a worker thread `fn` and its arguments must be picklable (a module-level function and strings).
    """
    if getattr(_local, "depth", 0) > 0:  # already inside a bounded call: the outer limit applies
        return _call(fn, *args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "ITIMER_PROF"):
        return _run_in_main_thread(fn, args, timeout_s)
    return _run_in_child(fn, args, timeout_s)


def _call(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any, str]:
    try:
        return True, fn(*args), ""
    except Exception as exc:  # a parser crash (RecursionError included) is data, not a reason to stop a run
        return False, None, f"crash: {type(exc).__name__}: {str(exc)[:200]}"


def _timeout_reason(timeout_s: float, where: str = "") -> str:
    return f"timeout: parsing used more than {timeout_s:g}s of CPU time{where}"


def _run_in_main_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float
) -> tuple[bool, Any, str]:
    start = time.thread_time()

    def on_prof(signum: int, frame: Any) -> None:
        # ITIMER_PROF counts the whole process's CPU, which is never less than this thread's: re-arm for what
        # this thread has left, so only the call's own CPU time decides (busy engine threads do not)
        used = time.thread_time() - start
        if used >= timeout_s:
            raise _Deadline()
        signal.setitimer(signal.ITIMER_PROF, max(timeout_s - used, 0.001))

    old_handler = signal.signal(signal.SIGPROF, on_prof)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_PROF, timeout_s)
    _local.depth = 1
    try:
        return _call(fn, *args)
    except _Deadline:
        return False, None, _timeout_reason(timeout_s)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        _local.depth = 0
        signal.signal(signal.SIGPROF, old_handler)
        if old_delay > 0:  # give back what was left of someone else's profiling timer (at least a tick)
            left = old_delay - (time.thread_time() - start)
            signal.setitimer(signal.ITIMER_PROF, max(left, 0.001), old_interval)


# --------------------------------------------------------------------------- worker processes
def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _recv(stream: Any) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("parser process closed its pipe")
    (size,) = struct.unpack(">Q", head)
    return pickle.loads(stream.read(size))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (psutil, or /proc on Linux)."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:  # pragma: no cover - psutil comes with the scoring extras
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Child:
    """One parser process of our own, spoken to over its stdin/stdout; killed outright when a call overruns."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "s1eval.scoring.parse_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._reader: threading.Thread | None = None
        ready = self._read_with_wait(_START_S)
        if ready != "ready":
            self.kill()
            raise TimeoutError(f"parser process did not start within {_START_S:g}s")

    def _read_with_wait(self, wall_s: float, cpu_limit: float | None = None) -> Any:
        """Read one reply; give up (None) past `wall_s`, or past `cpu_limit` CPU seconds of the worker."""
        box: list[Any] = []
        reader = threading.Thread(target=lambda: box.append(self._safe_recv()), daemon=True)
        reader.start()
        start_cpu = _cpu_seconds(self.proc.pid) if cpu_limit is not None else 0.0
        deadline = time.monotonic() + wall_s
        while reader.is_alive():
            reader.join(_POLL_S)
            if not reader.is_alive():
                break
            if time.monotonic() > deadline:
                return None
            if cpu_limit is not None:
                try:
                    if _cpu_seconds(self.proc.pid) - start_cpu > cpu_limit:
                        return None
                except (OSError, ProcessLookupError):
                    break
        return box[0] if box else None

    def _safe_recv(self) -> Any:
        try:
            return _recv(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            return ("died", str(exc))

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
        _send(self.proc.stdin, (fn, args))
        reply = self._read_with_wait(wall_backstop(timeout_s), cpu_limit=timeout_s)
        if reply is None:
            self.kill()
            return False, None, _timeout_reason(timeout_s, " (worker thread)")
        if isinstance(reply, tuple) and len(reply) == 2 and reply[0] == "died":
            self.kill()
            return False, None, f"crash: parser process: {reply[1][:200]}"
        return reply

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


_slots = threading.BoundedSemaphore(_MAX_CHILDREN)
_idle: list[_Child] = []
_idle_lock = threading.Lock()


def _run_in_child(fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any, str]:
    with _slots:  # the limit starts when a worker is ours, not while waiting for one
        with _idle_lock:
            child = _idle.pop() if _idle else None
        try:
            if child is None or not child.alive():
                child = _Child()
            result = child.call(fn, args, timeout_s)
        except Exception as exc:  # could not start a worker, pickle the call, or the worker died
            if child is not None and child.alive():
                child.kill()
            return False, None, f"crash: parser process: {type(exc).__name__}: {str(exc)[:200]}"
        if child.alive():
            with _idle_lock:
                _idle.append(child)
        return result


def serve(stdin: Any, stdout: Any) -> None:
    """The worker's loop: (fn, args) in, `_call`'s triple out, until the parent closes the pipe."""
    import s1eval.scoring.equivalence  # noqa: F401 - import the parser stack before saying "ready"

    _local.depth = 1  # the parent enforces the limit; no watchdog in here
    _send(stdout, "ready")
    while True:
        try:
            fn, args = _recv(stdin)
        except (EOFError, OSError):
            return
        _send(stdout, _call(fn, *args))
