"""The CPU-time limit works in the main thread (watchdog + signal) and in worker threads (worker process)."""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from s1eval.scoring import check_equivalence
from s1eval.scoring.bounded import run_bounded


def spin(seconds: float) -> None:
    """Burn CPU for `seconds` of this thread's CPU time (what a runaway sympy parse does)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_main_thread_timeout_and_crash():
    start = time.perf_counter()
    ok, value, error = run_bounded(spin, 5, timeout_s=0.3)
    assert not ok and value is None and error.startswith("timeout")
    assert time.perf_counter() - start < 3
    ok, _, error = run_bounded(int, "not a number")
    assert not ok and error.startswith("crash: ValueError")
    assert run_bounded(int, "12") == (True, 12, "")


def test_main_thread_restores_an_outer_timer():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        assert run_bounded(int, "3", timeout_s=0.1)[0]
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # the outer timer is still pending
        time.sleep(0.7)
        assert fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_worker_thread_uses_a_bounded_child_process():
    def score(pred):
        assert threading.current_thread() is not threading.main_thread()
        return check_equivalence(pred, "3", "math", timeout_s=1.5)

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow, fast, wrong = pool.map(score, ["(x+1)^{100000}", "\\frac{6}{2}", "4"])
    assert not slow.equal and slow.error.startswith("timeout")
    assert fast.equal and not fast.error
    assert not wrong.equal and not wrong.error
    # after a timeout the pool is replaced and keeps working
    with ThreadPoolExecutor(max_workers=1) as pool:
        again = pool.submit(check_equivalence, "1+2", "3", "math").result()
    assert again.equal
