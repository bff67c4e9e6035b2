"""Throughput of the openai engine against one real `transformers serve`, 1 vs 4 concurrent requests, in one run.

Both settings send the same requests (greedy, no stop tokens, so every request generates exactly
`max_new_tokens`) to the same server process, so the ratio shows what concurrency buys on this server.
`transformers serve` without `--continuous-batching` runs one `generate` at a time on one inference thread,
so on CPU concurrency mostly hides HTTP and tokenisation latency; a vLLM server batches and gains far more.

    .venv/bin/python -m benchmarks.openai_engine [--requests 16] [--max-new-tokens 64] [--no-continuous-batching]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(model: Path, port: int, log: Path, continuous_batching: bool) -> subprocess.Popen:
    import httpx

    exe = Path(sys.executable).with_name("transformers")
    cmd = [str(exe), "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    if continuous_batching:
        cmd.append("--continuous-batching")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"transformers serve exited: {log.read_text()[-1000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("transformers serve did not become ready in 180 s")


def _measure(engine, requests) -> dict:
    before = dict(engine.stats)
    t0 = time.perf_counter()
    results = engine.generate(requests)
    wall = time.perf_counter() - t0
    generated = engine.stats["completion_tokens"] - before["completion_tokens"]
    return {
        "max_concurrency": engine.max_concurrency,
        "requests": len(requests),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(requests) / wall, 3),
        "generated_tokens": generated,
        "generated_tokens_per_s": round(generated / wall, 1),
        "errors": sum(r.stop_reason == "error" for r in results),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument(
        "--continuous-batching",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve with --continuous-batching (without it, transformers serve runs one request at a time)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "openai.json")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from s1eval.engines.base import GenerationRequest
    from s1eval.engines.openai import OpenAIEngine
    from s1eval.formats import S1, build_prompt
    from s1eval.testing.tiny_model import build_tiny_model

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "model", hidden_size=256, layers=4, heads=8, kv_heads=4)
        port = _free_port()
        proc = _start_server(model, port, Path(tmp) / "serve.log", args.continuous_batching)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            runs = []
            for concurrency in (1, 4):
                engine = OpenAIEngine(str(model), url, max_concurrency=concurrency)
                tok = engine.tokenizer
                requests = [
                    GenerationRequest(
                        tok.encode(
                            build_prompt(tok, S1, f"Problem {i}: what is {i} + {i + 1}?"),
                            add_special_tokens=False,
                        ),
                        args.max_new_tokens,
                    )
                    for i in range(args.requests)
                ]
                engine.generate(requests[:2])  # warm-up: the server loads lazily on its first request
                runs.append(_measure(engine, requests))
                server_kind = engine.server
                engine.close()
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    result = {
        "benchmark": "openai_engine",
        "server": f"transformers serve ({server_kind} dialect)"
        + (" --continuous-batching" if args.continuous_batching else ""),
        "model": "tiny qwen2 (hidden 256, 4 layers), CPU",
        "max_new_tokens": args.max_new_tokens,
        "cpu_count": os.cpu_count(),
        "load_average_1min": [
            round(load_before[0], 2),
            round(os.getloadavg()[0], 2),
        ],  # before, after: others' load
        "runs": runs,
        "speedup_4_vs_1": round(runs[1]["generated_tokens_per_s"] / runs[0]["generated_tokens_per_s"], 2),
        "command": "python -m benchmarks.openai_engine "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
