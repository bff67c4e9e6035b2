"""Curation benchmark: a 60K-row synthetic pool with precomputed columns, curated end to end.

The pool mimics simplescaling/data_ablation_full59K in size: 60,000 rows, 16 sources, 50 domains, two
reference-model grade columns and the domain label precomputed (the paper's classification and grading are
model calls, done once and stored). Trace lengths are counted by the pipeline (regex counter) over traces of
~1,000 words on average, and contamination is checked against the shipped AIME24/MATH500 questions when they
exist (else a bundled sample). Writes benchmarks/results/curation.json: seconds per stage and in total.
Target: under 2 minutes.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "curation.json"
N_ROWS = 60_000
MEAN_TRACE_WORDS = 1_000


def _eval_sets() -> list[dict[str, str]]:
    shipped = [ROOT / "tasks" / "data" / f"{n}.jsonl" for n in ("aime24", "math500")]
    if all(p.exists() for p in shipped):
        return [{"name": p.stem, "path": str(p)} for p in shipped]
    sample = ROOT / "tests" / "curation" / "data"
    return [{"name": n, "path": str(sample / f"{n}_sample.jsonl")} for n in ("aime24", "math500")]


def make_pool(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """n rows with plain column names; traces are slices of one long random word stream (fast to build)."""
    rng = np.random.default_rng(seed)
    syl = np.array(["ka", "lo", "mi", "zu", "re", "ta", "vo", "ne", "si", "pu", "gri", "dax", "bel", "quo"])
    vocab = np.array(["".join(rng.choice(syl, int(rng.integers(1, 4)))) for _ in range(5000)])
    vocab = np.concatenate([vocab, np.array(["x", "=", "2", "+", "$", "Wait,", "so", "the", "answer", "is"])])
    stream_words = rng.choice(vocab, size=4_000_000)
    stream = " ".join(stream_words.tolist())
    starts = np.concatenate([[0], np.cumsum([len(w) + 1 for w in stream_words])])
    lens = np.clip(rng.lognormal(np.log(MEAN_TRACE_WORDS) - 0.5, 1.0, n).astype(int), 20, 20_000)
    offs = rng.integers(0, len(stream_words) - lens.max() - 1, n)
    thinking = [stream[starts[o] : starts[o + k] - 1] for o, k in zip(offs, lens, strict=True)]
    q_lens = rng.integers(15, 80, n)
    q_offs = rng.integers(0, len(stream_words) - 100, n)
    question = [
        f"Problem {i}: {stream[starts[o] : starts[o + k] - 1]}?"
        for i, (o, k) in enumerate(zip(q_offs, q_lens, strict=True))
    ]
    dup = rng.choice(n, size=n // 50, replace=False)  # 2% duplicates
    for i in dup:
        question[i] = question[(i + 1) % n].upper()
    sources = [f"source_{k:02d}" for k in range(16)]
    domains = [f"{k:02d} domain" for k in range(50)]
    dom_p = 1.0 / np.arange(1, 51) ** 1.1
    answers = rng.integers(0, 1000, n)
    return pd.DataFrame(
        {
            "question": question,
            "solution": [f"The answer is $\\boxed{{{a}}}$." for a in answers],
            "thinking": thinking,
            "answer": [f"So the answer is $\\boxed{{{a}}}$." for a in answers],
            "source": rng.choice(sources, n, p=np.linspace(2, 1, 16) / np.linspace(2, 1, 16).sum()),
            "domain": rng.choice(domains, n, p=dom_p / dom_p.sum()),
            "qwen7b_correct": rng.random(n) < 0.35,
            "qwen32b_correct": rng.random(n) < 0.45,
        }
    )


def main() -> dict[str, float]:
    """Build the pool, curate it, print and write the timings."""
    sys.path.insert(0, str(ROOT))
    from s1eval.curation import config_from_dict, curate, write_outputs

    t0 = time.perf_counter()
    df = make_pool()
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        pool_path = Path(tmp) / "pool.parquet"
        df.to_parquet(pool_path)
        del df
        cfg = config_from_dict(
            {
                "seed": 42,
                "out_dir": str(Path(tmp) / "out"),
                "pool": {
                    "path": str(pool_path),
                    "columns": {"grades": {"qwen7b": "qwen7b_correct", "qwen32b": "qwen32b_correct"}},
                },
                "contamination": {"eval_sets": _eval_sets()},
                "subsets": {"n": 1000},
            }
        )
        t1 = time.perf_counter()
        result = curate(cfg, progress=sys.stderr.isatty())
        write_outputs(result)
        total = time.perf_counter() - t1
        stages = dict(result.timings)
    out = {
        "rows": N_ROWS,
        "mean_trace_words": MEAN_TRACE_WORDS,
        "pool_build_s": round(build_s, 2),
        "seconds": {k: round(v, 2) for k, v in stages.items() if k != "total"},
        "total_s": round(total, 2),
        "target_s": 120,
        "within_target": total < 120,
        "stages": result.report["stages"],
        "subsets": {k: v["rows"] for k, v in result.report["subsets"].items()},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"curation: {N_ROWS} rows curated in {total:.1f}s (target 120s); per stage: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in out["seconds"].items())
    )
    return {"total_s": out["total_s"]}


if __name__ == "__main__":
    main()
