"""Helpers for tests against a real `transformers serve`: a text-safe tiny model and a managed server process.

`transformers serve` takes text prompts and returns text with special tokens stripped, so an engine talking to
it sees token ids only through the tokenizer. A trained model almost always writes text that re-tokenises to
the ids it generated; a random tiny model does not (it writes stray bytes and odd splits). `build_text_safe_model`
builds the shared tiny model with a byte-only vocabulary (no merges: every byte string has one tokenisation)
and silences every token that would not survive decode -> encode (non-printable bytes, unused special tokens),
so greedy results through the server can be compared with the hf engine token for token.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LIVE_SPECIALS = ("<|im_start|>", "<|im_end|>")


def build_text_safe_model(out_dir: str | Path, seed: int = 0) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from s1eval.testing.tiny_model import SPECIAL_TOKENS, build_tiny_model

    path = build_tiny_model(out_dir, vocab_size=256 + len(SPECIAL_TOKENS), seed=seed)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    silence = []
    for tid in range(len(tok)):
        text = tok.decode([tid], skip_special_tokens=False)
        if text in LIVE_SPECIALS:
            continue
        ok = len(text) == 1 and (text.isprintable() and text.isascii() or text == "\n")
        if not ok or text in "<|>":
            silence.append(tid)
    with torch.no_grad():
        model.get_output_embeddings().weight[silence] = 0.0  # tied: these tokens never appear in our inputs
    model.save_pretrained(path)
    return Path(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`transformers serve MODEL` on 127.0.0.1; started with a bounded readiness wait, always killed."""

    def __init__(self, model: str | Path, port: int | None = None, ready_timeout: float = 120.0):
        self.model = str(model)
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, log_path: str | Path) -> ServeProcess:
        exe = Path(sys.executable).with_name("transformers")
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
        self.log_path = Path(log_path)
        log = open(self.log_path, "ab")
        cmd = [
            str(exe),
            "serve",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited early: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"transformers serve not ready after {self.ready_timeout}s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
