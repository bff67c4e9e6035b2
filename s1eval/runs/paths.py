"""Output paths checked before any work starts, so a run never loses a finished chunk to a folder it cannot write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from s1eval.errors import ConfigError


def require_writable_dir(path: Path | str, flag: str) -> None:
    """Refuse a directory that cannot be created or written (probed with a temp file, which works as root too);
    a directory created only for the probe is removed again, so a refused command leaves nothing behind."""
    try:
        why = _unwritable(Path(path))
    except OSError as exc:  # a folder on the way that cannot be entered
        why = exc.strerror or type(exc).__name__
    if why:
        raise ConfigError(f"{flag} {path} cannot be written ({why}); give a folder you can write to")


def require_writable_file(path: Path | str, flag: str) -> None:
    """Refuse an output file whose folder cannot be written, or that exists and is read-only or a folder."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"{flag} {path} is a folder; give a file name such as {path / 'out.jsonl'}")
        why = _unwritable(path.parent)
        if not why and path.exists() and not os.access(path, os.W_OK):
            why = "read-only"
    except OSError as exc:  # a folder on the way that cannot be entered
        why = exc.strerror or type(exc).__name__
    if why:
        raise ConfigError(f"{flag} {path} cannot be written ({why}); give a path you can write to")


def _unwritable(path: Path) -> str | None:
    """Why `path` cannot hold new files, or None; folders made for the probe are removed again."""
    created: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".s1eval-probe-"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    finally:
        for folder in created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                pass
    return None
