"""Reading JSON Lines benchmark files: the shipped ones and users' own custom tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1eval.data.problem import Problem
from s1eval.errors import DataError
from s1eval.jsonl import read_jsonl
from s1eval.scoring.extract import KINDS, to_integer

_ID_FIELDS = ("id", "unique_id")
_QUESTION_FIELDS = ("question", "problem")
_ANSWER_FIELDS = ("answer",)


def read_rows(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every row; a bad or non-object line is a one-line DataError naming it."""
    rows = read_jsonl(path)
    for lineno, row in rows:
        if not isinstance(row, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
    if not rows:
        raise DataError(f"{path}: the file has no rows")
    return rows


def problems_from_jsonl(
    path: str | Path, *, kind: str | None = None, default_kind: str = "math"
) -> list[Problem]:
    """Rows with id/question/answer/kind (or unique_id/problem/answer) become Problems.

    `kind` overrides every row's kind; otherwise a row's own `kind` is used, else `default_kind`.
    Optional `choices` (a list) makes a multiple-choice row; every other field goes to metadata.
    """
    path = Path(path)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for lineno, row in read_rows(path):
        where = f"{path}:{lineno}"
        question = _first(row, _QUESTION_FIELDS)
        answer = _first(row, _ANSWER_FIELDS)
        if question is None or answer is None:
            missing = "question (or problem)" if question is None else "answer"
            raise DataError(
                f"{where}: missing field {missing}; rows need id, question, answer and optionally kind"
            )
        row_kind = kind or row.get("kind") or default_kind
        if row_kind not in KINDS:
            raise DataError(f"{where}: unknown kind {row_kind!r}; expected one of {', '.join(KINDS)}")
        answer = str(answer).strip()
        if row_kind in ("aime", "integer") and to_integer(answer, allow_negative=True) is None:
            raise DataError(f"{where}: kind {row_kind} needs an integer answer, got {answer!r}")
        pid = _first(row, _ID_FIELDS)
        pid = str(pid) if pid is not None else f"{path.stem}-{lineno}"
        if pid in seen:
            raise DataError(f"{where}: duplicate id {pid!r} (first on line {seen[pid]})")
        seen[pid] = lineno
        choices = row.get("choices")
        if choices is not None and (
            not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)
        ):
            raise DataError(f"{where}: choices must be a list of strings")
        used = {"kind", "choices", *_ID_FIELDS, *_QUESTION_FIELDS, *_ANSWER_FIELDS}
        metadata = {k: v for k, v in row.items() if k not in used}
        problems.append(
            Problem(
                id=pid,
                question=str(question),
                answer=answer,
                kind=row_kind,
                choices=tuple(choices) if choices is not None else None,
                metadata=metadata,
            )
        )
    return problems


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if row.get(name) is not None:
            return row[name]
    return None
