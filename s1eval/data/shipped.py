"""The benchmark files shipped in the `tasks.data` package, checked against their recorded sha256."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from s1eval.errors import DataError

SHIPPED: dict[str, tuple[str, str]] = {
    # name: (file, kind)
    "aime24": ("aime24.jsonl", "aime"),
    "aime25": ("aime25.jsonl", "aime"),
    "math500": ("math500.jsonl", "math"),
}


def shipped_path(name: str) -> Path:
    """Where a shipped benchmark file lives in the installed package."""
    filename = SHIPPED[name][0]
    path = Path(str(resources.files("tasks.data").joinpath(filename)))
    if not path.is_file():
        raise DataError(f"{path}: shipped data file is missing; reinstall s1eval (pip install -e .)")
    _verify(path)
    return path


@cache
def _expected() -> dict[str, str]:
    sums = Path(str(resources.files("tasks.data").joinpath("checksums.sha256")))
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
            f"{path}: sha256 {digest[:12]}... differs from tasks/data/checksums.sha256 ({expected[:12]}...); "
            "restore the file or pass your own copy with path=..."
        )


def _verify(path: Path) -> None:
    stat = path.stat()
    _verify_cached(path, stat.st_mtime_ns, stat.st_size)
