"""The openai engine against servers that hang: bounded failures, and Ctrl-C that stops a run at once.

- A server that accepts connections and never answers fails a request within timeout x tries, with one line
  naming the fix; the defaults bound that to about two minutes; a fatal failure cancels queued requests.
- Ctrl-C (SIGINT) with requests in flight: `generate` raises KeyboardInterrupt at once, the hung sockets are
  shut down, and no worker thread can hold up interpreter exit.
- Through the real CLI in a subprocess: SIGINT (twice) exits within 10 s, non-zero, without a traceback, and
  the chunk that finished before the interrupt stays in --output.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fake_server import FakeVLLMServer

from s1eval.engines.base import EngineError, GenerationRequest
from s1eval.engines.openai import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, OpenAIEngine

REQ = GenerationRequest(context_ids=[5, 6, 7], max_new_tokens=3)


class SilentServer:
    """Accepts TCP connections on 127.0.0.1, reads what comes, never answers; records what it saw."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.accepted = 0
        self.received = threading.Event()  # some request bytes arrived
        self.closed_by_client = threading.Event()  # a client shut its end (EOF)
        self._conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while conn.recv(65536):
                self.received.set()
        except OSError:
            return
        self.closed_by_client.set()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._sock.close()
        for conn in self._conns:
            conn.close()


def _engine(url, tokenizer, **kw):
    kw.setdefault("server", "vllm")  # skip GET /v1/models: these servers never answer it
    kw.setdefault("backoff", 0.01)
    return OpenAIEngine("tiny", url, tokenizer=tokenizer, **kw)


# ---------------------------------------------------------------------- a hung server fails, bounded
def test_hung_server_fails_within_timeout_times_tries(tiny_tokenizer):
    with SilentServer() as srv:
        eng = _engine(srv.base_url, tiny_tokenizer, timeout=0.5, max_retries=1)
        start = time.monotonic()
        with pytest.raises(EngineError) as err:
            eng.generate([REQ])
        took = time.monotonic() - start
        assert srv.accepted == 2  # one try and one retry, each on a fresh connection
    msg = str(err.value)
    assert "\n" not in msg and "no reply within 0.5 s" in msg and "2 tries" in msg
    assert "raise the request timeout or retries" in msg
    assert 0.9 <= took < 3.0, took


def test_hung_server_fails_detection_quickly(tiny_tokenizer):
    with SilentServer() as srv:
        start = time.monotonic()
        with pytest.raises(EngineError, match="cannot reach the server") as err:
            OpenAIEngine("tiny", srv.base_url, tokenizer=tiny_tokenizer, timeout=0.5)
        assert time.monotonic() - start < 3.0
    assert "\n" not in str(err.value)


def test_defaults_bound_a_hung_server_to_about_two_minutes(tiny_tokenizer):
    with SilentServer() as srv:
        eng = OpenAIEngine("tiny", srv.base_url, tokenizer=tiny_tokenizer, server="vllm")
    assert (eng.timeout, eng.max_retries) == (DEFAULT_TIMEOUT, DEFAULT_MAX_RETRIES) == (30.0, 3)
    tries = eng.max_retries + 1
    backoff = sum(min(eng.max_backoff, eng.backoff * 2 ** (a - 1)) for a in range(1, tries))  # jitter <= 1x
    worst = tries * eng.timeout + backoff
    assert 110 <= worst <= 130, worst  # 4 x 30 s + 3.5 s
    assert not {"timeout", "max_retries", "connect_timeout"} & set(eng.describe())


def test_fatal_failure_cancels_queued_requests(tiny_tokenizer):
    # 4 requests, 1 at a time, no retries: the first timeout ends the call; the 3 queued never start
    with SilentServer() as srv:
        eng = _engine(srv.base_url, tiny_tokenizer, timeout=0.4, max_retries=0, max_concurrency=1)
        start = time.monotonic()
        with pytest.raises(EngineError, match="no reply within 0.4 s"):
            eng.generate([REQ] * 4)
        took = time.monotonic() - start
        time.sleep(0.3)
        assert srv.accepted == 1
    assert took < 1.2, took


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"timeout": 0}, "request timeout must be a number of seconds > 0"),
        ({"timeout": -1.0}, "request timeout must be a number of seconds > 0"),
        ({"timeout": "soon"}, "request timeout must be a number of seconds > 0"),
        ({"timeout": float("inf")}, "request timeout must be"),
        ({"max_retries": -1}, "retries must be a whole number >= 0"),
        ({"max_retries": 1.5}, "retries must be a whole number >= 0"),
    ],
)
def test_bad_timeout_or_retries_is_one_line(tiny_tokenizer, kw, match):
    with pytest.raises(EngineError, match=match) as err:
        _engine("http://127.0.0.1:9/v1", tiny_tokenizer, **kw)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------- Ctrl-C in generate
def test_ctrl_c_aborts_in_flight_requests_at_once(tiny_tokenizer):
    with SilentServer() as srv:
        eng = _engine(srv.base_url, tiny_tokenizer, timeout=60.0, max_concurrency=4)

        def interrupt() -> None:
            if srv.received.wait(10):
                time.sleep(0.2)
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

        threading.Thread(target=interrupt, daemon=True).start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            eng.generate([REQ] * 6)
        took = time.monotonic() - start
        assert took < 5.0, took
        # the blocked reads were aborted (the server sees its connections shut), not left to time out
        assert srv.closed_by_client.wait(2.0)
        workers = [t for t in threading.enumerate() if t.name.startswith("s1eval-openai")]
        assert workers and all(t.daemon for t in workers)
        # the engine still works after an interrupt: a new request goes out on a fresh client (and times out)
        before = srv.accepted
        eng.max_retries = 0
        eng._conn.client.timeout = httpx.Timeout(0.3)  # noqa: SLF001 - shorten this test's wait only
        with pytest.raises(EngineError, match="no reply"):
            eng.generate([REQ])
        assert srv.accepted > before
        eng.close()


# ---------------------------------------------------------------------- Ctrl-C through the real CLI
class HangAfter(FakeVLLMServer):
    """The vLLM-shaped fake server over the tiny model; a completion whose prompt holds `marker` never ends."""

    def __init__(self, engine, served_name, marker: str):
        super().__init__(engine, served_name)
        self.marker = marker
        self.hanging = threading.Event()
        self._release = threading.Event()

    def complete(self, body):
        prompt = body.get("prompt")
        text = self.engine.tokenizer.decode(prompt) if isinstance(prompt, list) else str(prompt)
        if self.marker in text:
            self.hanging.set()
            self._release.wait(120)
            return 503, {"object": "error", "message": "released"}
        return super().complete(body)

    def __exit__(self, *exc):
        self._release.set()
        super().__exit__(*exc)


def _cli(tiny_model_path, base_url, tmp_path, prompts, *extra):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"q{i}", "prompt": p}) + "\n" for i, p in enumerate(prompts)))
    out = tmp_path / "out.jsonl"
    args = [
        sys.executable, "-m", "s1eval.cli", "generate", "--engine", "openai", "--base-url", base_url,
        "--model", str(tiny_model_path), "--input", str(inp), "--output", str(out),
        "--max-thinking-tokens", "8", "--max-answer-tokens", "4", *extra,
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return proc, out


def _interrupt(proc, ready: threading.Event, twice: bool, wait_s: float = 120.0) -> tuple[float, str]:
    """Once `ready`, SIGINT (and, if `twice`, again 0.3 s later); (seconds from the first to exit, stderr)."""
    try:
        if not ready.wait(wait_s):
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the request never reached the server; stderr:\n{err}")
        time.sleep(0.3)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        if twice:
            time.sleep(0.3)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        return time.monotonic() - start, err
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"still running 10 s after SIGINT; stderr:\n{err}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("twice", [False, True], ids=["one-sigint", "two-sigints"])
def test_cli_ctrl_c_exits_fast_and_keeps_the_finished_chunk(tiny_engine, tiny_model_path, tmp_path, twice):
    with HangAfter(tiny_engine, str(tiny_model_path), marker="HANG") as srv:
        proc, out = _cli(
            tiny_model_path,
            srv.base_url,
            tmp_path,
            ["What is 1 + 2?", "HANG: what is 2 + 3?"],
            "--chunk-size",
            "1",
        )
        took, err = _interrupt(proc, srv.hanging, twice=twice)
    assert proc.returncode != 0, err
    if not twice:
        assert proc.returncode == 130 and "aborted; finished results are kept" in err, err
    assert "Traceback" not in err, err
    assert took < 10.0, took
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q0"], rows  # the chunk finished before Ctrl-C is kept
    assert isinstance(rows[0]["output"], str) and not rows[0]["ledger"].get("error"), rows[0]
    print(f"\nCLI exit {took:.2f} s after the first SIGINT (rc {proc.returncode})")


@pytest.mark.slow
def test_cli_ctrl_c_against_a_silent_server(tiny_model_path, tmp_path):
    # the server accepts and never answers, not even GET /v1/models: Ctrl-C lands during detection
    with SilentServer() as srv:
        proc, _ = _cli(tiny_model_path, srv.base_url, tmp_path, ["What is 1 + 2?"])
        took, err = _interrupt(proc, srv.received, twice=True)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert took < 10.0, took
    print(f"\nCLI exit {took:.2f} s after the first SIGINT (rc {proc.returncode})")


@pytest.mark.slow
def test_cli_timeout_options(tiny_model_path, tmp_path):
    with SilentServer() as srv:
        proc, _ = _cli(
            tiny_model_path, srv.base_url, tmp_path, ["What is 1 + 2?"], "--request-timeout", "0.5"
        )
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "cannot reach the server" in err and len(err.strip().splitlines()) == 1, err
    bad = subprocess.run(
        [sys.executable, "-m", "s1eval.cli", "generate", "--model", "m", "--input", "i", "--output", "o",
         "--engine", "openai", "--max-retries", "-1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--max-retries" in bad.stderr
