"""The run store: samples written as they complete, so a rerun of the same command resumes where it stopped.

A run directory holds `manifest.json` (written atomically: temp file + fsync + os.replace) and `samples.jsonl`
(one SampleRecord a line, appended under a lock with flush + fsync). A run killed mid-write can leave at most
one torn last line; the store cuts it off before reading or appending, so a killed run never leaves a file
that breaks the next one. Each record carries `key`, the hash of everything that decides its output
(`sample_key`); a rerun skips every key already done.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from s1eval.errors import DataError
from s1eval.jsonl import append_jsonl, cut_torn_tail, read_jsonl

MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"

ENGINE_VOLATILE_KEYS = frozenset({"base_urls", "max_concurrency", "timeout", "max_retries", "batch_size"})
"""describe() fields that change how fast a run goes but not what it writes: left out of the resume key, so
adding a server or changing the batch size still resumes the same run."""

RETRY_OUTCOMES = frozenset({"engine_error"})
"""Outcomes that a rerun tries again instead of counting as done."""


def canonical_json(value: Any) -> str:
    """Key-sorted, compact JSON (tuples as lists, unknown objects as str): the same value, the same text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sample_key(
    model: str,
    engine: Mapping[str, Any],
    prompt: str,
    method: str,
    settings: Mapping[str, Any],
    budget: Any,
    seed: int | None,
) -> str:
    """sha256 of (model, engine settings, prompt, method, method settings, budget, seed): the resume key."""
    engine_id = {k: v for k, v in dict(engine).items() if k not in ENGINE_VOLATILE_KEYS}
    blob = canonical_json(
        {
            "model": model,
            "engine": engine_id,
            "prompt": prompt,
            "method": method,
            "settings": dict(settings),
            "budget": budget,
            "seed": seed,
        }
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def last_per_key(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per key, the last written winning, in first-written order (records without a key are kept).

    This is the one view of a run: resume skips what it holds, and every reader (report, studies, the demo)
    counts exactly these records, so a retried error or a rerun after a torn line is never counted twice.
    """
    by_key: dict[Any, dict[str, Any]] = {}
    for i, rec in enumerate(records):
        by_key[rec.get("key") or ("unkeyed", i)] = dict(rec)
    return list(by_key.values())


def read_latest(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run directory as resume sees them, read without writing (a torn last line is skipped)."""
    path = Path(run_dir) / SAMPLES
    if not path.exists():
        return []
    return last_per_key(row for _, row in read_jsonl(path, skip_torn_tail=True))


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole file or nothing: a reader sees the old file or the new one, never a half-written one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class RunStore:
    """One run directory: the manifest and the append-only sample log."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.run_dir / MANIFEST
        self.samples_path = self.run_dir / SAMPLES
        self._lock = threading.Lock()
        self._repaired = False

    # ------------------------------------------------------------------ manifest
    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        atomic_write_text(
            self.manifest_path, json.dumps(dict(manifest), indent=2, ensure_ascii=False, default=str) + "\n"
        )

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None for a run that has none yet."""
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{self.manifest_path} is not valid JSON ({exc.msg}); delete it to start the run again"
            ) from exc

    def clear(self) -> None:
        """Remove the manifest and every sample (an explicit --overwrite), keeping the folder."""
        with self._lock:
            for path in (self.samples_path, self.manifest_path):
                if path.exists():
                    path.unlink()
            self._repaired = False

    # ------------------------------------------------------------------ samples
    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records, one JSON line each, durably (flush + fsync) and without interleaving threads."""
        records = list(records)
        if any(not rec.get("key") for rec in records):
            raise ValueError("every sample record needs a 'key' (use s1eval.runs.store.sample_key)")
        with self._lock:
            self._repair()
            append_jsonl(self.samples_path, records)

    def records(self) -> list[dict[str, Any]]:
        """Every record written, in order (a key written twice, e.g. an error then its retry, appears twice)."""
        with self._lock:
            self._repair()
            if not self.samples_path.exists():
                return []
            return [row for _, row in read_jsonl(self.samples_path)]

    def done(self, *, include_errors: bool = False) -> dict[str, dict[str, Any]]:
        """Records by key, the last one written winning. Engine errors are not done (a rerun retries them)."""
        out: dict[str, dict[str, Any]] = {}
        for rec in self.records():
            if not include_errors and rec.get("outcome") in RETRY_OUTCOMES:
                continue
            out[rec["key"]] = rec
        return out

    def latest(self) -> list[dict[str, Any]]:
        """One record per key (the last written, errors included), in first-written order: what a report reads."""
        return last_per_key(self.records())

    def _repair(self) -> None:
        """Cut a torn last line (a run killed mid-write) once, before the first read or append. Caller holds the lock."""
        if not self._repaired:
            cut_torn_tail(self.samples_path)
            self._repaired = True
