"""Sampled methods draw the same samples in every front end: `s1eval eval`, `lm_eval` and `inspect eval`.

The same tiny model, the first 3 MATH500 questions, rejection sampling and majority voting at temperature 1
with run seed 7, through the three real CLIs in subprocesses. Every front end seeds a sample with
`s1eval.control.sample_seed(7, question id, repeat)`, so answers and ledgers must be identical per question.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")
pytest.importorskip("inspect_ai")

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEED = 7
LIMIT = 3
METHODS = {
    # method: (s1eval CLI settings, the same as key=value settings)
    "rs": {"max_thinking_tokens": 12, "max_tries": 3, "max_tokens": 24, "max_answer_tokens": 6},
    "vote": {"n": 3, "max_thinking_tokens": 12, "max_answer_tokens": 6},
}


def run(cmd: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        cmd, cwd=cwd, env=env | (extra_env or {}), capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def comparable(ledger: dict) -> dict:
    """The ledger as the method wrote it (the outcome is re-derived by each front end's scorer)."""
    return {k: v for k, v in ledger.items() if k != "outcome"}


def via_s1eval(model: Path, method: str, tmp: Path) -> dict[str, tuple[str, dict]]:
    run_dir = tmp / f"s1eval-{method}"
    sets = [a for k, v in METHODS[method].items() for a in ("--set", f"{k}={v}")]
    run([str(BIN / "s1eval"), "eval", "--model", str(model), "--method", method, "-b", "math500",
         "--limit", str(LIMIT), "--temperature", "1", "--seed", str(SEED), "--run-dir", str(run_dir), *sets],
        tmp)  # fmt: skip
    records = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    top = max(r["budget"] for r in records)  # lm-eval and Inspect report the largest x (vote: n)
    return {
        r["id"]: {"answer": r["answer_text"], "output": r["output"], "ledger": comparable(r["ledger"])}
        for r in records
        if r["budget"] == top
    }


def via_lm_eval(model: Path, method: str, tmp: Path) -> dict[str, tuple[str, dict]]:
    out = tmp / f"lm-eval-{method}"
    args = {"pretrained": model, **METHODS[method], "temperature": 1, "seed": SEED}
    run([str(BIN / "s1eval"), "lm-eval", "--model", f"s1_{method}",
         "--model_args", ",".join(f"{k}={v}" for k, v in args.items()),
         "--tasks", "s1_math500", "--limit", str(LIMIT), "--log_samples", "--output_path", str(out)], tmp)  # fmt: skip
    (samples_file,) = out.rglob("samples_s1_math500_*.jsonl")
    rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
    # s1eval's own tasks log the whole output (thinking + answer) as the response
    return {
        row["doc"]["id"]: {"output": row["resps"][0][0], "ledger": comparable(row["s1_ledger"])}
        for row in rows
    }


def via_inspect(model: Path, method: str, tmp: Path) -> dict[str, tuple[str, dict]]:
    from inspect_ai.log import read_eval_log

    log_dir = tmp / f"inspect-{method}"
    settings = [
        a
        for k, v in {"method": method, **METHODS[method], "temperature": 1}.items()
        for a in ("-T", f"{k}={v}")
    ]
    run([str(BIN / "inspect"), "eval", "tasks/math500.py", "--model", f"s1hf/{model}", "--limit", str(LIMIT),
         "--seed", str(SEED), "--display", "none", *settings], REPO,
        {"INSPECT_LOG_DIR": str(log_dir), "INSPECT_DISPLAY": "none", "PWD": str(REPO)})  # fmt: skip
    (log_file,) = log_dir.glob("*.eval")
    log = read_eval_log(str(log_file))
    return {
        s.id: {"answer": s.metadata["s1eval"]["answer"], "ledger": comparable(s.metadata["ledger"])}
        for s in log.samples
    }


@pytest.mark.parametrize("method", sorted(METHODS))
def test_same_samples_in_every_front_end(method, tiny_model_path, tmp_path):
    cli = via_s1eval(tiny_model_path, method, tmp_path)
    lm = via_lm_eval(tiny_model_path, method, tmp_path)
    ins = via_inspect(tiny_model_path, method, tmp_path)
    assert len(cli) == LIMIT
    assert set(cli) == set(lm) == set(ins)
    for qid, want in cli.items():
        assert lm[qid] == {"output": want["output"], "ledger": want["ledger"]}, (qid, "lm_eval")
        assert ins[qid] == {"answer": want["answer"], "ledger": want["ledger"]}, (qid, "inspect")
