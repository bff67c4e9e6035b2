"""Plain greedy decoding, the hf engine against `model.generate` on the same rows and the same token counts.

Grid: batch 1 / 8 / 32 x prompt 64 / 1,024 tokens, 32 new tokens per row, on the tiny test model and a ~43M
random model (`benchmarks/models.py`). Each cell is a median of interleaved repeats (`benchmarks/timing.py`;
at least `REPEATS`, more for short cells); the figure is `model.generate` time / hf engine time (above 1: the
engine is faster).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BATCHES = (1, 8, 32)
PROMPTS = (64, 1024)
NEW_TOKENS = 32
REPEATS = 5
"""At least this many interleaved pairs per cell: the prefill-bound cells (1,024-token prompts) move by 10% from
one repeat to the next, and two sessions' medians of 3 of the same code differed by 17% there (0.943, 1.101)."""
MIN_SECONDS = 10.0
"""A cell repeats (interleaved) until each side has run this long, so a one-second cell is a median of ~10."""


def contexts(vocab: int, batch: int, length: int, seed: int = 0) -> list[list[int]]:
    import random

    rng = random.Random(seed)
    return [[rng.randrange(5, vocab) for _ in range(length)] for _ in range(batch)]


def cell(engine, batch: int, length: int, repeats: int) -> dict:
    from benchmarks.peers import plain_generate
    from benchmarks.timing import interleaved, ratio
    from s1eval.engines.base import GenerationRequest

    rows = contexts(engine.model.config.vocab_size, batch, length)

    def ours() -> int:
        out = engine.generate([GenerationRequest(list(r), NEW_TOKENS) for r in rows])
        engine.release()
        return sum(o.num_tokens for o in out)

    def theirs() -> int:
        return plain_generate(engine.model, engine.tokenizer, rows, NEW_TOKENS)

    timing = interleaved({"hf_engine": ours, "hf_generate": theirs}, repeats, min_seconds=MIN_SECONDS)
    tokens = timing.pop("last")
    assert tokens["hf_engine"] == tokens["hf_generate"] == batch * NEW_TOKENS, tokens
    return {
        "batch": batch,
        "prompt_tokens": length,
        "new_tokens_per_row": NEW_TOKENS,
        **timing,
        "generate_over_engine_time": ratio(timing, "hf_generate", "hf_engine"),
    }


def main(argv: list[str] | None = None) -> dict:
    from benchmarks.models import build, parameters
    from s1eval.engines.hf import HFEngine

    args = sys.argv[1:] if argv is None else argv
    repeats = int(os.environ.get("S1EVAL_BENCH_REPEATS", str(REPEATS)))
    models = args or ["tiny", "medium"]
    figures: dict = {"what": "greedy decode, hf engine vs model.generate", "repeats": repeats, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            engine = HFEngine(str(build(name, Path(tmp))), batch_size=max(BATCHES))
            cells = []
            for batch in BATCHES:
                for length in PROMPTS:
                    cells.append(cell(engine, batch, length, repeats))
                    print(name, batch, length, cells[-1]["generate_over_engine_time"], flush=True)
            figures["models"][name] = {"parameters": parameters(engine.model), "cells": cells}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "decode.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
