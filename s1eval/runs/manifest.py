"""What a run directory says about itself: versions, model revision, data hash, command line, engine, hardware.

`s1eval report` shows these beside the numbers, so a result can be traced to the code, weights and data that
made it. Everything here is read locally (no network): the model revision comes from a hub snapshot path or
the local hub cache.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = ("torch", "transformers", "vllm", "lm_eval", "inspect_ai", "math_verify", "httpx", "datasets")
_DIST_NAMES = {"lm_eval": "lm-eval", "inspect_ai": "inspect-ai", "math_verify": "math-verify"}
_SNAPSHOT = re.compile(r"snapshots[/\\]([0-9a-f]{40})")


def versions() -> dict[str, str]:
    """Installed versions of s1eval and the packages that shape its results (missing ones left out)."""
    import s1eval

    out = {"s1eval": s1eval.__version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(_DIST_NAMES.get(name, name))
        except metadata.PackageNotFoundError:
            continue
    return out


def model_revision(model: str, revision: str | None = None) -> str | None:
    """The commit hash of the weights when it can be known offline, else the revision asked for (or None)."""
    match = _SNAPSHOT.search(str(model))
    if match:
        return match.group(1)
    path = Path(str(model)).expanduser()
    if path.exists():
        resolved = _SNAPSHOT.search(str(path.resolve()))
        if resolved:
            return resolved.group(1)
        return revision or local_fingerprint(path)
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(str(model), "config.json", revision=revision)
    except Exception:  # noqa: BLE001 - a malformed id or no hub library: the revision is simply unknown
        return revision
    if isinstance(cached, str):
        match = _SNAPSHOT.search(cached)
        if match:
            return match.group(1)
    return revision


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
_SAMPLE_BYTES = 1 << 16


def local_fingerprint(path: Path) -> str | None:
    """`local:<hash>` of a model folder's config and weight files (name, size, first and last 64 KiB of each).

    A local path says nothing about which weights it holds (a model retrained into the same folder keeps the
    name), so runs are told apart by this. Reading the ends of the files keeps it fast for large models.
    """
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    files = sorted(
        p for p in path.iterdir() if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name == "config.json")
    )
    if not files:
        return None
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.name}:{size}:".encode())
        with open(file, "rb") as fh:
            digest.update(fh.read(_SAMPLE_BYTES))
            if size > 2 * _SAMPLE_BYTES:
                fh.seek(size - _SAMPLE_BYTES)
                digest.update(fh.read(_SAMPLE_BYTES))
    return "local:" + digest.hexdigest()[:16]


def hardware() -> dict[str, Any]:
    """CPU count, platform and GPU names (through torch when it is installed)."""
    out: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": [],
    }
    try:
        import torch

        if torch.cuda.is_available():
            out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no torch or a broken CUDA setup: report no GPUs
        pass
    return out


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as a shell would retype it."""
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = Path(args[0]).name
    return shlex.join(args)


def build_manifest(
    *,
    model: str,
    engine: Mapping[str, Any],
    method: str,
    settings: Mapping[str, Any],
    budgets: Sequence[Any],
    benchmark: str,
    data_hash: str,
    num_questions: int,
    run_id: str | None = None,
    label: str | None = None,
    model_revision_hint: str | None = None,
    model_variant: str | None = None,
    argv: Sequence[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A RunManifest (s1eval.runs.schema) filled with everything that can be found out locally."""
    vers = versions()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest: dict[str, Any] = {
        "run_id": run_id or f"{benchmark}-{method}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}",
        "label": label or method.upper(),
        "model": model,
        "model_revision": model_revision(model, model_revision_hint or engine.get("revision")),
        "model_variant": model_variant,
        "engine": dict(engine),
        "method": method,
        "settings": dict(settings),
        "budgets": list(budgets),
        "benchmark": benchmark,
        "data_hash": data_hash,
        "num_questions": num_questions,
        "s1eval_version": vers["s1eval"],
        "versions": vers,
        "command": command_line(argv),
        "hardware": hardware(),
        "created": created,
    }
    manifest.update(extra)
    return manifest
