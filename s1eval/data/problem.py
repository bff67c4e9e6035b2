"""The one record every benchmark row becomes, and the two views of it the rest of s1eval needs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from s1eval.scoring.extract import CHOICE_LETTERS


@dataclass(frozen=True)
class Problem:
    """One benchmark question. `answer` is the gold answer as a string (a letter for multiple choice)."""

    id: str
    question: str
    answer: str
    kind: str
    choices: tuple[str, ...] | None = None
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "kind": self.kind,
            "choices": list(self.choices) if self.choices is not None else None,
            "metadata": dict(self.metadata),
        }


def format_question(problem: Problem) -> str:
    """The question text the model sees: for multiple choice, the (shuffled) choices as "A) ..." lines."""
    if not problem.choices:
        return problem.question
    lines = [f"{CHOICE_LETTERS[i]}) {choice}" for i, choice in enumerate(problem.choices)]
    return problem.question.rstrip() + "\n\n" + "\n".join(lines)


def data_hash(problems: Iterable[Problem]) -> str:
    """sha256 of what the model is asked and scored against (ids, questions, answers, kinds, choices).

    Metadata is left out on purpose, so a file's location or an added note does not change the hash while
    any change to a question, a gold answer or the GPQA choice order does.
    """
    canonical = [
        {"id": p.id, "question": p.question, "answer": p.answer, "kind": p.kind, "choices": p.choices}
        for p in problems
    ]
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
