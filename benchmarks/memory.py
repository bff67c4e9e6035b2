"""Peak memory per workload, each in a fresh process: s1eval's BF and sweep against the s1 reference loop.

Every workload runs in its own interpreter (`python -m benchmarks.memory WORKLOAD MODEL_DIR`); once the model
is loaded the process's peak RSS is reset to its current RSS (Linux `clear_refs`), so the figure is the peak
during the workload and the part above the RSS it had after loading (the workload's own memory: KV cache,
activations, bookkeeping). Medium model, 8 prompts of
256 tokens, 512 thinking tokens, 16 extensions.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
WORKLOADS = ("s1eval_bf", "s1eval_sweep", "s1_reference_loop")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak RSS (VmHWM) to its current RSS, so the peak
    read after the workload is the workload's own, not the model load's."""
    Path("/proc/self/clear_refs").write_text("5")


def run_workload(name: str, model_dir: str) -> dict:
    from benchmarks.bf import frequent_marker_format, prompts_for
    from benchmarks.peers import s1_reference_loop
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing, run_budget_sweep
    from s1eval.engines.hf import HFEngine

    engine = HFEngine(model_dir, batch_size=8)
    prompts = prompts_for(engine.tokenizer, 8, 256)
    fmt = frequent_marker_format(engine, prompts)
    loaded = _status_mb("VmRSS")
    _reset_peak()
    cfg = BudgetForcingConfig(max_thinking_tokens=512, num_extensions=16, max_answer_tokens=16)
    if name == "s1eval_bf":
        run_budget_forcing(engine, fmt, prompts, cfg)
    elif name == "s1eval_sweep":
        run_budget_sweep(engine, fmt, prompts, [32, 64, 128, 256, 512], cfg)
    else:
        s1_reference_loop(engine.model, engine.tokenizer, fmt, prompts, 512, 16, 16)
    peak = _status_mb("VmHWM")
    return {
        "peak_rss_mb": round(peak, 1),
        "rss_after_loading_mb": round(loaded, 1),
        "workload_mb": round(peak - loaded, 1),
        "peak_cells_over_floor": engine.stats["peak_cells_over_floor"]
        if name != "s1_reference_loop"
        else None,
    }


def main() -> dict:
    from benchmarks.models import build

    figures: dict = {
        "model": "medium",
        "prompts": 8,
        "prompt_tokens": 256,
        "max_thinking_tokens": 512,
        "num_extensions": 16,
        "workloads": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(build("medium", Path(tmp)))
        for name in WORKLOADS:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.memory", name, model_dir],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            figures["workloads"][name] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(name, figures["workloads"][name], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run_workload(sys.argv[1], sys.argv[2])))
    else:
        main()
