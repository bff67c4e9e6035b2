"""GPQA-Diamond: loaded from the user's own copy, never shipped, with a seeded and recorded choice shuffle.

GPQA's authors ask that its text not be published (to keep it out of training data), so s1eval never
ships it. Sources, in order: the `path` argument, the S1EVAL_GPQA_PATH environment variable (both the
official gpqa_diamond.csv), then the gated hub dataset Idavidrein/gpqa (config gpqa_diamond) with the
user's own token. The official CSV always lists the right answer first, so the four choices are shuffled;
the shuffle is derived from (seed, question id) alone, so a question's letters do not depend on which
other rows are loaded, and the seed is kept in each problem's metadata.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from s1eval.data.problem import CHOICE_LETTERS, Problem
from s1eval.errors import DataError, option
from s1eval.jsonl import read_text

ENV_VAR = "S1EVAL_GPQA_PATH"
HUB_DATASET = ("Idavidrein/gpqa", "gpqa_diamond")
REQUIRED_COLUMNS = (
    "Question",
    "Correct Answer",
    "Incorrect Answer 1",
    "Incorrect Answer 2",
    "Incorrect Answer 3",
)
HOW_TO_PROVIDE = (
    f"give {option('gpqa_path', '/path/to/gpqa_diamond.csv')} (or set {ENV_VAR}) pointing at your copy of the official CSV, "
    f"or accept the terms of the gated dataset {HUB_DATASET[0]} on the Hugging Face hub and log in "
    "(hf auth login or HF_TOKEN)"
)


def load_gpqa(path: str | None = None, *, seed: int = 0, use_hub: bool = True) -> list[Problem]:
    """GPQA-Diamond problems from a CSV path, the env var, or the hub (in that order)."""
    chosen = path or os.environ.get(ENV_VAR) or None
    if chosen is not None:
        csv_path = Path(chosen).expanduser()
        if not csv_path.is_file():
            raise DataError(f"GPQA-Diamond file {csv_path} not found: {HOW_TO_PROVIDE}.")
        return problems_from_rows(_read_csv(csv_path), seed=seed, source=str(csv_path))
    if not use_hub:
        raise DataError(f"GPQA-Diamond is not shipped with s1eval: {HOW_TO_PROVIDE}.")
    return problems_from_rows(_read_hub(), seed=seed, source="hub:" + "/".join(HUB_DATASET))


def problems_from_rows(
    rows: Iterable[tuple[str, dict[str, Any]]], *, seed: int, source: str
) -> list[Problem]:
    """(where, row) pairs in the official column layout become Problems with shuffled choices."""
    problems = []
    seen: set[str] = set()
    for where, row in rows:
        question = _cell(row, "Question", where)
        correct = _cell(row, "Correct Answer", where)
        wrong = [_cell(row, f"Incorrect Answer {i}", where) for i in (1, 2, 3)]
        pid = (
            str(row.get("Record ID") or "").strip()
            or "gpqa-" + hashlib.sha256(question.encode()).hexdigest()[:12]
        )
        if pid in seen:
            raise DataError(f"{where}: duplicate question id {pid!r}")
        seen.add(pid)
        order, letter = shuffle_choices(pid, seed)
        options = [correct, *wrong]
        metadata = {
            "shuffle_seed": seed,
            "choice_order": order,
            "source": source,
            "domain": str(row.get("High-level domain") or "").strip(),
            "subdomain": str(row.get("Subdomain") or "").strip(),
        }
        problems.append(
            Problem(
                id=pid,
                question=question,
                answer=letter,
                kind="gpqa",
                choices=tuple(options[i] for i in order),
                metadata=metadata,
            )
        )
    return problems


def shuffle_choices(question_id: str, seed: int) -> tuple[list[int], str]:
    """The choice order for one question (indices into [correct, wrong1, wrong2, wrong3]) and the right letter.

    `random.Random` seeded with a string hashes it with SHA-512, so the order is the same on every
    machine, Python process and PYTHONHASHSEED.
    """
    order = [0, 1, 2, 3]
    random.Random(f"s1eval-gpqa:{seed}:{question_id}").shuffle(order)
    return order, CHOICE_LETTERS[order.index(0)]


def _cell(row: dict[str, Any], column: str, where: str) -> str:
    value = row.get(column)
    if value is None or not str(value).strip():
        raise DataError(f"{where}: empty or missing {column!r}")
    return str(value).strip()


def _read_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import io

    with io.StringIO(read_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DataError(
                f"{path}:1: missing column(s) {', '.join(missing)}; expected the official gpqa_diamond.csv layout"
            )
        rows = []
        try:
            for row in reader:
                rows.append((f"{path}:{reader.line_num}", row))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise DataError(f"{path}: the file has no rows")
    return rows


def _read_hub() -> list[tuple[str, dict[str, Any]]]:
    try:
        import datasets

        dataset = datasets.load_dataset(*HUB_DATASET, split="train")
        return [(f"hub:{HUB_DATASET[0]} row {i}", dict(row)) for i, row in enumerate(dataset)]
    except Exception as exc:  # gated, offline, not installed: all end in the same advice
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise DataError(
            f"GPQA-Diamond is not shipped and the hub load failed ({detail}): {HOW_TO_PROVIDE}."
        ) from None
