"""GRPO on budget-forced rollouts: TRL's `GRPOTrainer`, its samples drawn by an s1eval control method.

The SFT recipe teaches a model the s1 layout; this one trains it with reinforcement learning on the very
samples budget forcing makes at test time. Each step, TRL's `rollout_func` (s1eval.training.rollout) runs the
method (`bf` by default: thinking capped at `max_thinking_tokens`, `num_extensions` "Wait"s where the model
stops early) on the policy itself, and the rewards (s1eval.training.rewards) are the scorer's verdict and,
optionally, L1's budget-adherence penalty. Forced tokens (extension strings, the end-of-thinking delimiter,
the answer prefix) stay in the context but out of the loss (TRL's `env_mask`).

A recipe is a TRL config file like the SFT one: `GRPOConfig` fields (num_generations, batch sizes, learning
rate, beta, loss_type, temperature, top_p, reward_weights, ...), `ModelConfig` fields and `S1GRPOArguments`
(the data, the method and its budget, the rewards), with `trainer: grpo` so `s1eval train` picks this recipe.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from trl import GRPOConfig, GRPOTrainer, ModelConfig, ScriptArguments

from s1eval.errors import ConfigError
from s1eval.formats import get_format

from .data import load_rows
from .recipe import (
    RunStart,
    check_model_and_data,
    config_trainer,
    device_name,
    fit,
    model_init_kwargs,
    parse_trl_config,
    resolve_config,
    resolve_model_path,
    resume_checkpoint,
    stamp_format,
    with_overrides,
    write_summary,
)
from .rewards import budget_adherence, correctness
from .rollout import (
    ROLLOUTS_FILE,
    BudgetForcedRollout,
    FlushRolloutLog,
    QuestionBook,
    RecordedReward,
    RolloutLog,
    RolloutSpec,
    sampling_settings,
    token_methods,
)


@dataclass
class S1GRPOArguments(ScriptArguments):
    """The questions, the control method that samples the rollouts, and the rewards."""

    trainer: str = field(
        default="grpo", metadata={"help": "This recipe: grpo (sft is s1eval.training.recipe)."}
    )
    question_field: str = field(default="question", metadata={"help": "Column holding the question."})
    answer_field: str = field(
        default="answer",
        metadata={
            "help": "Column holding the gold answer (a \\boxed{} or 'Final Answer:' in it is extracted)."
        },
    )
    id_field: str = field(
        default="id", metadata={"help": "Column holding the question id (seeds); absent: the question text."}
    )
    kind: str = field(
        default="math", metadata={"help": "Answer kind for scoring: math, aime, integer, gpqa."}
    )
    thinking_format: str = field(default="s1", metadata={"help": "Thinking delimiters (s1, r1, ...)."})
    system_prompt: str | None = field(
        default=None, metadata={"help": "System message; unset uses the format's default (Qwen's for s1)."}
    )
    method: str = field(
        default="bf",
        metadata={"help": "Control method drawing the rollouts (bf, tcc, tcc+bf, scc, scc+bf, rs)."},
    )
    max_thinking_tokens: int = field(
        default=1024, metadata={"help": "The thinking budget of every rollout (generated tokens)."}
    )
    num_extensions: int | None = field(
        default=None, metadata={"help": "Times an early end of thinking is replaced by an extension string."}
    )
    extension_strings: str | None = field(
        default=None, metadata={"help": "wait, hmm, alternatively, none, cycle, or 'Wait|Hmm' (a cycle)."}
    )
    max_answer_tokens: int | None = field(default=None, metadata={"help": "Answer limit after the thinking."})
    intervention: str | None = field(
        default=None, metadata={"help": "A thinking intervention of the method (name or name:key=value)."}
    )
    adherence_weight: float = field(
        default=0.0,
        metadata={"help": "L1 budget-adherence reward weight: -w * |thinking - target| / target (0: off)."},
    )
    adherence_target: int | None = field(
        default=None, metadata={"help": "Thinking tokens the adherence reward aims at (default: the budget)."}
    )
    rollout_batch_size: int | None = field(
        default=None, metadata={"help": "Rollouts decoded together (default: the whole generation batch)."}
    )
    log_token_ids: bool = field(
        default=False, metadata={"help": "Also write prompt/completion ids and env_mask to rollouts.jsonl."}
    )
    max_samples: int | None = field(default=None, metadata={"help": "Use only the first N rows."})
    tiny_model_dir: str | None = field(
        default=None,
        metadata={"help": "Where model_name_or_path: tiny is built (default: OUTPUT_DIR/base-tiny)."},
    )


@dataclass
class GRPORecipe:
    script: S1GRPOArguments
    training: GRPOConfig
    model: ModelConfig
    path: Path
    questions: int | None = None


def parse_grpo_config(config: str | Path, args: list[str] | tuple[str, ...] = ()) -> GRPORecipe:
    """Parse and check a GRPO recipe (every mistake a one-line ConfigError, before any model is loaded)."""
    path = resolve_config(config)
    if config_trainer(path, args) != "grpo":
        raise ConfigError(f"{path}: not a GRPO recipe (set trainer: grpo); run it with `s1eval train {path}`")
    script, training, model = parse_trl_config(
        path, (S1GRPOArguments, GRPOConfig, ModelConfig), args, "S1GRPOArguments/GRPOConfig/ModelConfig"
    )
    check_model_and_data(path, model, script)
    recipe = GRPORecipe(script=script, training=training, model=model, path=path)
    check_recipe(recipe)
    return recipe


def method_settings(script: S1GRPOArguments) -> dict[str, Any]:
    """The method settings the recipe sets (unset ones keep the method's defaults; sampling comes per call)."""
    values = {
        "num_extensions": script.num_extensions,
        "extension_strings": script.extension_strings,
        "max_answer_tokens": script.max_answer_tokens,
        "intervention": script.intervention,
    }
    return {k: v for k, v in values.items() if v is not None}


def rollout_spec(script: S1GRPOArguments) -> RolloutSpec:
    return RolloutSpec(
        method=script.method,
        budget=script.max_thinking_tokens,
        settings=method_settings(script),
        thinking_format=script.thinking_format,
        system=script.system_prompt,
        kind=script.kind,
        batch_size=script.rollout_batch_size,
    )


def reward_names(script: S1GRPOArguments) -> list[str]:
    return ["correctness"] + (["budget_adherence"] if script.adherence_weight > 0 else [])


def check_recipe(recipe: GRPORecipe) -> None:
    """Refuse what would fail (or silently do something else) after the model is loaded."""
    from s1eval.control.methods import get_method, resolve_settings
    from s1eval.scoring.extract import check_kind

    script, training, path = recipe.script, recipe.training, recipe.path
    budget = script.max_thinking_tokens
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise ConfigError(
            f"{path}: max_thinking_tokens must be a positive number of thinking tokens (the budget), got {budget!r}"
        )
    try:
        check_kind(script.kind)
        get_format(script.thinking_format)
        method = get_method(script.method)
        if getattr(method, "x_unit", "tokens") != "tokens":
            raise ConfigError(
                f"method {script.method!r} is not run at a token budget; use one of: {', '.join(token_methods())}"
            )
        resolve_settings(script.method, {**method_settings(script), **sampling_settings(training)}, [budget])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if script.adherence_weight < 0:
        raise ConfigError(
            f"{path}: adherence_weight must be >= 0 (0 turns it off), got {script.adherence_weight}"
        )
    if script.adherence_target is not None and script.adherence_target <= 0:
        raise ConfigError(
            f"{path}: adherence_target must be a positive number of tokens, got {script.adherence_target}"
        )
    names = reward_names(script)
    if training.reward_weights is not None and len(training.reward_weights) != len(names):
        raise ConfigError(
            f"{path}: reward_weights has {len(training.reward_weights)} values for {len(names)} rewards "
            f"({', '.join(names)})"
        )
    if training.use_vllm:
        raise ConfigError(
            f"{path}: use_vllm: the rollouts run on the policy itself through s1eval's hf engine; set it false"
        )
    if script.rollout_batch_size is not None and script.rollout_batch_size < 1:
        raise ConfigError(f"{path}: rollout_batch_size must be a positive integer or unset")


def build_trainer(recipe: GRPORecipe) -> tuple[GRPOTrainer, RolloutLog]:
    """A `GRPOTrainer` whose rollouts come from the recipe's method and whose rewards are s1eval's."""
    from transformers import AutoTokenizer

    script, training, model_args = recipe.script, recipe.training, recipe.model
    model_path = resolve_model_path(model_args.model_name_or_path, script.tiny_model_dir, training.output_dir)
    tokenizer = AutoTokenizer.from_pretrained(
        model_path, revision=model_args.model_revision, trust_remote_code=training.trust_remote_code
    )
    stamp_format(tokenizer, get_format(script.thinking_format).name)
    rows = load_rows(script.dataset_name, config=script.dataset_config, split=script.dataset_train_split)
    if script.max_samples is not None:
        rows = rows.select(range(min(script.max_samples, len(rows))))
    book = QuestionBook.from_rows(
        rows,
        question_field=script.question_field,
        answer_field=script.answer_field,
        id_field=script.id_field,
        kind=script.kind,
    )
    recipe.questions = len(book)
    name = ROLLOUTS_FILE if training.process_index == 0 else f"rollouts.rank{training.process_index}.jsonl"
    log = RolloutLog(Path(training.output_dir) / name, token_ids=script.log_token_ids)
    rewards = [RecordedReward(partial(correctness, on_scored=log.add_verdicts), "correctness", log)]
    if script.adherence_weight > 0:
        adherence = partial(budget_adherence, weight=script.adherence_weight, target=script.adherence_target)
        rewards.append(RecordedReward(adherence, "budget_adherence", log))
    training.model_init_kwargs = model_init_kwargs(model_args, training)
    trainer = GRPOTrainer(
        model=model_path,
        reward_funcs=rewards,
        args=training,
        train_dataset=book.dataset([str(r) for r in rows[script.question_field]]),
        processing_class=tokenizer,
        rollout_func=BudgetForcedRollout(book, rollout_spec(script), log),
        callbacks=[FlushRolloutLog(log)],
    )
    if trainer.is_fsdp_enabled:
        raise ConfigError(
            "FSDP shards the weights, and the rollouts decode on each process on its own; use DDP "
            "(accelerate's multi-GPU) or DeepSpeed ZeRO-3 with ds3_gather_for_generation: true"
        )
    if trainer.is_deepspeed_enabled and not training.ds3_gather_for_generation:
        raise ConfigError("ds3_gather_for_generation: false would decode with sharded weights; set it true")
    return trainer, log


def _checkpoint_step(checkpoint: str | None) -> int | None:
    if checkpoint is None:
        return None
    state = Path(checkpoint) / "trainer_state.json"
    if state.exists():
        return int(json.loads(state.read_text(encoding="utf-8"))["global_step"])
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])


def train(
    config: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    output_dir: str | Path | None = None,
    max_steps: int | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run the GRPO recipe end to end: train, save model + tokenizer, write `training_summary.json`."""
    recipe = parse_grpo_config(config, with_overrides(args, output_dir, max_steps))
    out = Path(recipe.training.output_dir)
    checkpoint = resume_checkpoint(recipe.training, resume)

    started = time.perf_counter()
    trainer, log = build_trainer(recipe)
    log.start(_checkpoint_step(checkpoint))
    run = fit(trainer, checkpoint, out, started)
    log.flush()
    summary = _summary(recipe, trainer, log, run.result, checkpoint, run.start, run.prepare_s, run.train_s)
    write_summary(trainer, out, summary)
    return summary


def _first_last(history: list[dict[str, Any]], key: str) -> tuple[float | None, float | None]:
    values = [entry[key] for entry in history if key in entry]
    return (values[0], values[-1]) if values else (None, None)


def _summary(
    recipe: GRPORecipe,
    trainer: GRPOTrainer,
    log: RolloutLog,
    result: Any,
    checkpoint: str | None,
    start: RunStart,
    prepare_s: float,
    train_s: float,
) -> dict[str, Any]:
    from importlib.metadata import version

    import torch
    import transformers
    import trl

    state, args, script = trainer.state, trainer.args, recipe.script
    history = state.log_history
    reward_first, reward_last = _first_last(history, "reward")
    per_func = {name: _first_last(history, f"rewards/{name}/mean") for name in trainer.reward_func_names}
    tokens_seen = int(state.num_input_tokens_seen or 0)
    run_tokens = tokens_seen - start.tokens
    spec = rollout_spec(script)
    return {
        "trainer": "grpo",
        "config": str(recipe.path),
        "model": recipe.model.model_name_or_path,
        "dataset": script.dataset_name,
        "output_dir": str(args.output_dir),
        "format": script.thinking_format,
        "kind": script.kind,
        "method": script.method,
        "budget": script.max_thinking_tokens,
        "method_settings": {**spec.settings, **sampling_settings(args)},
        "rewards": list(trainer.reward_func_names),
        "reward_weights": [float(w) for w in trainer.reward_weights.tolist()],
        "adherence_target": (script.adherence_target or script.max_thinking_tokens)
        if script.adherence_weight > 0
        else None,
        "questions": recipe.questions,
        "num_generations": args.num_generations,
        "generation_batch_size": args.generation_batch_size,
        "max_steps": args.max_steps,
        "global_step": state.global_step,
        "steps_this_run": state.global_step - start.step,
        "resumed_from": checkpoint,
        "train_loss": result.training_loss,
        "first_logged_reward": reward_first,
        "last_logged_reward": reward_last,
        "first_logged_rewards": {name: first for name, (first, _) in per_func.items()},
        "last_logged_rewards": {name: last for name, (_, last) in per_func.items()},
        "rollouts_file": str(log.path),
        "rollouts_this_run": log.written,
        "generated_tokens_this_run": log.generated_tokens,
        "forced_tokens_this_run": log.forced_tokens,
        "probe_tokens_this_run": log.probe_tokens,
        "tokens_seen": tokens_seen,
        "tokens_this_run": run_tokens,
        "wall_time_s": round(prepare_s + train_s, 3),
        "train_time_s": round(train_s, 3),
        "tokens_per_s": round(run_tokens / train_s, 1) if train_s > 0 else None,
        "num_processes": args.world_size,
        "device": device_name(),
        "beta": args.beta,
        "loss_type": args.loss_type,
        "s1eval_version": version("s1eval"),
        "trl_version": trl.__version__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    }


__all__ = [
    "GRPORecipe",
    "S1GRPOArguments",
    "build_trainer",
    "check_recipe",
    "method_settings",
    "parse_grpo_config",
    "reward_names",
    "rollout_spec",
    "train",
]
