"""The random models the benchmarks run on (built offline in seconds, like the tests' tiny model)."""

from __future__ import annotations

from pathlib import Path

MODELS = {
    "tiny": {"hidden_size": 64, "layers": 2, "heads": 4, "kv_heads": 2, "initializer_range": 0.3},
    "small": {"hidden_size": 256, "layers": 4, "heads": 8, "kv_heads": 4, "initializer_range": 0.15},
    "medium": {"hidden_size": 768, "layers": 8, "heads": 8, "kv_heads": 4, "initializer_range": 0.05},
}
"""tiny: the test model (~0.1M parameters); small: 2.5M; medium: ~43M (a 400-token vocabulary, so nearly all
of it is transformer blocks, as in a real model)."""


def build(name: str, root: Path) -> Path:
    from s1eval.testing.tiny_model import build_tiny_model

    return build_tiny_model(root / f"bench-{name}", **MODELS[name])


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
