"""A synthetic question pool with known properties, for testing every curation stage exactly.

Clean questions are made of invented words (so they never overlap a real eval question by accident) and carry
a unique tag (so they are never duplicates). Defects are planted on distinct rows and recorded, so a test can
compare "what the stage removed" with "what was planted" as sets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
EVAL_FILES = {"math500": DATA / "math500_sample.jsonl", "aime24": DATA / "aime24_sample.jsonl"}
DOMAIN_WEIGHTS = {
    "d0 Algebra": 0.40,
    "d1 Geometry": 0.20,
    "d2 Number theory": 0.12,
    "d3 Combinatorics": 0.08,
    "d4 Probability": 0.08,
    "d5 Physics": 0.05,
    "d6 Chemistry": 0.04,
    "d7 Biology": 0.03,
}
TINY_DOMAIN = "d8 Puzzles"
TINY_SIZE = 5
SOURCES = {"numina": 0.5, "olympiad": 0.25, "aime_old": 0.15, "sciq": 0.10}
ART = "Consider the grid below.\n+---+---+\n| A | B |\n+---+---+\n| C | D |\n+---+---+\nFind {tail}"


def norm_words(text: str) -> list[str]:
    """The decontamination word split, restated here so the test does not trust the code under test."""
    return re.findall(r"[a-z0-9]+", text.lower())


def eval_questions() -> dict[str, list[str]]:
    out = {}
    for name, path in EVAL_FILES.items():
        out[name] = [json.loads(line)["problem"] for line in path.read_text().splitlines() if line.strip()]
    return out


@dataclass
class SynthPool:
    """The raw pool (plain column names) and the pool indices of every planted property."""

    df: pd.DataFrame
    planted: dict[str, set[int]] = field(default_factory=dict)  # quality reason -> rows
    contaminated: dict[str, set[int]] = field(default_factory=dict)  # eval set -> rows
    near_miss: set[int] = field(default_factory=set)  # 7-word overlap: must stay
    easy: dict[str, set[int]] = field(default_factory=dict)  # "qwen7b" / "qwen32b" / "both" -> rows
    duplicate_of: dict[int, int] = field(default_factory=dict)  # copy -> original


def _vocab(rng: np.random.Generator, size: int = 3000) -> np.ndarray:
    syl = [
        "ka",
        "lo",
        "mi",
        "zu",
        "re",
        "ta",
        "vo",
        "ne",
        "si",
        "pu",
        "gri",
        "dax",
        "bel",
        "quo",
        "fen",
        "yar",
    ]
    words = set()
    while len(words) < size:
        k = int(rng.integers(2, 4))
        words.add("".join(rng.choice(syl, k)))
    return np.array(sorted(words))


def make_pool(n: int = 3000, seed: int = 0) -> SynthPool:
    """n rows; see the module docstring. Row i gets pool_index i."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(rng)
    evals = eval_questions()

    def text(k: int) -> str:
        return " ".join(rng.choice(vocab, k))

    domains = list(DOMAIN_WEIGHTS)
    dom = rng.choice(domains, size=n, p=np.array(list(DOMAIN_WEIGHTS.values())))
    src = rng.choice(list(SOURCES), size=n, p=np.array(list(SOURCES.values())))
    trace_words = rng.permutation(np.arange(40, 40 + n))  # distinct lengths: a strict ranking
    rows = []
    for i in range(n):
        answer = int(rng.integers(0, 1000))
        rows.append(
            {
                "id": f"syn-{i:05d}",
                "question": f"Item q{i}: {text(int(rng.integers(20, 40)))} with $x^{{2}} + {i}$?",
                "solution": f"Work. The answer is $\\boxed{{{answer}}}$.",
                "thinking": text(int(trace_words[i])) + ".",
                "answer": f"The answer is $\\boxed{{{answer}}}$.",
                "source": str(src[i]),
                "domain": str(dom[i]),
                "qwen7b_correct": False,
                "qwen32b_correct": False,
            }
        )
    sp = SynthPool(df=pd.DataFrame())
    free = list(rng.permutation(n).tolist())

    def take(k: int) -> list[int]:
        return [free.pop() for _ in range(k)]

    # Tiny domain: small enough that uniform domain sampling must take it whole.
    for i in take(TINY_SIZE):
        rows[i]["domain"] = TINY_DOMAIN
    plants = {
        "missing_thinking": lambda r: r.update(thinking=None),
        "missing_answer": lambda r: r.update(answer="   "),
        "failed_generation": lambda r: r.update(
            thinking="Error code: 429 - rate limit exceeded, retry later"
        ),
        "unbalanced_latex": lambda r: r.update(question=r["question"] + " and $y + 1 is odd"),
        "image_reference": lambda r: r.update(question=r["question"] + " See ![fig](figs/tri.png)"),
        "ascii_art": lambda r: r.update(question=ART.format(tail=r["question"])),
    }
    counts = {
        "missing_thinking": 15,
        "missing_answer": 10,
        "failed_generation": 12,
        "unbalanced_latex": 10,
        "image_reference": 10,
        "ascii_art": 8,
    }
    for reason, fn in plants.items():
        idx = take(counts[reason])
        for i in idx:
            fn(rows[i])
        sp.planted[reason] = set(idx)
    # Duplicates: a copy with other case and spacing; the earlier row in pool order is the one kept.
    dups = set()
    for _ in range(30):
        a, b = take(2)
        first, copy = min(a, b), max(a, b)
        rows[copy]["question"] = "  " + rows[first]["question"].upper().replace(" ", "   ") + " "
        sp.duplicate_of[copy] = first
        dups.add(copy)
    sp.planted["duplicate"] = dups
    # Contamination: whole eval questions, and 8-word windows embedded in invented text.
    for name, qs in evals.items():
        hit = set()
        for q in qs:
            i = take(1)[0]
            rows[i]["question"] = f"Solve this: {q}"
            hit.add(i)
            words = norm_words(q)
            if len(words) >= 12:
                j = take(1)[0]
                window = " ".join(words[2:10])
                rows[j]["question"] = f"{text(6)} {window} {text(6)} q{j}?"
                hit.add(j)
        sp.contaminated[name] = hit
    # Near miss: 7 consecutive eval words only; decontamination must keep these.
    aime = norm_words(evals["aime24"][0])
    for _ in range(6):
        i = take(1)[0]
        rows[i]["question"] = f"{text(5)} {' '.join(aime[:7])} {text(5)} q{i}?"
        sp.near_miss.add(i)
    # Easy questions: solved by one or both reference models (truthy strings and bools mixed).
    for key, k in (("qwen7b", 40), ("qwen32b", 30), ("both", 30)):
        idx = take(k)
        for i in idx:
            if key in ("qwen7b", "both"):
                rows[i]["qwen7b_correct"] = True
            if key in ("qwen32b", "both"):
                rows[i]["qwen32b_correct"] = True
        sp.easy[key] = set(idx)
    sp.df = pd.DataFrame(rows)
    return sp


def quality_removed(sp: SynthPool) -> set[int]:
    return set().union(*sp.planted.values())


def contaminated(sp: SynthPool) -> set[int]:
    return set().union(*sp.contaminated.values())


def easy(sp: SynthPool) -> set[int]:
    return set().union(*sp.easy.values())


def echo_solver(questions: list[str]) -> list[str]:
    """A Solver importable by name ("curation_synth:echo_solver") for the config-path tests."""
    return list(questions)


N_SUBSET = 200


def make_config(pool_path: Path, **overrides):
    """The test config: the synthetic pool's grade columns, the bundled eval samples, N=200."""
    from curation import config_from_dict

    data = {
        "seed": 7,
        "pool": {
            "path": str(pool_path),
            "columns": {"grades": {"qwen7b": "qwen7b_correct", "qwen32b": "qwen32b_correct"}},
        },
        "contamination": {"eval_sets": [{"name": k, "path": str(v)} for k, v in EVAL_FILES.items()]},
        "subsets": {"n": N_SUBSET},
        "export": {"formats": ["jsonl", "parquet"]},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return config_from_dict(data)
