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
    from s1eval.curation import config_from_dict

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
    return config_from_dict(merged(data, overrides))


# ------------------------------------------------------------------------------- s1's own layouts and rules
# The 59K pool's columns (simplescaling/data_ablation_full59K, = qfq/geminiall) and the columns s1's
# featurization.py adds (qfq/train_featurized), which filter.ipynb joins by question hash.
S1_59K_COLUMNS = [
    "solution",
    "question",
    "cot_type",
    "source_type",
    "metadata",
    "cot",
    "thinking_trajectories",
    "attempt",
]
S1_FEATURE_COLUMNS = ["domain", "isgeminicorrect", "isqwen7bcorrect", "isqwen32bcorrect", "gemini_length"]
# simplescaling/s1K-1.1 (data/grading.ipynb adds the grade columns).
S1K_11_COLUMNS = [
    "solution",
    "question",
    "cot_type",
    "source_type",
    "metadata",
    "gemini_thinking_trajectory",
    "gemini_attempt",
    "deepseek_thinking_trajectory",
    "deepseek_attempt",
    "gemini_grade",
    "gemini_grade_reason",
    "deepseek_grade",
    "deepseek_grade_reason",
]
GPQA, AIME, MATH = "Idavidrein/gpqa", "qq8933/AIME_1983_2024", "qfq/openaimath/Algebra"
NUMINA = "AI-MO/NuminaMath-CoT/aops_forum"
S1_DOMAINS = ["Number theory", "Geometry", "Combinatorics", "Real functions", "Quantum theory", "Statistics"]


@dataclass
class S1Pool:
    """A pool in the featurized 59K layout, with the rows each s1 rule must remove or take."""

    df: pd.DataFrame
    planted: dict[str, set[int]] = field(default_factory=dict)  # our reason -> rows (pool order)
    kept_special: dict[str, int] = field(default_factory=dict)  # rows s1 keeps that a naive rule drops
    first_stage: set[int] = field(default_factory=set)


def _s1_row(i: int, rng: np.random.Generator, vocab: np.ndarray, source: str, domain: str) -> dict:
    q = f"Item q{i}: " + " ".join(rng.choice(vocab, 14)) + f" with $x^{{2}} + {i}$?"
    trace = " ".join(rng.choice(vocab, 30 + i % 50)) + "."
    return {
        "solution": f"The answer is {i}.",
        "question": q,
        "cot_type": "math",
        "source_type": source,
        "metadata": "{}",
        "cot": None,
        "thinking_trajectories": [trace],
        "attempt": f"Answer: {i}",
        "domain": domain,
        "isgeminicorrect": bool(rng.random() < 0.6),
        "isqwen7bcorrect": False,
        "isqwen32bcorrect": False,
        "gemini_length": int(1000 + (i * 37) % 4000),
    }


def make_s1_pool(n: int = 400, seed: int = 1) -> S1Pool:
    """n rows of the featurized 59K layout; planted rows are recorded by the reason our s1 rules give."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(rng, 800)
    sources = [NUMINA, MATH, "KbsdJames/Omni-MATH"]  # GPQA and AIME rows are planted below
    rows = [
        _s1_row(i, rng, vocab, sources[i % len(sources)], S1_DOMAINS[i % len(S1_DOMAINS)]) for i in range(n)
    ]
    sp = S1Pool(df=pd.DataFrame())
    free = list(rng.permutation(n).tolist())

    def take(k: int, source: str | None = None) -> list[int]:
        out = []
        for _ in range(k):
            i = free.pop()
            if source:
                rows[i]["source_type"] = source
            out.append(i)
        return out

    def plant(reason: str, idx: list[int], **changes) -> None:
        for i in idx:
            for key, value in changes.items():
                rows[i][key] = value(rows[i]) if callable(value) else value
        sp.planted.setdefault(reason, set()).update(idx)

    plant("missing_features", take(3), isqwen7bcorrect=None)
    plant("missing_features", take(2), domain=None)
    plant("missing_features", take(2), gemini_length=None)
    plant("missing_features", take(2, GPQA), isgeminicorrect=None)  # GPQA without a grade: no first stage
    plant(
        "asy_figure", take(3, NUMINA), question=lambda r: r["question"] + " [asy] draw((0,0)--(1,1)); [/asy]"
    )
    plant("image_placeholder", take(3), question=lambda r: r["question"] + " ![Image](x.png)")
    plant("p_numbering", take(3), question=lambda r: "p1. " + r["question"])
    plant("bold_number", take(2), question=lambda r: r["question"] + " Show that **1** holds.")
    plant("bold_number", take(1), question=lambda r: r["question"] + " **Note**: use 5 colours.")
    plant("solved", take(6), isqwen7bcorrect=True)
    plant("solved", take(5), isqwen32bcorrect=True)
    plant("solved", take(2, AIME), isqwen32bcorrect=True, isgeminicorrect=True)
    # Kept by s1 although a generic rule or a naive reading drops it:
    special = {
        "aime_asy": (AIME, lambda r: "In the diagram [asy] draw(unitcircle); [/asy] " + r["question"]),
        "aime_asy_image": (AIME, lambda r: "[asy] size(4cm); [/asy] ![Image](a.png) " + r["question"]),
        "one_dollar": (NUMINA, lambda r: r["question"].split(" with ")[0] + ", if a ticket costs $20?"),
        "bold_no_digit": (NUMINA, lambda r: r["question"].replace("?", "") + " **Hint**: think.\nThen 3?"),
        "livecodebench": ("LiveCodeBench/release_v1", lambda r: r["question"] + " print({x)"),
    }
    for name, (source, fn) in special.items():
        i = take(1, source)[0]
        rows[i]["question"] = fn(rows[i])
        rows[i]["isgeminicorrect"] = True
        sp.kept_special[name] = i
    # First stage: correct GPQA/AIME, long correct MATH; not: 5,600 exactly, long but wrong, long elsewhere.
    for i in take(4, GPQA) + take(4, AIME):
        rows[i]["isgeminicorrect"] = True
    for i in take(3, MATH):
        rows[i].update(isgeminicorrect=True, gemini_length=5601 + i)
    for source, length, correct in ((MATH, 5600, True), (MATH, 9000, False), (NUMINA, 9000, True)):
        i = take(1, source)[0]
        rows[i].update(isgeminicorrect=correct, gemini_length=length)
    sp.df = pd.DataFrame(rows)[S1_59K_COLUMNS + S1_FEATURE_COLUMNS]
    sp.first_stage = notebook_first_stage(sp.df)
    return sp


def question_hash(question: str) -> str:
    """data/utils/io_utils.py, restated."""
    import hashlib

    return hashlib.sha256(question.encode()).hexdigest()[:16]


def notebook_filter(df: pd.DataFrame) -> set[int]:
    """filter.ipynb cells 4, 7 and 9 transcribed over rows (the oracle): positions that survive."""
    keep = set()
    for i, ex in enumerate(df.to_dict("records")):
        features = {k: ex[k] for k in S1_FEATURE_COLUMNS}
        if not all(v is not None and not (isinstance(v, float) and v != v) for v in features.values()):
            continue
        question = ex["question"]
        if (
            "[asy]" not in question
            and "![Image]" not in question
            and not any(f"p{i}." in question for i in range(1, 1000))
            and not re.search(r"\*\*(?=.*\d)[^\s\]]*\*\*", question)
        ):
            pass
        elif "[asy]" in question and "AIME" in ex["source_type"]:
            pass
        else:
            continue
        if features["isqwen32bcorrect"] or features["isqwen7bcorrect"]:
            continue
        keep.add(i)
    return keep


def notebook_first_stage(df: pd.DataFrame) -> set[int]:
    """filter.ipynb cell 14 transcribed, over the rows that survive notebook_filter."""
    out = set()
    records = df.to_dict("records")
    for i in notebook_filter(df):
        ex = records[i]
        if ex["isgeminicorrect"]:
            if ex["source_type"] in ["Idavidrein/gpqa", "qq8933/AIME_1983_2024"]:
                out.add(i)
            elif "qfq/openaimath" in ex["source_type"]:
                if ex["gemini_length"] > 5600:
                    out.add(i)
    return out


def s1_config(pool_path: Path, **overrides):
    """curation/configs/s1k.yaml with the pool replaced by a local file, the regex counter and test eval sets."""
    import yaml

    from s1eval.curation import config_from_dict

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "curation/configs/s1k.yaml").read_text())
    data["pool"] = {"path": str(pool_path), "columns": "s1-59k"}
    data["difficulty"]["tokenizer"] = None
    data["contamination"]["eval_sets"] = [{"name": k, "path": str(v)} for k, v in EVAL_FILES.items()]
    data["subsets"]["n"] = 60
    return config_from_dict(merged(data, overrides))


def merged(data: dict, overrides: dict) -> dict:
    """A config dict with `overrides` applied, section by section (a dict value updates its section)."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data
