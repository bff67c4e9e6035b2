"""The demo's reasoning task: a modular counter that a tiny model can only solve step by step.

"Start at 3. Add 4 mod 10, 9 times." The trace writes the start and then one line per step, each saying how
many steps are left (this one included), what is added and the new value: "3 9:+4=7 8:+4=1 ... 1:+4=9". The
answer is the last value ("Final Answer: 9"). A line is trivially learnable (the previous value plus a
constant, mod 10), but the answer needs all of them: a trace cut short by a budget cap makes the model answer
a partial value, so accuracy rises with the thinking budget. Subtraction is written as the equivalent
addition ("Subtract 4" -> "+6").

Traces of long problems (more than LAZY_LEFT steps) behave like a lazy reasoning model's: most stop once
LAZY_LEFT steps are left and answer that partial value (wrong); the rest reach the same point, say "Wait" and
finish correctly. Finished traces sometimes re-check the last line after "Wait", once or more. Greedy decoding
of a model trained on this stops early on long problems, and budget forcing's suppressed end-of-thinking +
"Wait" makes it finish: the paper's extrapolation, on a task where every decision is visible on the last line.
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
MAX_STEPS = 10
LAZY_LEFT = 4
"""Traces of problems with more than LAZY_LEFT steps ('long' problems) may stop once LAZY_LEFT steps are left."""
MAX_RECHECKS = 4
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
        return self.n > LAZY_LEFT

    @property
    def increment(self) -> int:
        """The step as an addition mod 10 (subtracting 4 is adding 6): what every trace line adds."""
        return self.step if self.op == "add" else (MODULUS - self.step) % MODULUS

    def question(self) -> str:
        verb = "Add" if self.op == "add" else "Subtract"
        return f"Start at {self.start}. {verb} {self.step} mod {MODULUS}, {self.n} times."

    def values(self) -> list[int]:
        """The counter after each step (values[k-1] is the value after step k)."""
        out, v = [], self.start
        for _ in range(self.n):
            v = (v + self.increment) % MODULUS
            out.append(v)
        return out

    def answer(self) -> int:
        return self.values()[-1]

    def line(self, k: int) -> str:
        """Step k (1-based) as the trace writes it: steps to go (this one included), the operation and the
        new value ("9:+4=7" is the first of 9 steps from 3). The last line of a finished trace starts "1:"."""
        return f"{self.n - k + 1}:+{self.increment}={self.values()[k - 1]}"

    def lines(self, first: int, last: int) -> str:
        return " ".join(self.line(k) for k in range(first, last + 1))


@dataclass(frozen=True)
class Trace:
    """A reasoning trace and the answer it ends in; `style` says how it was written."""

    thinking: str
    answer: int
    style: str  # full | lazy | wait | recheck

    @property
    def answer_text(self) -> str:
        return f"Final Answer: {self.answer}"


def write_trace(
    spec: Spec,
    rng: random.Random,
    *,
    lazy_share: float = 0.8,
    recheck_share: float = 0.5,
    again_share: float = 0.25,
) -> Trace:
    """A trace as a lazy-but-correctable reasoner writes it (see the module docstring).

    Every decision is local to the text: a line says how many steps are left, so 'LAZY_LEFT left, stop or
    Wait' and '0 left, done' are both visible on the last line, which is what lets a tiny model learn them.
    """
    values = spec.values()
    lazy_at = spec.n - LAZY_LEFT  # the step after which LAZY_LEFT steps are left
    head = f"{spec.start} "
    if spec.long and rng.random() < lazy_share:
        return Trace(head + spec.lines(1, lazy_at), values[lazy_at - 1], "lazy")
    if spec.long:
        text = head + spec.lines(1, lazy_at) + "\nWait " + spec.lines(lazy_at + 1, spec.n)
        style = "wait"
    else:
        text, style = head + spec.lines(1, spec.n), "full"
    checks = 0
    # re-check the last step, and rarely again: a forced 'Wait' is in-distribution, a greedy loop is not
    while checks < MAX_RECHECKS and rng.random() < (again_share if checks else recheck_share):
        text += "\nWait " + spec.line(spec.n)
        checks += 1
    if checks and style == "full":
        style = "recheck"
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
            row |= {
                "steps": prob.metadata["steps"],
                "long": prob.metadata["long"],
                "domain": prob.metadata["domain"],
            }
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
