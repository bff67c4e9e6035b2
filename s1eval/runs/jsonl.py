"""JSON Lines reading and crash-safe appending.

A record is one line written with a single `write` and flushed + fsynced, so a killed process leaves at most
one torn last line, which readers skip (and `JsonlWriter` cuts off before appending again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from s1eval.errors import DataError


def read_jsonl(path: Path | str, *, strict: bool = False) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed row). Non-strict mode skips a torn last line; strict mode names bad lines."""
    path = Path(path)
    with path.open("r", encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    last = len(lines)
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            torn = lineno == last and not strict  # no newline after it: a write cut short
            if torn:
                return
            raise DataError(f"{path} line {lineno}: not valid JSON ({exc.msg}); fix or remove that line") from exc


def _cut_torn_tail(path: Path) -> None:
    """Drop a partial last line left by a killed writer."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        fh.seek(cut)
        fh.truncate()


class JsonlWriter:
    """Append records to a JSONL file, each durable once `write_many` returns."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __enter__(self) -> JsonlWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(self.path)
        self._fh = self.path.open("a", encoding="utf-8")
        return self

    def write_many(self, records: Iterable[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if not text:
            return
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def __exit__(self, *exc: object) -> None:
        self._fh.close()
