"""One entry point for every recipe: the config's `trainer:` key (sft or grpo) picks which one runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .recipe import config_trainer, resolve_config


def train(
    config: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    output_dir: str | Path | None = None,
    max_steps: int | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run the recipe a config names (`trainer: sft`, the default, or `trainer: grpo`); see each recipe's `train`."""
    path = resolve_config(config)
    if config_trainer(path, args) == "grpo":
        from .grpo import train as run
    else:
        from .recipe import train as run
    return run(path, args, output_dir=output_dir, max_steps=max_steps, resume=resume)


__all__ = ["train"]
