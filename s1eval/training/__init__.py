"""The s1 SFT recipe: TRL's SFTTrainer, s1 chat layout, loss on thinking + answer only, YAML configs."""

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
    """See `training.recipe.train` (imported lazily: TRL and torch load only when training runs)."""
    from .recipe import train as _train

    return _train(*args, **kwargs)
