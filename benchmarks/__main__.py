"""`make bench`: run every benchmark script; each prints its figures and saves them under benchmarks/results/.

`python -m benchmarks bf scoring` runs only the named ones.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = (
    "decode",
    "bf",
    "memory",
    "lm_eval_peer",
    "scoring",
    "curation",
    "methods",
    "openai_engine",
    "readme",
)
"""Run in this order; `readme` last: it writes the README's speed section from the JSON the others saved."""


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        sys.argv = [f"benchmarks.{name}"]  # each script's own defaults, not this runner's arguments
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            module.main()
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            print(f"!! {name} failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
        print(f"== {name} took {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
