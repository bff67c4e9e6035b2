"""`s1eval lm-eval --model s1_bf` against lm-eval's own `--model hf` on the same model, task and token counts.

Both run the real lm-eval CLI in a subprocess on `s1_math500` (8 questions, batch 8, the model's chat
template) over the medium random model, 288 tokens per question, counted on both sides. Neither side may stop
early: s1_bf thinks 256 (`min_thinking_tokens=256` suppresses the end of thinking until then) and answers up
to 32 (its ledger counts both; the benchmark checks the 256); hf gets `min_new_tokens=max_gen_toks=288`
(`generate` suppresses the end-of-sequence token) and an `until` string the model would have to spell byte by
byte, since the task's own `until` includes the pad token, which a random model can emit. hf's count is
logged from inside its process (`hf_token_counter/sitecustomize.py`: rows x new columns of each `generate`
call), since re-encoding its decoded text would not count its tokens. s1_bf's prompt also carries s1's
thinking delimiter, a few tokens more than hf's. Time is lm-eval's own `total_evaluation_time_seconds` (model
loading and evaluation, no interpreter start-up), a median of interleaved repeats; the figure is time per
generated token.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BIN = Path(sys.executable).parent
LIMIT, THINKING, ANSWER = 8, 256, 32
NEVER = "<|never|>"
"""hf's stop string: the random model would have to spell it byte by byte (see the module docstring)."""


COUNTER = Path(__file__).parent / "hf_token_counter"
"""A `sitecustomize` that logs the tokens of each of lm-eval hf's `generate` calls (its own docstring)."""


def _run(argv: list[str], out: Path, count_generate: bool) -> dict:
    log = out.with_suffix(".tokens.jsonl")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if count_generate:  # hf only: s1_bf's counts come from its ledger, and its start-up stays as users run it
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COUNTER), os.environ.get("PYTHONPATH")]))
        env["S1EVAL_HF_TOKEN_LOG"] = str(log)
    subprocess.run(
        argv + ["--output_path", str(out), "--log_samples"], check=True, capture_output=True, env=env
    )
    (results,) = out.rglob("results_*.json")
    (samples,) = out.rglob("samples_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {
        "seconds": float(json.loads(results.read_text())["total_evaluation_time_seconds"]),
        "rows": rows,
        "generate_calls": calls,
    }


def main() -> dict:
    from benchmarks.models import build

    repeats = int(os.environ.get("S1EVAL_BENCH_REPEATS", "3"))
    figures: dict = {
        "task": "s1_math500",
        "limit": LIMIT,
        "batch_size": 8,
        "model": "medium",
        "repeats": repeats,
    }
    with tempfile.TemporaryDirectory() as tmp:
        model = build("medium", Path(tmp))
        common = ["--tasks", "s1_math500", "--limit", str(LIMIT)]
        sides = {
            "s1eval_s1_bf": [
                str(BIN / "s1eval"),
                "lm-eval",
                "--model",
                "s1_bf",
                "--model_args",
                f"pretrained={model},max_thinking_tokens={THINKING},min_thinking_tokens={THINKING},"
                f"max_answer_tokens={ANSWER},batch_size=8",
                *common,
            ],
            "lm_eval_hf": [
                str(BIN / "lm_eval"),
                "--model",
                "hf",
                "--model_args",
                f"pretrained={model}",
                "--batch_size",
                "8",
                "--gen_kwargs",
                f"max_gen_toks={THINKING + ANSWER},min_new_tokens={THINKING + ANSWER},until={NEVER}",
                "--apply_chat_template",
                "--include_path",
                str(_tasks_dir()),
                *common,
            ],
        }
        seconds: dict[str, list[float]] = {k: [] for k in sides}
        tokens: dict[str, int] = {}
        hf_calls: list[dict] = []  # the last hf run's generate calls: the JSON keeps the count's evidence
        for r in range(repeats):
            for name in sides if r % 2 == 0 else reversed(list(sides)):
                got = _run(sides[name], Path(tmp) / f"{name}-{r}", count_generate=name == "lm_eval_hf")
                seconds[name].append(round(got["seconds"], 3))
                tokens[name] = _generated_tokens(name, got)
                if name == "lm_eval_hf":
                    hf_calls = got["generate_calls"]
        med = {k: statistics.median(v) for k, v in seconds.items()}
        per_token = {k: med[k] / max(1, tokens[k]) for k in sides}
        figures.update(
            {
                "seconds": seconds,
                "median_seconds": {k: round(v, 3) for k, v in med.items()},
                "generated_tokens": tokens,
                "lm_eval_hf_generate_calls": hf_calls,
                "s1_bf_over_hf_time_per_token": round(per_token["s1eval_s1_bf"] / per_token["lm_eval_hf"], 3),
            }
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lm_eval.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(
        json.dumps(
            {k: figures[k] for k in ("median_seconds", "generated_tokens", "s1_bf_over_hf_time_per_token")}
        )
    )
    return figures


def _generated_tokens(name: str, got: dict) -> int:
    rows = got["rows"]
    assert len(rows) == LIMIT, f"{name}: {len(rows)} samples logged, expected {LIMIT}"
    if name == "s1eval_s1_bf":  # the ledger's exact counts: thinking + answer, forced text apart
        thinking = [int(r["s1_ledger"]["thinking_tokens"]) for r in rows]
        assert thinking == [THINKING] * LIMIT, f"s1_bf stopped thinking early: {thinking}"
        return sum(t + int(r["s1_ledger"]["answer_tokens"]) for t, r in zip(thinking, rows, strict=True))
    calls = got["generate_calls"]  # what hf_token_counter logged: rows x new columns per generate call
    assert sum(c["rows"] for c in calls) == LIMIT, f"lm-eval hf's generate calls were not counted: {calls}"
    # a batch's columns are every row's tokens only if no row stopped early: min_new_tokens = max_gen_toks
    assert all(c["new_columns"] == THINKING + ANSWER for c in calls), f"hf stopped early: {calls}"
    return sum(c["rows"] * c["new_columns"] for c in calls)


def _tasks_dir() -> Path:
    from s1eval.integrations.lm_eval.patches import tasks_dir

    return tasks_dir()


if __name__ == "__main__":
    main()
