"""JSON Lines: reading with one-line errors, and crash-safe appending. The one implementation in s1eval.

A record is written as whole lines with a single `write`, flushed and fsynced, so a killed process leaves at
most one torn last line (no newline after it). Readers can skip it; writers cut it off before appending.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from s1eval.errors import DataError


def read_jsonl(path: Path | str, *, skip_torn_tail: bool = False) -> list[tuple[int, Any]]:
    """(line number, parsed value) for every non-blank line.

    A bad line is a one-line DataError naming the file and line; with `skip_torn_tail`, a bad *last* line
    without a newline (a write cut short by a kill) is skipped instead.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    data = path.read_bytes()
    if skip_torn_tail and data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        try:
            data[cut:].decode("utf-8")
        except UnicodeDecodeError:  # a kill in the middle of a multi-byte character
            data = data[:cut]
    text = decode_text(data, path)
    lines = text.split("\n")
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if skip_torn_tail and lineno == len(lines):
                break
            raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg}); fix or remove that line") from None
        if _SURROGATE_ESCAPE.search(line):
            _require_encodable(value, f"{path}:{lineno}")
        rows.append((lineno, value))
    return rows


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)


def read_text(path: Path) -> str:
    """A UTF-8 text file; any other encoding is a one-line error naming the file and the byte."""
    return decode_text(path.read_bytes(), path)


def decode_text(data: bytes, path: Path) -> str:
    """`data` (read from `path`) as UTF-8, with a one-line error naming the file, line and byte otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None


def _require_encodable(value: Any, where: str) -> None:
    """A JSON string escape can spell half a UTF-16 pair ("\\ud800"), which no tokenizer or file takes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(
                f"{where}: a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape); "
                "fix that row's text"
            ) from None
    elif isinstance(value, dict):
        for item in value.values():
            _require_encodable(item, where)
    elif isinstance(value, list):
        for item in value:
            _require_encodable(item, where)


def cut_torn_tail(path: Path | str) -> None:
    """Drop a partial last line left by a killed writer, so the file is whole lines again."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        fh.truncate(_after_last_newline(fh, size))
        fh.flush()
        os.fsync(fh.fileno())


def _after_last_newline(fh, size: int) -> int:
    block = 65536
    pos = size
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        chunk = fh.read(pos - start)
        idx = chunk.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        pos = start
    return 0


def append_jsonl(path: Path | str, records: Iterable[Mapping[str, Any]]) -> int:
    """Append records durably (one write, flush, fsync); returns how many were written."""
    lines = [json.dumps(dict(r), ensure_ascii=False, default=str) + "\n" for r in records]
    if not lines:
        return 0
    with open(path, "ab") as fh:
        fh.write("".join(lines).encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


class JsonlWriter:
    """Append to a JSONL file across many calls, each durable once `write_many` returns."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __enter__(self) -> JsonlWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cut_torn_tail(self.path)
        return self

    def write_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        append_jsonl(self.path, records)

    def __exit__(self, *exc: object) -> None:
        return None
