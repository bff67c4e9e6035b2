"""The s1 training recipes: SFT (TRL's SFTTrainer, s1 chat layout, loss on thinking + answer only) and GRPO on
budget-forced rollouts (TRL's GRPOTrainer), both from YAML configs."""

from __future__ import annotations

from .data import example_text, format_example, join_thinking, load_rows, to_prompt_completion

__all__ = [
    "example_text",
    "format_example",
    "join_thinking",
    "load_rows",
    "to_prompt_completion",
    "train",
]


def train(*args, **kwargs):
    """Run the recipe a config names (`trainer: sft` or `grpo`; see `training.dispatch.train`). Imported lazily:
    TRL and torch load only when training runs."""
    from .dispatch import train as _train

    return _train(*args, **kwargs)
