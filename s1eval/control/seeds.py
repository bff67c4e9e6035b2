"""The one seed function of s1eval: a sample's seed from the run's seed, the question's id and the repeat.

Every front end (the CLI's `eval` and `generate`, lm-eval, Inspect, the studies) derives each sample's seed
here, from the benchmark's own question id (MATH500 `unique_id`, the AIME problem id, the GPQA record id),
never from a position in a request list. So the same question with the same run seed draws the same samples
whichever front end runs it and whatever other questions share the run. Seeds fit in 31 bits, the range every
engine accepts (torch generators, vLLM, OpenAI-compatible servers).
"""

from __future__ import annotations

import hashlib
from typing import Any

SEED_BITS = 31


def sample_seed(run_seed: int | None, question_id: Any, repeat: int = 0) -> int:
    """The seed of repeat `repeat` (0-based) of question `question_id` in a run seeded `run_seed`."""
    base = 0 if run_seed is None else int(run_seed)
    digest = hashlib.sha256(f"s1eval:{base}:{question_id}:{int(repeat)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**SEED_BITS)


__all__ = ["SEED_BITS", "sample_seed"]
