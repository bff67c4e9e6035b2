"""The demo's RL table: the s1k SFT model against the same model after GRPO on budget-forced rollouts.

GRPO (`s1eval train grpo_cpu_tiny`, TRL's GRPOTrainer) starts from the s1k model and trains on the s1k subset's
questions (the correct answers, never the traces' own): each rollout is budget forcing at `rl_budget` thinking
tokens with `rl_extensions` forced "Wait"s, rewarded by the scorer's verdict alone. The question it answers:
does RL after SFT make the model use a forced "Wait" better, at a fixed budget and extension count? Both models
are then evaluated on the same held-out questions, budgets and seeds, with and without the extensions.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from examples.demo import task
from s1eval.studies.comparison import compare_systems, write_comparison_report
from s1eval.studies.findings import Finding, paired_finding

GRPO_CONFIG = "grpo_cpu_tiny"
SFT, RL = "SFT", "SFT+GRPO"


def grpo_args(cfg: Any, sft_model: Path, data: Path) -> list[str]:
    """Overrides of training/configs/grpo_cpu_tiny.yaml for the demo's model and task."""
    return [
        "--model_name_or_path", str(sft_model),
        "--dataset_name", str(data),
        "--answer_field", "solution",  # the correct answer (a lazy trace's own answer is a partial value)
        "--kind", task.KIND,
        "--max_thinking_tokens", str(cfg.rl_budget),
        "--num_extensions", str(cfg.rl_extensions),
        "--max_answer_tokens", str(cfg.max_answer_tokens),
        "--max_completion_length", str(2 * cfg.rl_budget),
        "--adherence_weight", "0",
        "--num_generations", str(cfg.rl_generations),
        "--per_device_train_batch_size", str(cfg.rl_batch),
        "--learning_rate", str(cfg.rl_learning_rate),
        "--beta", str(cfg.rl_beta),
        "--logging_steps", str(max(1, cfg.rl_steps // 10)),
        "--save_strategy", "no",
        "--disable_tqdm", "true",
        "--log_token_ids", "false",
        "--seed", str(cfg.seed),
    ]  # fmt: skip


def train_grpo(cfg: Any, sft_model: Path, data: Path) -> tuple[Path, dict[str, Any]]:
    """GRPO from the SFT model (trained again on every run: the work dir is the demo's cache, not its input)."""
    from s1eval.training.dispatch import train

    out = cfg.workdir / "rl" / "grpo"
    summary_file = out / "training_summary.json"
    if cfg.reuse_models and summary_file.exists():
        cfg.log(f"[demo] --quick: reusing the GRPO model trained earlier in {out}")
        return out, json.loads(summary_file.read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    return out, train(GRPO_CONFIG, grpo_args(cfg, sft_model, data), output_dir=out, max_steps=cfg.rl_steps)


def run_rl(cfg: Any, prep: Any, evaluate_plan: Any, plans: list[Any]) -> dict[str, Any]:
    """Train, evaluate the GRPO model with `plans` (bf with 0 and `rl_extensions` Waits), compare, write
    OUT/rl/. `evaluate_plan(engine, model_name, plan) -> run_dir` is the demo's own evaluation step."""
    from s1eval.engines.hf import HFEngine
    from s1eval.runs.store import read_latest

    t0 = time.perf_counter()
    main = next(iter(prep.models))
    data = cfg.workdir / "ablation" / "data" / f"{main}.jsonl"
    model, summary = train_grpo(cfg, prep.models[main], data)
    cfg.log(
        f"[demo] GRPO: {summary['global_step']} steps from the {main} model ({time.perf_counter() - t0:.1f} s)"
    )
    engine = HFEngine(str(model), batch_size=cfg.eval_batch_size)
    tables, findings = {}, []
    for plan in plans:
        rl_run = evaluate_plan(engine, "grpo", plan)
        cells = {SFT: read_latest(cfg.workdir / "runs" / main / plan.name), RL: read_latest(rl_run)}
        k = plan.settings["num_extensions"]
        title = f"BF with {k} forced Wait{'s' if k > 1 else ''}" if k else "BF, no extension"
        tables[title] = compare_systems(cells, SFT, resamples=cfg.resamples, seed=cfg.seed)
        for budget in sorted({cfg.rl_budget, max(cfg.budgets)} & set(cfg.budgets)):
            findings.append(
                paired_finding(
                    f"{RL} at {budget}",
                    f"{SFT} at {budget}",
                    f"{task.BENCHMARK} ({title})",
                    [r for r in cells[RL] if r["budget"] == budget],
                    [r for r in cells[SFT] if r["budget"] == budget],
                    resamples=cfg.resamples,
                    seed=cfg.seed,
                )
            )
    engine.close()
    meta = {
        "SFT model": f"the demo's {main} model ({prep.training[main]['global_step']} SFT steps)",
        "GRPO": f"{summary['global_step']} steps from it, TRL GRPOTrainer, {cfg.rl_generations} rollouts per "
        f"question, {cfg.rl_batch} rollouts a step, learning rate {cfg.rl_learning_rate}, KL beta {cfg.rl_beta}, "
        "temperature 1.0; "
        f"each rollout budget forcing at {cfg.rl_budget} thinking tokens with {cfg.rl_extensions} forced Wait(s); "
        f"reward: the scorer's verdict (1 correct, 0 not); questions: the {main} subset's "
        f"{summary.get('questions', '?')} (the correct answers, not the traces')",
        "Rewards": f"mean correctness {_num(summary.get('first_logged_reward'))} at the first log, "
        f"{_num(summary.get('last_logged_reward'))} at the last",
        "Evaluation": f"{len(prep.problems)} held-out questions, greedy, budgets {list(cfg.budgets)}",
    }
    notes = (
        "Rows: the SFT model and the same model after GRPO, each under BF with the extension count of the "
        "section. diff: SFT+GRPO minus SFT in accuracy points on the same questions (paired bootstrap, 95% CI). "
        "What this does not show: one task, one seed, one short GRPO run on a 2-layer model; no adherence reward "
        "and no TCC model were trained here (the recipe has `adherence_weight` for that), so whether an adherence "
        "reward brings TCC's Control towards BF's is not answered by this demo. The learning rate and the KL term "
        "were chosen after trial runs on these same training questions (not on the test set); nothing else was "
        "tuned.",
    )
    out = cfg.out / "rl"
    write_comparison_report(
        tables,
        meta,
        findings,
        out,
        title="RL after SFT: GRPO on budget-forced rollouts",
        baseline=SFT,
        row_header="Model",
        notes=notes,
        slug="rl",
    )
    return {
        "report": "rl/report.md",
        "training": {k: summary.get(k) for k in ("global_step", "first_logged_reward", "last_logged_reward")},
        "findings": [_finding(f) for f in findings],
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {"claim": f.claim, "status": f.status, "sentence": f.sentence()}


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"
