"""The demo pipeline gives byte-identical leaderboards in fresh processes, whatever the hash seed and whether
the models train one after another or side by side (`parallel` 1 and 2).

Two runs at a reduced size (two subsets, a few hundred training steps each) in the same work folder, each in
its own interpreter with its own PYTHONHASHSEED; every file the demo writes to its results folder (what
`results/demo/` commits: leaderboard, budget table, summary, README, plots) must match byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from pathlib import Path
from examples.demo.pipeline import DemoConfig, run_demo

def main():
    root, parallel = Path(sys.argv[1]), int(sys.argv[2])
    cfg = DemoConfig(out=root / "results", workdir=root / "work", test_size=24, subset_size=64, max_steps=200,
                     batch_size=8, budgets=(8, 32, 64), extensions=(1,), prompt_budgets=(16, 64), rs_tries=2,
                     vote_n=2, resamples=200, parallel=parallel, studies=False, rl_steps=4, rl_budget=32,
                     rl_extensions=1, rl_generations=4, rl_batch=8, log=lambda _: None)
    run_demo(cfg)

if __name__ == "__main__":  # the spawned training workers import this file
    main()
"""


def demo_run(root: Path, parallel: int, hash_seed: str) -> dict[str, bytes]:
    script = root.parent / "demo_run.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "PYTHONHASHSEED": hash_seed,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }  # the demo is an example in the checkout (examples/demo), not in the package
    proc = subprocess.run([sys.executable, str(script), str(root), str(parallel)], env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = root / "results"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_two_fresh_runs_give_identical_leaderboards(tmp_path):
    root = tmp_path / "demo"
    first = demo_run(root, parallel=1, hash_seed="1")
    shutil.rmtree(root)
    second = demo_run(root, parallel=2, hash_seed="2")
    assert {"leaderboard.csv", "budgets.csv", "summary.json", "README.md"} <= set(first)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name] and name != "summary.json"]
    assert not differ, differ
    # the summary records the settings, `parallel` among them (the one setting the two runs differ in)
    one, two = (json.loads(run["summary.json"]) for run in (first, second))
    assert (one["config"].pop("parallel"), two["config"].pop("parallel")) == (1, 2)
    assert one == two
