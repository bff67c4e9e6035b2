"""The demo's reasoning task: a modular counter that a tiny model can only solve step by step.

"Start at 3. Add 4 mod 10, 9 times." The trace writes every step as `k:v` ("1:7 2:1 3:5 ... 9:9") and the
answer is the last value ("Final Answer: 9"). Each step is trivially learnable (the previous value plus a
constant, mod 10), but the answer needs all of them: a trace cut short by a budget cap makes the model answer
the partial value, so accuracy rises with the thinking budget.

Traces of long problems behave like a lazy reasoning model's: most stop at step `LAZY_STEP` and answer that
partial value (wrong); the rest reach the same point, say "Wait" and finish correctly. Some complete traces
re-check the last step after "Wait". Greedy decoding of a model trained on this therefore stops early on long
problems, and budget forcing's suppressed delimiter + "Wait" makes it finish: the paper's extrapolation.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from s1eval.data import Problem

MODULUS = 10
STEP_SIZES = (1, 2, 3, 4, 6, 7, 8, 9)  # 5 is left out: its period 2 makes half the partial answers right
OPS = ("add", "sub")
MAX_STEPS = 12
LONG_FROM = 7
"""Problems with at least this many steps are 'long': their traces may stop lazily at LAZY_STEP."""
LAZY_STEP = 4
KIND = "integer"
BENCHMARK = "modcounter"


@dataclass(frozen=True)
class Spec:
    """One counter problem: start value, operation, step size and number of steps."""

    start: int
    op: str
    step: int
    n: int

    @property
    def domain(self) -> str:
        return f"{self.op} {self.step}"

    @property
    def long(self) -> bool:
        return self.n >= LONG_FROM

    def question(self) -> str:
        verb = "Add" if self.op == "add" else "Subtract"
        return f"Start at {self.start}. {verb} {self.step} mod {MODULUS}, {self.n} times."

    def values(self) -> list[int]:
        """The counter after each step (values[k-1] is the value after step k)."""
        sign = 1 if self.op == "add" else -1
        out, v = [], self.start
        for _ in range(self.n):
            v = (v + sign * self.step) % MODULUS
            out.append(v)
        return out

    def answer(self) -> int:
        return self.values()[-1]


def steps_text(values: list[int], first: int = 1) -> str:
    return " ".join(f"{k}:{v}" for k, v in enumerate(values, start=first))


@dataclass(frozen=True)
class Trace:
    """A reasoning trace and the answer it ends in; `style` says how it was written."""

    thinking: str
    answer: int
    style: str  # full | lazy | wait | recheck

    @property
    def answer_text(self) -> str:
        return f"Final Answer: {self.answer}"


def write_trace(spec: Spec, rng: random.Random, *, lazy_share: float = 0.65, recheck_share: float = 0.2) -> Trace:
    """A trace as a lazy-but-correctable reasoner writes it (see the module docstring)."""
    values = spec.values()
    if spec.long and rng.random() < lazy_share:
        return Trace(steps_text(values[:LAZY_STEP]), values[LAZY_STEP - 1], "lazy")
    if spec.long:
        text = steps_text(values[:LAZY_STEP]) + "\nWait " + steps_text(values[LAZY_STEP:], LAZY_STEP + 1)
        style = "wait"
    else:
        text, style = steps_text(values), "full"
    if rng.random() < recheck_share:
        text += f"\nWait {spec.n}:{values[-1]}"
        style = "recheck" if style == "full" else style
    return Trace(text, values[-1], style)


def all_specs(max_steps: int = MAX_STEPS) -> list[Spec]:
    return [
        Spec(start, op, step, n)
        for start in range(MODULUS)
        for op in OPS
        for step in STEP_SIZES
        for n in range(1, max_steps + 1)
    ]


def split_specs(test_size: int, seed: int, min_test_steps: int = 2) -> tuple[list[Spec], list[Spec]]:
    """(pool specs, held-out test specs): disjoint, the test set balanced over lengths min_test_steps..12."""
    rng = random.Random(seed)
    specs = all_specs()
    by_n: dict[int, list[Spec]] = {}
    for s in specs:
        by_n.setdefault(s.n, []).append(s)
    lengths = list(range(min_test_steps, MAX_STEPS + 1))
    test: list[Spec] = []
    for i in range(test_size):
        n = lengths[i % len(lengths)]
        pick = rng.choice(by_n[n])
        by_n[n].remove(pick)
        test.append(pick)
    held = set(test)
    return [s for s in specs if s not in held], test


def to_problem(spec: Spec, index: int) -> Problem:
    return Problem(
        id=f"{BENCHMARK}-{index:04d}",
        question=spec.question(),
        answer=str(spec.answer()),
        kind=KIND,
        metadata={"steps": spec.n, "long": spec.long, "domain": spec.domain},
    )


def test_problems(specs: list[Spec]) -> list[Problem]:
    return [to_problem(s, i) for i, s in enumerate(specs)]


def write_problems(problems: list[Problem], path: str | Path) -> Path:
    """The test set as a custom jsonl benchmark (`s1eval eval --benchmark PATH` reads it)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="\n") as fh:
        for prob in problems:
            row = {"id": prob.id, "question": prob.question, "answer": prob.answer, "kind": prob.kind}
            row |= {"steps": prob.metadata["steps"], "long": prob.metadata["long"], "domain": prob.metadata["domain"]}
            fh.write(json.dumps(row) + "\n")
    return p


def tokenizer_corpus(seed: int = 0, size: int = 400) -> Iterator[str]:
    """Texts of the task's layout, so the demo tokenizer learns its words and numbers as single tokens."""
    rng = random.Random(seed)
    specs = all_specs()
    for _ in range(size):
        spec = rng.choice(specs)
        trace = write_trace(spec, rng)
        yield f"{spec.question()}\n{trace.thinking}\n{trace.answer_text}"
