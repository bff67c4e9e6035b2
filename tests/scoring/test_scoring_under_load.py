"""Verdicts do not depend on machine load: the parse limit is CPU time, not wall-clock time.

Every core is loaded by busy processes (bounded: each stops by itself after a few seconds), then the same
equivalence checks and a call that needs a known amount of CPU run again, in the main thread and in worker
threads. A wall-clock limit fails here: with 4 busy processes per core a call gets a fifth of a core, so a
call that needs half its limit in CPU takes more than twice its limit in wall-clock time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from s1eval.scoring import check_equivalence
from s1eval.scoring.bounded import run_bounded

pytestmark = pytest.mark.slow

PAIRS = [
    ("\\frac{1}{2}", "0.5"), ("2\\sqrt{2}", "\\sqrt{8}"), ("(x+1)^2", "x^2+2x+1"), ("\\pi/2", "90^\\circ"),
    ("3", "4"), ("x^2", "x^3"), ("\\{1,2\\}", "\\{2,1\\}"), ("(0,3)", "(0, 3)"), ("\\frac{6}{4}", "1.5"),
    ("10\\%", "0.1"), ("\\dfrac{3}{4}", "\\frac34"), ("e^{i\\pi}", "-1"), ("\\sin^2 x + \\cos^2 x", "1"),
    ("2^{10}", "1024"), ("\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}"), ("7", "x=7"),
]  # fmt: skip


def verdicts(timeout_s: float) -> list[tuple[bool, str]]:
    out = []
    for pred, gold in PAIRS:
        v = check_equivalence(pred, gold, "math", timeout_s=timeout_s)
        out.append((v.equal, v.error.split(":")[0]))
    return out


def cpu_work() -> tuple[tuple, float]:
    """A call (builtin, picklable for the worker process) and the CPU seconds it needs on this machine."""
    call = (sum, range(8_000_000))
    start = time.thread_time()
    call[0](*call[1:])
    return call, time.thread_time() - start


class Load:
    """4 busy processes per core, each ending by itself after `seconds`."""

    def __init__(self, seconds: float = 30.0):
        code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"
        self.procs = [
            subprocess.Popen([sys.executable, "-c", code]) for _ in range(4 * (os.cpu_count() or 1))
        ]
        time.sleep(0.5)

    def __enter__(self) -> Load:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def test_same_verdicts_and_no_timeouts_under_load():
    call, need = cpu_work()
    limit = max(4 * need, 0.2)  # the call needs a quarter of its limit in CPU time
    idle_main = verdicts(timeout_s=2.0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        idle_worker = pool.submit(verdicts, 2.0).result()
    assert idle_main == idle_worker
    assert all(err == "" for _, err in idle_main)

    with Load():
        start = time.perf_counter()
        ok, _, error = run_bounded(call[0], *call[1:], timeout_s=limit)
        took = time.perf_counter() - start
        assert ok, (error, need, limit, took)
        with ThreadPoolExecutor(max_workers=2) as pool:
            ok_w, _, error_w = pool.submit(lambda: run_bounded(call[0], *call[1:], timeout_s=limit)).result()
            assert ok_w, error_w
            loaded_worker = pool.submit(verdicts, 2.0).result()
        loaded_main = verdicts(timeout_s=2.0)
    assert loaded_main == idle_main
    assert loaded_worker == idle_worker
    # a call that really needs more CPU than its limit still times out, loaded or not
    ok, _, error = run_bounded(call[0], *call[1:], timeout_s=need / 4)
    assert not ok and error.startswith("timeout")
