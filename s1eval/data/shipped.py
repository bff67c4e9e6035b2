"""The benchmark files shipped as package data (s1eval/data/benchmarks/, also reachable as tasks/data/ in a
checkout), checked against their recorded sha256."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from s1eval.errors import ConfigError, DataError

SHIPPED: dict[str, tuple[str, str]] = {
    # name: (file, kind)
    "aime24": ("aime24.jsonl", "aime"),
    "aime25": ("aime25.jsonl", "aime"),
    "math500": ("math500.jsonl", "math"),
}


def shipped_path(name: str) -> Path:
    """Where a shipped benchmark file lives in the installed package."""
    filename = SHIPPED[name][0]
    path = Path(str(resources.files("s1eval.data").joinpath("benchmarks", filename)))
    if not path.is_file():
        raise DataError(f"{path}: shipped data file is missing; reinstall s1eval (pip install -e .)")
    _verify(path)
    return path


@cache
def _expected() -> dict[str, str]:
    sums = Path(str(resources.files("s1eval.data").joinpath("benchmarks", "checksums.sha256")))
    out = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, filename = line.split()
            out[filename] = digest
    return out


@cache
def _verify_cached(path: Path, mtime_ns: int, size: int) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = _expected().get(path.name)
    if expected is not None and digest != expected:
        raise DataError(
            f"{path}: sha256 {digest[:12]}... differs from s1eval/data/benchmarks/checksums.sha256 ({expected[:12]}...); "
            "restore the file or pass your own copy with path=..."
        )


def file_or_shipped(config: str | Path, folder: Path, what: str) -> Path:
    """A file the user names, else the shipped `folder/<config>.yaml` (`s1eval curate s1k`, `s1eval train cpu_tiny`
    work after `pip install s1eval`, with no checkout)."""
    path = Path(config)
    if path.is_file():
        return path
    for candidate in (folder / f"{config}.yaml", folder / str(config)):
        if candidate.is_file():
            return candidate
    shipped = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
    raise ConfigError(
        f"no {what} {str(config)!r} (file not found); give the path of a YAML file or one of: {shipped}"
    )


def _verify(path: Path) -> None:
    stat = path.stat()
    _verify_cached(path, stat.st_mtime_ns, stat.st_size)
