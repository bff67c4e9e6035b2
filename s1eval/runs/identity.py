"""A run's identity: everything that decides what its samples are, in one definition for every front end.

The identity is (model + revision or weights fingerprint, engine settings, thinking format, method, method
settings, seed) plus, for benchmark runs, the benchmark and the hash of its questions. Budgets and repeats are
per record (each record's key carries its own budget and seed), so a run may grow by budgets or repeats, but
never by another model or other settings: a store that holds one identity refuses a mismatched reuse with a
one-line error naming what differs, instead of silently merging two runs into one number.

`s1eval eval`, `s1eval generate` and the studies check it against what they write to (the run directory's
manifest, or the identity file beside a `generate` output).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from s1eval.errors import ConfigError
from s1eval.runs.store import ENGINE_VOLATILE_KEYS, canonical_json

IDENTITY_FIELDS = (
    "model",
    "model_revision",
    "engine",
    "format",
    "method",
    "settings",
    "seed",
    "benchmark",
    "data_hash",
)


OMITTED_WHEN_UNSET = ("intervention",)
"""Settings added after runs were on disk: left out while unset, so those runs keep their identity and keys."""


def method_settings(config: Any) -> dict[str, Any]:
    """A method config (dataclass or mapping) as plain JSON values."""
    raw = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    raw = {k: v for k, v in raw.items() if not (k in OMITTED_WHEN_UNSET and v is None)}
    return json.loads(canonical_json(raw))


def run_identity(
    prepared: Any,
    *,
    seed: int | None,
    benchmark: str | None = None,
    data_hash: str | None = None,
) -> dict[str, Any]:
    """The identity of a run of `prepared` (a PreparedMethod) with this seed, on this data."""
    from s1eval.runs.manifest import model_revision

    engine = prepared.engine
    info = {k: v for k, v in dict(engine.describe()).items() if k not in ENGINE_VOLATILE_KEYS}
    identity = {
        "model": engine.model_id,
        "model_revision": model_revision(engine.model_id, info.get("revision")),
        "engine": info,
        "format": prepared.fmt.name,
        "method": prepared.method.name,
        "settings": method_settings(prepared.config),
        "seed": seed,
        "benchmark": benchmark,
        "data_hash": data_hash,
    }
    return json.loads(canonical_json(identity))


def identity_key(identity: Mapping[str, Any]) -> str:
    """A short stable name of an identity (sha256 of its canonical JSON, 16 hex digits)."""
    return hashlib.sha256(canonical_json(dict(identity)).encode("utf-8")).hexdigest()[:16]


def identity_from_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The identity a manifest records (manifests written before identities existed are read field by field)."""
    if isinstance(manifest.get("identity"), Mapping):
        return json.loads(canonical_json(dict(manifest["identity"])))
    settings = dict(manifest.get("settings") or {})
    fmt = settings.pop("format", None)
    seed = settings.pop("seed", None)
    settings.pop("samples", None)
    engine = {k: v for k, v in dict(manifest.get("engine") or {}).items() if k not in ENGINE_VOLATILE_KEYS}
    legacy = {
        "model": manifest.get("model"),
        "model_revision": manifest.get("model_revision"),
        "engine": engine,
        "format": fmt,
        "method": manifest.get("method"),
        "settings": settings,
        "seed": seed,
        "benchmark": manifest.get("benchmark"),
        "data_hash": manifest.get("data_hash"),
    }
    return json.loads(canonical_json(legacy))


def identity_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences, e.g. ["model (A -> B)", "settings.num_extensions (1 -> 2)"]."""
    out: list[str] = []
    for name in IDENTITY_FIELDS:
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    out.append(f"{name}.{key} ({_short(a.get(key))} -> {_short(b.get(key))})")
        else:
            out.append(f"{name} ({_short(a)} -> {_short(b)})")
    return out


def require_same_identity(where: str, old: Mapping[str, Any], new: Mapping[str, Any], fix: str) -> None:
    """Refuse to add samples of identity `new` to a store that holds `old`, naming what differs and the fix."""
    differ = identity_differences(old, new)
    if differ:
        shown = ", ".join(differ[:3]) + (f" and {len(differ) - 3} more" if len(differ) > 3 else "")
        raise ConfigError(f"{where} holds a run with another {shown}; {fix}")


def _short(value: Any, limit: int = 48) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "IDENTITY_FIELDS",
    "identity_differences",
    "identity_from_manifest",
    "identity_key",
    "method_settings",
    "require_same_identity",
    "run_identity",
]
