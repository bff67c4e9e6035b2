"""Scoring benchmark: extract and judge all 500 MATH500 reference solutions, and the false-positive check.

Run with `python -m benchmarks.scoring` (or through `make bench`). Writes benchmarks/results/scoring.json:
seconds to score the 500 (extraction + equivalence, cold caches), the round-trip rate with any misses,
the same round trip forced through math_verify alone (no string fast path), the AIME24 round trip, and
the next-problem false-positive rate.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "scoring.json"


def main() -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    started = time.perf_counter()
    from s1eval.data import load_benchmark
    from s1eval.scoring import check_equivalence, normalize_math, score_sample
    from s1eval.scoring.bounded import run_bounded
    from s1eval.scoring.equivalence import math_equal

    import_s = time.perf_counter() - started
    math500 = load_benchmark("math500")

    t0 = time.perf_counter()
    misses = []
    for p in math500:
        scored = score_sample(p.metadata["solution"], "", p.answer, "math")
        if not scored.correct:
            misses.append({"id": p.id, "pred": scored.pred, "gold": p.answer, "reason": scored.reason})
    seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    mv_misses = []
    for p in math500:
        pred = score_sample(p.metadata["solution"], "", p.answer, "math").pred or ""
        ok, equal, error = run_bounded(math_equal, pred, p.answer)
        if not (ok and equal):
            mv_misses.append({"id": p.id, "pred": pred, "gold": p.answer, "error": error})
    mv_seconds = time.perf_counter() - t0

    aime_misses = []
    for p in load_benchmark("aime24"):
        for text in (
            f"\\boxed{{{p.answer}}}",
            f"The answer is {p.answer}.",
            f"Final Answer: {int(p.answer):03d}",
        ):
            if not score_sample(text, "", p.answer, "aime").correct:
                aime_misses.append({"id": p.id, "text": text})

    t0 = time.perf_counter()
    pairs = list(zip(math500, math500[1:] + math500[:1], strict=True))
    judged_equal = []
    for a, b in pairs:
        if check_equivalence(a.answer, b.answer, "math").equal:
            same = normalize_math(a.answer) == normalize_math(b.answer)
            judged_equal.append({"ids": [a.id, b.id], "answers": [a.answer, b.answer], "identical": same})
    fp_seconds = time.perf_counter() - t0
    false_positives = [j for j in judged_equal if not j["identical"]]

    result = {
        "benchmark": "scoring",
        "n": len(math500),
        "seconds": round(seconds, 3),
        "round_trip_rate": round(1 - len(misses) / len(math500), 4),
        "misses": misses,
        "math_verify_only_seconds": round(mv_seconds, 3),
        "math_verify_only_round_trip_rate": round(1 - len(mv_misses) / len(math500), 4),
        "math_verify_only_misses": mv_misses,
        "aime24_round_trip_misses": aime_misses,
        "next_problem_pairs": len(pairs),
        "next_problem_judged_equal": judged_equal,
        "false_positive_rate": round(len(false_positives) / len(pairs), 4),
        "judged_equal_rate_incl_identical": round(len(judged_equal) / len(pairs), 4),
        "false_positive_seconds": round(fp_seconds, 3),
        "import_seconds": round(import_s, 3),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"scoring: {len(math500)} MATH500 reference solutions in {seconds:.2f}s "
        f"(math_verify only: {mv_seconds:.2f}s), round trip {result['round_trip_rate']:.1%} "
        f"({len(misses)} misses), AIME24 round-trip misses {len(aime_misses)}, "
        f"next-problem false positives {len(false_positives)}/{len(pairs)} "
        f"({result['false_positive_rate']:.2%}; {len(judged_equal)} judged equal incl. identical answers) "
        f"-> {RESULTS}"
    )
    return result


if __name__ == "__main__":
    main()
