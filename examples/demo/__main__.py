"""`python -m examples.demo --out results/demo [--quick] [--workdir demo-work]` (what `make demo` runs)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.demo",
        description="Curate a pool, train a tiny model with the recipe, sweep every control method and write "
        "the leaderboard, budget table and scaling plots.",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="where the report goes (make demo: results/demo)"
    )
    parser.add_argument("--workdir", type=Path, default=Path("demo-work"), help="data, models and run dirs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reuse models trained by an earlier run in --workdir (labelled so)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for this size)")
    args = parser.parse_args(argv)

    from examples.demo.note import terminal_leaderboard
    from examples.demo.pipeline import DemoConfig, run_demo

    cfg = DemoConfig(out=args.out, workdir=args.workdir, reuse_models=args.quick, threads=args.threads)
    t0 = time.perf_counter()
    summary = run_demo(cfg)
    import pandas as pd

    written = pd.read_csv(cfg.out / "leaderboard.csv")  # the terminal shows what was written
    print()
    print(terminal_leaderboard(written))
    print()
    for f in summary["findings"]:
        mark = {"shown": "x", "contradicted": "!"}.get(f["status"], " ")
        print(f"  [{mark}] {f['sentence']}")
    note = "" if not summary["reused_models"] else " (--quick: reused trained models)"
    print(f"\n[demo] done in {time.perf_counter() - t0:.0f} s{note}; see {cfg.out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
