"""Any OpenAI-compatible completions server as an engine: vLLM serve, SGLang, `transformers serve`, TGI, ...

Requests go to `/v1/completions` (plain continuation, no chat template: the control core renders prompts
itself), spread over one or more base URLs with a concurrency limit, retried with exponential backoff on
429, 5xx, timeouts and dropped connections. The API key comes from an environment variable and never reaches
a log, an exception or `describe()`.

Servers differ in what they accept, so the engine speaks one of three dialects (`server=`, detected from
`GET /v1/models` when "auto"):

- `vllm` (vLLM, SGLang): the prompt goes as token ids (no re-tokenisation), vLLM's `stop_token_ids`,
  `min_tokens`, `ignore_eos`, `skip_special_tokens=false` and `return_token_ids` give exact stops and the
  generated ids; the server's prefix cache makes a continuation pay only for its new suffix.
- `transformers` (`transformers serve`): text prompts only, so the context is sent as text decoded from the ids;
  stop tokens and `min_tokens` go in its `generation_config` field (`eos_token_id`, `min_new_tokens`). Its reply
  text has special tokens stripped and no token ids, so ids come from re-tokenising the text with the local
  tokenizer, checked against `usage.completion_tokens` (disagreements are counted in `stats`).
- `openai` (anything else): standard fields only. Stop tokens become stop strings; `min_new_tokens` with stop
  tokens, `top_k` and `repetition_penalty` are refused with a one-line error naming a server that has them.

Whatever the dialect, a result follows the protocol: a stop token is reported in `stop_token` and is not in
`token_ids`; a stop string is cut from the text and its tokens counted in `discarded_tokens`.

A request waits at most `timeout` seconds for a reply (default 30) and is tried `max_retries + 1` times (default
4), so a server that accepts connections and never answers fails a run in about two minutes
(4 x 30 s + at most 3.5 s of backoff). A reply is not streamed, so a server that needs longer than `timeout` for
one completion (a long thinking budget on a loaded server) needs a larger `timeout`; the error says so.
A fatal failure of one request cancels the others at once instead of waiting for every queued request.

Ctrl-C (KeyboardInterrupt) in `generate` cancels the queued requests, aborts the ones in flight (their sockets
are shut down, which wakes the blocked reads) and re-raises at once. Requests run on the engine's own daemon
threads (`_DaemonPool`), not on a `ThreadPoolExecutor`, whose threads interpreter exit joins: a worker still
blocked in a read can neither delay exit nor turn a second Ctrl-C into a `threading._shutdown` traceback.
"""

from __future__ import annotations

import json
import math
import os
import queue
import random
import socket
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass
from typing import Any

from s1eval.engines.base import EngineBase, EngineError, GenerationRequest, GenerationResult, SamplingParams
from s1eval.errors import option

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DIALECTS = ("auto", "vllm", "transformers", "openai")
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 30.0
"""Seconds a request waits for the server's reply (connect: `connect_timeout`), before it is retried."""
DEFAULT_MAX_RETRIES = 3
"""Retries after the first try: 4 tries in all, so a hung server fails in about 4 x DEFAULT_TIMEOUT."""


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        unreachable: bool = False,
        timed_out: bool = False,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.timed_out = timed_out


class _Cancelled(Exception):
    """The generate call that sent this request was interrupted or failed: stop retrying, nobody waits."""


class _DaemonPool:
    """Up to `workers` daemon threads running submitted calls, with `concurrent.futures.Future` results.

    Unlike `ThreadPoolExecutor`, whose threads are joined when the interpreter exits, these threads never hold
    up exit: a worker blocked in an HTTP read dies with the process.
    """

    def __init__(self, workers: int, name: str):
        self._workers = workers
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise EngineError("this openai engine was closed; create a new one")
            self._queue.put((fut, fn, args))
            if len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                fut.set_exception(exc)
            else:
                fut.set_result(result)
            del fut, fn, args, item

    def shutdown(self) -> None:
        """Cancel what is queued and let the threads end; never waits for a running call."""
        with self._lock:
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in range(threads):
            self._queue.put(None)


class _Connections:
    """An httpx client and the sockets it opened (traced), so that in-flight reads can be aborted."""

    def __init__(self, make_client: Callable[[], Any]):
        self.client = make_client()
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()  # closed connections drop out
        self.extensions = {"trace": self._trace}
        self._lock = threading.Lock()

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":  # httpcore's trace extension: the new TCP stream
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                with self._lock:
                    self.sockets.add(sock)

    def abort(self) -> None:
        """Shut down every socket (a read blocked in another thread returns at once), then close the client."""
        with self._lock:
            sockets = list(self.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing a client whose sockets are gone must not mask the cause
            pass


class _RowError(Exception):
    """The server refused this one request (e.g. context too long): an error result, not a failed run."""


@dataclass
class _Prepared:
    """A request turned into a body, with what parsing its reply needs."""

    body: dict[str, Any]
    request: GenerationRequest


class OpenAIEngine(EngineBase):
    """Completions over HTTP against one or many OpenAI-compatible servers (see the module docstring)."""

    name = "openai"
    max_batch_size = None  # the server batches

    def __init__(
        self,
        model: str,
        base_url: str | Sequence[str] | None = None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        tokenizer: Any = None,
        server: str = "auto",
        served_model: str | None = None,
        max_concurrency: int = 8,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        prompt_as_ids: bool | None = None,
        extra_body: dict[str, Any] | None = None,
        revision: str | None = None,
        trust_remote_code: bool = False,
    ):
        import httpx

        self.model_id = model
        self.served_model = served_model or model
        urls = base_url if base_url is not None else os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if isinstance(urls, str):
            urls = [u for u in urls.split(",") if u.strip()]
        self.base_urls = [u.strip().rstrip("/") for u in urls]
        if not self.base_urls:
            raise EngineError("OpenAIEngine needs a base_url such as http://127.0.0.1:8000/v1")
        if max_concurrency < 1:
            raise EngineError(f"max_concurrency must be >= 1, got {max_concurrency}")
        timeout_s, connect_s, retries = _seconds(timeout), _seconds(connect_timeout), _count(max_retries)
        if timeout_s is None or connect_s is None:
            raise EngineError(
                f"the request timeout must be a number of seconds > 0, got {timeout!r} "
                f"(connect: {connect_timeout!r})"
            )
        if retries is None:
            raise EngineError(f"the retries must be a whole number >= 0, got {max_retries!r}")
        server = (server or "auto").strip().lower()
        if server not in DIALECTS:
            raise EngineError(f"unknown server kind {server!r}; use one of: {', '.join(DIALECTS)}")
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self.max_concurrency = max_concurrency
        self.timeout = timeout_s
        self.connect_timeout = connect_s
        self.max_retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.extra_body = dict(extra_body or {})
        self.revision = revision
        self.tokenizer = _load_tokenizer(
            tokenizer if tokenizer is not None else model, revision, trust_remote_code
        )
        self._tokenizer_name = tokenizer if isinstance(tokenizer, str) else None
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

        def make_client() -> httpx.Client:
            return httpx.Client(
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                limits=httpx.Limits(max_connections=max_concurrency * len(self.base_urls) + 4),
            )

        self._make_client = make_client
        self._conn = _Connections(make_client)
        self._pool = _DaemonPool(max_concurrency, "s1eval-openai")
        self._inflight = [0] * len(self.base_urls)
        self._url_lock = threading.Lock()
        self._rng = random.Random(0)
        self.stats: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "token_count_mismatches": 0,
            "ambiguous_stop_tokens": 0,
        }
        self.per_url_requests = [0] * len(self.base_urls)
        self.server = server if server != "auto" else self._detect()
        self.prompt_as_ids = self.server == "vllm" if prompt_as_ids is None else prompt_as_ids

    # ------------------------------------------------------------------ protocol
    def describe(self) -> dict:
        return {
            "engine": self.name,
            "model": self.model_id,
            "served_model": self.served_model,
            "server": self.server,
            "base_urls": list(self.base_urls),
            "tokenizer": self._tokenizer_name,
            "revision": self.revision,
            "prompt_as_ids": self.prompt_as_ids,
            "max_concurrency": self.max_concurrency,
            "extra_body": self.extra_body,
        }

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)
        prepared: dict[int, _Prepared] = {}
        for i, req in enumerate(requests):
            if req.max_new_tokens <= 0:  # keep-alive: the server's prefix cache needs no notice
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
            else:
                prepared[i] = _Prepared(self._body(req), req)
        cancel = threading.Event()
        futures: dict[int, Future] = {}
        try:
            for i, p in prepared.items():
                futures[i] = self._pool.submit(self._post_with_retries, p.body, cancel)
            for i, data in self._gather(futures, cancel).items():
                if isinstance(data, _RowError):
                    results[i] = GenerationResult(text="", token_ids=[], stop_reason="error", error=str(data))
                else:
                    results[i] = self._parse(data, prepared[i])
            self._resolve_ambiguous_stops(prepared, results, cancel)
        except KeyboardInterrupt:
            self._interrupt(futures, cancel)
            raise
        return [r for r in results if r is not None]

    def _gather(self, futures: dict[int, Future], cancel: threading.Event) -> dict[int, Any]:
        """Each future's reply (or its _RowError); the first fatal error cancels the rest and is raised.

        A request that saw `cancel` set ends in _Cancelled; it is skipped here: the fatal error that set `cancel`
        is on its way (its future completes just after) and is the one raised.
        """
        pending = set(futures.values())
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            errors = [fut.exception() for fut in done]
            fatal = next(
                (e for e in errors if e is not None and not isinstance(e, (_RowError, _Cancelled))), None
            )
            if fatal is not None:
                cancel.set()  # stop the others: queued ones never start, running ones stop retrying
                for other in pending:
                    other.cancel()
                raise fatal
        out: dict[int, Any] = {}
        for i, fut in futures.items():
            exc = fut.exception()
            if isinstance(exc, _Cancelled):  # not expected: cancel is only set along with a fatal error
                raise EngineError("requests were cancelled without an error; rerun the same command")
            out[i] = exc if exc is not None else fut.result()
        return out

    def _interrupt(self, futures: dict[int, Future], cancel: threading.Event) -> None:
        """Ctrl-C: cancel queued requests, abort in-flight ones, and keep the engine usable (a fresh client)."""
        cancel.set()
        for fut in futures.values():
            fut.cancel()
        old, self._conn = self._conn, _Connections(self._make_client)
        old.abort()

    def _resolve_ambiguous_stops(
        self,
        prepared: dict[int, _Prepared],
        results: list[GenerationResult | None],
        cancel: threading.Event,
    ) -> None:
        """Find which stop token ended a greedy transformers-serve reply (its text drops special tokens).

        One probe per candidate but the last: the same context plus the reply, greedy, `max_tokens=2`, that
        candidate as the only stop token. One generated token means the candidate came next. Sampled replies
        cannot be probed; they keep the first stop token listed (counted in stats["ambiguous_stop_tokens"]).
        """
        todo = [
            i
            for i, res in enumerate(results)
            if i in prepared
            and res is not None
            and res.stop_reason == "stop_token"
            and self.server == "transformers"
            and len(prepared[i].request.stop_token_ids) > 1
            and prepared[i].request.sampling.greedy
            and prepared[i].body.get("_ambiguous")
        ]
        for i in todo:
            prepared[i].body.pop("_ambiguous", None)
        candidates = {i: list(prepared[i].request.stop_token_ids) for i in todo}
        while todo:
            futures = {}
            for i in todo:
                res = results[i]
                assert res is not None
                body = dict(prepared[i].body)
                body["prompt"] = body["prompt"] + res.text
                config = json.loads(body["generation_config"])
                config.update(max_new_tokens=2, min_new_tokens=0, eos_token_id=[candidates[i][0]])
                body["generation_config"] = json.dumps(config)
                body["max_tokens"] = 2
                body.pop("stop", None)
                futures[i] = self._pool.submit(self._post_with_retries, body, cancel)
            replies = self._gather(futures, cancel)
            nxt = []
            for i, data in replies.items():
                res = results[i]
                assert res is not None
                if isinstance(data, _RowError):  # the server refused the probe: keep the first candidate
                    res.stop_token = candidates[i][0]
                    with self._url_lock:
                        self.stats["ambiguous_stop_tokens"] += 1
                    continue
                if int((data.get("usage") or {}).get("completion_tokens", 0)) == 1:
                    res.stop_token = candidates[i][0]
                    continue
                candidates[i].pop(0)
                if len(candidates[i]) == 1:
                    res.stop_token = candidates[i][0]
                else:
                    nxt.append(i)
            todo = nxt

    def close(self) -> None:
        self._pool.shutdown()
        self._conn.abort()

    # ------------------------------------------------------------------ request bodies
    def _body(self, req: GenerationRequest) -> dict[str, Any]:
        tok = self.tokenizer
        stops = list(req.stop_token_ids)
        body: dict[str, Any] = {"model": self.served_model, "max_tokens": int(req.max_new_tokens)}
        if self.prompt_as_ids:
            body["prompt"] = list(req.context_ids)
        else:
            body["prompt"] = tok.decode(list(req.context_ids), skip_special_tokens=False)
        s = req.sampling
        if self.server == "vllm":
            body.update(_standard_sampling(s))
            if s.top_k and s.top_k > 0:
                body["top_k"] = s.top_k
            if s.repetition_penalty != 1.0:
                body["repetition_penalty"] = s.repetition_penalty
            body.update(
                stop_token_ids=stops,
                min_tokens=min(int(req.min_new_tokens), int(req.max_new_tokens)),  # min > max is refused
                ignore_eos=True,  # only the request's stop tokens end a sequence, as in the other engines
                skip_special_tokens=False,
                spaces_between_special_tokens=False,
                include_stop_str_in_output=True,  # cut client-side, so discarded tokens are counted the same way
                return_token_ids=True,
            )
            if req.stop_strings:
                body["stop"] = list(req.stop_strings)
        elif self.server == "transformers":
            if s.frequency_penalty or s.presence_penalty:
                raise EngineError(
                    "transformers serve has no frequency/presence penalty; use repetition_penalty, "
                    f"or serve the model with vLLM ({option('server', 'vllm')})"
                )
            config: dict[str, Any] = {
                "max_new_tokens": int(req.max_new_tokens),
                "min_new_tokens": int(req.min_new_tokens) if stops else 0,
                "eos_token_id": stops or None,
                "pad_token_id": _pad_id(tok),
                "do_sample": not s.greedy,
                "repetition_penalty": s.repetition_penalty,
            }
            if not s.greedy:
                config.update(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k or 0)
            body["generation_config"] = json.dumps(config)
            if req.stop_strings:
                body["stop"] = list(req.stop_strings)
        else:
            if req.min_new_tokens and stops:
                raise EngineError(
                    "this server has no min_tokens option (needed to ignore the end-of-thinking delimiter); "
                    f"use vLLM, SGLang or transformers serve, or pass {option('server', 'vllm')} if it accepts vLLM's fields"
                )
            if (s.top_k and s.top_k > 0) or s.repetition_penalty != 1.0:
                raise EngineError(
                    "top_k and repetition_penalty are not standard OpenAI fields; use a vLLM/SGLang server "
                    f"({option('server', 'vllm')}) or put them in extra_body"
                )
            body.update(_standard_sampling(s))
            stop_text = list(req.stop_strings) + [tok.decode([t], skip_special_tokens=False) for t in stops]
            if stop_text:
                body["stop"] = stop_text
        if req.seed is not None:
            body["seed"] = int(req.seed) % (2**31 - 1)
        body.update(self.extra_body)
        return body

    # ------------------------------------------------------------------ HTTP
    def _pick_url(self) -> int:
        with self._url_lock:
            low = min(self._inflight)
            candidates = [i for i, n in enumerate(self._inflight) if n == low]
            idx = candidates[self.stats["requests"] % len(candidates)]
            self._inflight[idx] += 1
            self.stats["requests"] += 1
            self.per_url_requests[idx] += 1
            return idx

    def _post_with_retries(
        self, body: dict[str, Any], cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        cancel = cancel or threading.Event()
        try:
            return self._try_post(body, cancel)
        except EngineError:
            cancel.set()  # before the caller hears of it, so no queued request of the call starts meanwhile
            raise

    def _try_post(self, body: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
        last: _Transient | None = None
        tries = self.max_retries + 1
        for attempt in range(tries):
            if attempt:
                with self._url_lock:
                    self.stats["retries"] += 1
                if cancel.wait(self._delay(attempt, last.retry_after if last else None)):
                    raise _Cancelled()
            if cancel.is_set():
                raise _Cancelled()
            idx = self._pick_url()
            try:
                return self._post(self.base_urls[idx], body)
            except _Transient as exc:
                if cancel.is_set():  # an aborted read, not a server fault
                    raise _Cancelled() from None
                last = exc
            finally:
                with self._url_lock:
                    self._inflight[idx] -= 1
        assert last is not None
        what = self._redact(str(last))
        if last.unreachable:
            raise EngineError(
                f"cannot reach the server ({what}) after {tries} tries; "
                f"start it or fix {option('base_url')} / OPENAI_BASE_URL"
            )
        if last.timed_out:
            raise EngineError(
                f"the server sent no reply within {self.timeout:g} s ({what}; {tries} tries); check that it is "
                "not stuck, or raise the request timeout or retries if its generations take that long"
            )
        raise EngineError(
            f"server kept failing ({what}) after {tries} tries; "
            "check its log, lower the concurrency, or raise the retries"
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.max_backoff, max(0.0, retry_after))
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * (0.5 + self._rng.random() / 2)  # jitter, so retries from many threads spread out

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        conn = self._conn
        try:
            resp = conn.client.post(f"{url}/completions", json=body, extensions=conn.extensions)
        except httpx.TimeoutException as exc:
            unreachable = isinstance(exc, httpx.ConnectTimeout)
            raise _Transient(
                f"{type(exc).__name__} from {url}", unreachable=unreachable, timed_out=not unreachable
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            unreachable = isinstance(exc, httpx.ConnectError)
            raise _Transient(f"{type(exc).__name__} from {url}", unreachable=unreachable) from None
        if resp.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {resp.status_code} from {url}", retry_after=_retry_after(resp))
        if resp.status_code in (401, 403):
            raise EngineError(
                f"the server at {url} refused the API key (HTTP {resp.status_code}); set {self.api_key_env}"
            )
        if resp.status_code >= 400:
            self._raise_bad_request(url, resp.status_code, _error_message(resp))
        try:
            data = resp.json()
            data["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Transient(f"malformed reply from {url}") from None
        return data

    def _raise_bad_request(self, url: str, status: int, message: str) -> None:
        low = message.lower()
        message = self._redact(message)
        if "pinned" in low or (
            "model" in low and ("not exist" in low or "not found" in low or status == 404)
        ):
            served = self._served_models(url)
            hint = (
                f"pass {option('model')} one of {served}"
                if served
                else "pass the model name the server serves"
            )
            raise EngineError(f"the server at {url} does not serve {self.served_model!r}: {message}; {hint}")
        if status == 404:
            raise EngineError(f"{url}/completions not found (HTTP 404); {option('base_url')} must end in /v1")
        if status == 422 or "unexpected field" in low or "extra inputs" in low or "extra_forbidden" in low:
            raise EngineError(
                f"the server at {url} rejected the request options ({message}); it is not a {self.server} "
                f"server: pass {option('server', 'transformers')} or {option('server', 'openai')} (or auto)"
            )
        raise _RowError(f"HTTP {status} from {url}: {message}")

    def _served_models(self, url: str) -> list[str]:
        try:
            resp = self._conn.client.get(f"{url}/models", timeout=10.0)
            return [str(m.get("id")) for m in resp.json().get("data", [])]
        except Exception:  # noqa: BLE001 - only a hint for an error message
            return []

    def _detect(self) -> str:
        """Which dialect the first server speaks, from GET /v1/models; also checks reachability and the model."""
        import httpx

        url = self.base_urls[0]
        try:
            resp = self._conn.client.get(f"{url}/models", timeout=min(self.timeout, 30.0))
        except httpx.HTTPError as exc:
            raise EngineError(
                f"cannot reach the server at {url} ({type(exc).__name__}); start it (e.g. `vllm serve MODEL` or "
                f"`transformers serve MODEL`) or fix {option('base_url')} / OPENAI_BASE_URL"
            ) from None
        if resp.status_code in (401, 403):
            raise EngineError(
                f"the server at {url} refused the API key (HTTP {resp.status_code}); set {self.api_key_env}"
            )
        if resp.status_code >= 400:
            raise EngineError(
                f"GET {url}/models answered HTTP {resp.status_code}; check {option('base_url')} (it should end in /v1) "
                f"or pass {option('server', 'vllm|transformers|openai')} to skip detection"
            )
        try:
            entries = resp.json().get("data", [])
        except ValueError:
            entries = []
        owners = {str(e.get("owned_by", "")).lower() for e in entries}
        if owners & {"vllm", "sglang"}:
            kind = "vllm"
        elif any(isinstance(e.get("status"), dict) for e in entries):
            kind = "transformers"
        else:
            kind = "openai"
        ids = [str(e.get("id")) for e in entries]
        # vLLM lists exactly what it serves; transformers serve lists its cache too, so it is checked per request
        if kind == "vllm" and ids and self.served_model not in ids:
            raise EngineError(
                f"the server at {url} serves {ids}, not {self.served_model!r}; pass model={ids[0]!r} "
                "(and tokenizer=<local path or hub id> if that name is not loadable here)"
            )
        return kind

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    # ------------------------------------------------------------------ replies
    def _parse(self, data: dict[str, Any], prep: _Prepared) -> GenerationResult:
        tok = self.tokenizer
        req = prep.request
        choice = data["choices"][0]
        text = choice.get("text") or ""
        finish = choice.get("finish_reason")
        stop_reason = choice.get("stop_reason", choice.get("matched_stop"))
        stops = list(req.stop_token_ids)
        usage = data.get("usage") or {}
        reported = usage.get("completion_tokens")
        with self._url_lock:
            self.stats["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
            self.stats["completion_tokens"] += int(reported or 0)
        stop_token: int | None = None
        raw_ids = choice.get("token_ids")
        if isinstance(raw_ids, list):  # vLLM's return_token_ids: the exact generated ids
            ids = [int(t) for t in raw_ids]
            if finish == "stop" and ids and ids[-1] in stops:
                stop_token = ids.pop()
            elif isinstance(stop_reason, int) and stop_reason in stops:
                stop_token = stop_reason
        else:
            ids = list(tok.encode(text, add_special_tokens=False))
            if ids and ids[-1] in stops and finish == "stop":  # a server that kept the stop token in its text
                stop_token = ids.pop()
            elif isinstance(stop_reason, int) and stop_reason in stops:
                stop_token = stop_reason
            elif stops and not isinstance(stop_reason, str) and not _has_stop_string(text, req.stop_strings):
                # The server stopped on a token it does not name (transformers serve strips it from the text):
                # "stop", or "length" when the stop token was the last one allowed (its count says so).
                last_slot = finish == "length" and reported is not None and int(reported) == len(ids) + 1
                if finish == "stop" or last_slot:
                    stop_token = stops[0]
                    if len(stops) > 1:
                        prep.body["_ambiguous"] = True
                        if not req.sampling.greedy or self.server != "transformers":
                            with self._url_lock:
                                self.stats["ambiguous_stop_tokens"] += 1
            if reported is not None and int(reported) != len(ids) + (stop_token is not None):
                with self._url_lock:
                    self.stats["token_count_mismatches"] += 1
        if stop_token is not None:
            return GenerationResult(
                text=_decode(tok, ids), token_ids=ids, stop_reason="stop_token", stop_token=stop_token
            )
        cut = cut_stop_string(tok, ids, req.stop_strings)
        if cut is not None:
            matched, keep = cut
            return GenerationResult(
                text=_decode(tok, ids[:keep]),
                token_ids=ids[:keep],
                stop_reason="stop_string",
                stop_string=matched,
                discarded_tokens=len(ids) - keep,
            )
        if len(ids) > req.max_new_tokens:  # a re-tokenisation that came out longer than the server's count
            ids = ids[: req.max_new_tokens]
        return GenerationResult(text=_decode(tok, ids), token_ids=ids, stop_reason="length")


# ---------------------------------------------------------------------- helpers
def _load_tokenizer(source: Any, revision: str | None, trust_remote_code: bool) -> Any:
    if not isinstance(source, str):
        return source
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EngineError(
            f"cannot load a tokenizer for {source!r} ({first}); pass tokenizer=<local path or hub id> for token counting"
        ) from None


def _seconds(value: Any) -> float | None:
    """A finite number of seconds > 0, or None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    """A whole number >= 0, or None."""
    try:
        number = int(value)
        whole = float(value) == number
    except (TypeError, ValueError, OverflowError):
        return None
    return number if whole and number >= 0 and not isinstance(value, bool) else None


def _pad_id(tok: Any) -> int | None:
    pad = getattr(tok, "pad_token_id", None)
    return pad if pad is not None else getattr(tok, "eos_token_id", None)


def _standard_sampling(s: SamplingParams) -> dict[str, Any]:
    out: dict[str, Any] = {"temperature": float(s.temperature)}
    if not s.greedy:
        out["top_p"] = float(s.top_p)
    if s.frequency_penalty:
        out["frequency_penalty"] = float(s.frequency_penalty)
    if s.presence_penalty:
        out["presence_penalty"] = float(s.presence_penalty)
    return out


def _decode(tok: Any, ids: Sequence[int]) -> str:
    return tok.decode(list(ids), skip_special_tokens=False) if ids else ""


def _has_stop_string(text: str, stop_strings: Sequence[str]) -> bool:
    return any(s and s in text for s in stop_strings)


def cut_stop_string(tok: Any, ids: list[int], stop_strings: Sequence[str]) -> tuple[str, int] | None:
    """(first stop string, number of tokens before it), as the in-process engines cut it; None if absent."""
    stop_strings = [s for s in stop_strings if s]
    if not stop_strings or not ids:
        return None
    text = _decode(tok, ids)
    hits = [(text.find(s), s) for s in stop_strings if s in text]
    if not hits:
        return None
    start, matched = min(hits)
    keep = len(ids)
    while keep > 0 and len(_decode(tok, ids[:keep])) > start:
        keep -= 1
    return matched, keep


def _retry_after(resp: Any) -> float | None:
    value = resp.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_message(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        return (resp.text or "").strip().splitlines()[0][:300] if resp.text else f"HTTP {resp.status_code}"
    err = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
    if isinstance(err, dict):
        err = err.get("message", err)
    return " ".join(str(err).split())[:300]
