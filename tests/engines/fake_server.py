"""A small vLLM-shaped OpenAI server on 127.0.0.1 backed by the real tiny model, with injectable faults.

vLLM cannot run here, so this follows the documented shape of `vllm serve`'s `/v1/completions` and
`/v1/chat/completions` (the model's chat template; `add_generation_prompt`, `continue_final_message` and the
sampling extras in the body, as vLLM's chat API takes them): token-id or text prompts, `stop_token_ids`, `min_tokens`, `ignore_eos`, `skip_special_tokens`, `include_stop_str_in_output`,
`return_token_ids` (the reply carries `token_ids`, the stop token included, and `stop_reason`), `/v1/models`
entries `owned_by: "vllm"`, and 404 `{"object": "error", "message": "The model `x` does not exist."}`.
Generation itself is the hf engine on the tiny model, so results can be compared with the hf engine exactly.

`FaultPlan` makes a seeded share of requests fail (429, 500, 503, a reply slower than the client's timeout,
a dropped connection), never more than `max_faults` in all, so a test run always finishes.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from s1eval.engines.base import GenerationRequest, SamplingParams

FAULT_KINDS = ("429", "500", "503", "slow", "drop")
"""The transient faults a client must retry; "400" (a request the server refuses, not retried) is opt-in."""


@dataclass
class FaultPlan:
    seed: int = 0
    rate: float = 0.3
    max_faults: int = 10
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 1.5
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            if sum(self.injected.values()) >= self.max_faults or self._rng.random() >= self.rate:
                return None
            kind = self.kinds[sum(self.injected.values()) % len(self.kinds)]  # every kind gets its turn
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind


class FakeVLLMServer:
    """`with FakeVLLMServer(engine, "tiny") as srv: srv.base_url` -> http://127.0.0.1:PORT/v1."""

    def __init__(
        self, engine: Any, served_name: str, faults: FaultPlan | None = None, api_key: str | None = None
    ):
        self.engine = engine
        self.served_name = served_name
        self.faults = faults
        self.api_key = api_key
        self.completions = 0
        self.inflight = 0
        self.max_inflight = 0
        self.auth_headers: list[str | None] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeVLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ completions
    def complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("model") != self.served_name:
            msg = f"The model `{body.get('model')}` does not exist."
            return 404, {
                "object": "error",
                "message": msg,
                "type": "NotFoundError",
                "param": None,
                "code": 404,
            }
        tok = self.engine.tokenizer
        prompt = body.get("prompt")
        ids = list(prompt) if isinstance(prompt, list) else tok.encode(prompt, add_special_tokens=False)
        stops = [int(t) for t in body.get("stop_token_ids") or []]
        if (
            not body.get("ignore_eos", False)
            and tok.eos_token_id is not None
            and tok.eos_token_id not in stops
        ):
            stops.append(tok.eos_token_id)
        stop_strings = body.get("stop") or []
        stop_strings = [stop_strings] if isinstance(stop_strings, str) else list(stop_strings)
        sampling = SamplingParams(
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            top_k=max(0, int(body.get("top_k", 0))),
            repetition_penalty=float(body.get("repetition_penalty", 1.0)),
            frequency_penalty=float(body.get("frequency_penalty", 0.0)),
            presence_penalty=float(body.get("presence_penalty", 0.0)),
        )
        req = GenerationRequest(
            context_ids=ids,
            max_new_tokens=int(body.get("max_tokens", 16)),
            stop_token_ids=tuple(stops),
            stop_strings=tuple(stop_strings),
            sampling=sampling,
            seed=body.get("seed"),
            min_new_tokens=int(body.get("min_tokens", 0)),
        )
        with self._gen_lock:
            res = self.engine.generate([req])[0]
        out_ids = list(res.token_ids)
        text_ids = list(out_ids)
        stop_reason: int | str | None = None
        if res.stop_reason == "stop_token":
            out_ids.append(res.stop_token)  # vLLM keeps the stop token in token_ids, not in the text
            stop_reason = res.stop_token if res.stop_token in (body.get("stop_token_ids") or []) else None
        skip = body.get("skip_special_tokens", True)
        if (
            res.stop_reason == "stop_token"
            and res.stop_token is not None
            and body.get("include_stop_str_in_output")
        ):
            text_ids.append(
                res.stop_token
            )  # vLLM then detokenizes the stop token too (a special one unless skipped)
        text = tok.decode(text_ids, skip_special_tokens=skip)
        if res.stop_reason == "stop_string":
            stop_reason = res.stop_string
            tail = tok.encode(res.stop_string, add_special_tokens=False)
            out_ids += tail
            if body.get("include_stop_str_in_output"):
                text += res.stop_string
        choice: dict[str, Any] = {
            "index": 0,
            "text": text,
            "logprobs": None,
            "finish_reason": "length" if res.stop_reason == "length" else "stop",
            "stop_reason": stop_reason,
        }
        if body.get("return_token_ids"):
            choice["token_ids"] = out_ids
            choice["prompt_token_ids"] = ids
        usage = {
            "prompt_tokens": len(ids),
            "completion_tokens": len(out_ids),
            "total_tokens": len(ids) + len(out_ids),
        }
        reply = {
            "id": f"cmpl-{self.completions}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.served_name,
            "choices": [choice],
            "usage": usage,
        }
        return 200, reply

    def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """vLLM's chat endpoint: render the messages with the chat template, then complete the text."""
        messages = [
            {"role": m["role"], "content": _text_of(m.get("content"))} for m in body.get("messages", [])
        ]
        continue_final = bool(body.get("continue_final_message", False))
        add_generation = bool(body.get("add_generation_prompt", not continue_final))
        if continue_final and add_generation:
            return 400, {
                "object": "error",
                "message": "continue_final_message and add_generation_prompt cannot both be true",
                "code": 400,
            }
        prompt = self.engine.tokenizer.apply_chat_template(
            messages,
            tokenize=False,
            add_generation_prompt=add_generation,
            continue_final_message=continue_final,
        )
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 16
        status, reply = self.complete({**body, "prompt": prompt, "max_tokens": max_tokens})
        if status != 200:
            return status, reply
        (choice,) = reply["choices"]
        message = {"role": "assistant", "content": choice["text"], "tool_calls": []}
        reply["object"] = "chat.completion"
        reply["choices"] = [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": choice["finish_reason"],
                "stop_reason": choice["stop_reason"],
            }
        ]
        return 200, reply

    # ------------------------------------------------------------------ HTTP plumbing
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                auth = self.headers.get("Authorization")
                with server._lock:
                    server.auth_headers.append(auth)
                if server.api_key and auth != f"Bearer {server.api_key}":
                    self._send(401, {"object": "error", "message": "Unauthorized", "code": 401})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    entry = {
                        "id": server.served_name,
                        "object": "model",
                        "owned_by": "vllm",
                        "max_model_len": 4096,
                    }
                    self._send(200, {"object": "list", "data": [entry]})
                else:
                    self._send(404, {"detail": "Not Found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorised():
                    return
                route = {"/v1/completions": server.complete, "/v1/chat/completions": server.chat}.get(
                    self.path.rstrip("/")
                )
                if route is None:
                    self._send(404, {"detail": "Not Found"})
                    return
                with server._lock:
                    server.inflight += 1
                    server.max_inflight = max(server.max_inflight, server.inflight)
                    server.bodies.append(body)
                try:
                    fault = server.faults.draw() if server.faults else None
                    if fault == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if fault in ("400", "429", "500", "503"):
                        headers = {"Retry-After": "0"} if fault == "429" else {}
                        self._send(int(fault), {"object": "error", "message": f"injected {fault}"}, headers)
                        return
                    if fault == "slow":
                        time.sleep(server.faults.slow_seconds)
                    status, reply = route(body)
                    with server._lock:
                        server.completions += 1
                    try:
                        self._send(status, reply)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                finally:
                    with server._lock:
                        server.inflight -= 1

        return Handler


def _text_of(content: Any) -> str:
    """An OpenAI message's content as text (a string, or a list of {"type": "text", "text": ...} parts)."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))
