"""``s1eval train CONFIG`` (and ``python -m s1eval.training CONFIG``): run a recipe (SFT or GRPO) from a YAML config."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command(
    "train",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.argument("config")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where checkpoints and the final model go (default: output_dir from the config).",
)
@click.option("--max-steps", type=int, default=None, help="Stop after N optimiser steps (a quick look).")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint-* folder in the output dir.")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def train_command(
    config: str, output_dir: Path | None, max_steps: int | None, resume: bool, overrides: tuple[str, ...]
) -> None:
    """Fine-tune a model into the s1 thinking format with TRL's SFTTrainer, or train it with GRPO on
    budget-forced rollouts (configs with `trainer: grpo`).

    CONFIG is a YAML recipe (SFTConfig or GRPOConfig / ModelConfig fields) or a shipped name: cpu_tiny,
    one_gpu_qwen2.5_1.5b, paper_s1_32b, grpo_cpu_tiny, grpo_one_gpu_qwen2.5_1.5b. Any config field can follow
    as an override, e.g. `s1eval train cpu_tiny --learning_rate 1e-4`. For several GPUs, launch
    `python -m s1eval.training` with `accelerate launch` (see training/README.md in the repository).
    """
    try:
        from .dispatch import train
    except ModuleNotFoundError as exc:  # the [train] extra (trl, datasets) is not installed
        raise click.ClickException(
            f"`s1eval train` needs {exc.name!r}; pip install 's1eval[train]'"
        ) from None

    summary = train(config, list(overrides), output_dir=output_dir, max_steps=max_steps, resume=resume)
    keys = ("output_dir", "global_step", "train_loss", "last_logged_reward", "tokens_seen", "wall_time_s")
    brief = {k: summary[k] for k in keys if k in summary}
    click.echo(json.dumps(brief))
