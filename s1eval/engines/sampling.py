"""Next-token selection for in-process engines: penalties, temperature, top-k/top-p, per-row seeded sampling.

Each row samples with its own `torch.Generator`, so a seeded request draws the same tokens whatever batch it
lands in. Penalties follow vLLM: repetition over context + output, frequency/presence over the output only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from s1eval.engines.base import SamplingParams


def apply_penalties(
    logits: torch.Tensor, params: SamplingParams, context_ids: Sequence[int], output_ids: Sequence[int]
) -> torch.Tensor:
    """Penalise one row's logits in place (1-D tensor) and return it."""
    if params.repetition_penalty != 1.0:
        seen = torch.tensor(
            sorted(set(context_ids) | set(output_ids)), device=logits.device, dtype=torch.long
        )
        if seen.numel():
            vals = logits[seen]
            logits[seen] = torch.where(
                vals > 0, vals / params.repetition_penalty, vals * params.repetition_penalty
            )
    if (params.frequency_penalty or params.presence_penalty) and output_ids:
        ids = torch.tensor(output_ids, device=logits.device, dtype=torch.long)
        counts = torch.bincount(ids, minlength=logits.shape[-1])[: logits.shape[-1]].to(logits.dtype)
        logits -= params.frequency_penalty * counts
        logits -= params.presence_penalty * (counts > 0).to(logits.dtype)
    return logits


def select_token(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None) -> int:
    """Pick the next token for one row (1-D logits)."""
    if params.greedy:
        return int(torch.argmax(logits).item())
    scores = logits.float() / params.temperature
    if params.top_k and params.top_k > 0 and params.top_k < scores.shape[-1]:
        kth = torch.topk(scores, params.top_k).values[-1]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_scores, order = torch.sort(scores, descending=True)
        probs = torch.softmax(sorted_scores, dim=-1)
        cumulative = torch.cumsum(probs, dim=-1)
        drop = cumulative - probs > params.top_p
        sorted_scores = sorted_scores.masked_fill(drop, float("-inf"))
        scores = torch.full_like(scores, float("-inf")).scatter(0, order, sorted_scores)
    probs = torch.softmax(scores, dim=-1)
    return int(torch.multinomial(probs.cpu(), 1, generator=generator).item())


def make_generator(seed: int | None, greedy: bool) -> torch.Generator | None:
    """A CPU generator for a seeded sampled row; None for greedy rows."""
    if greedy:
        return None
    gen = torch.Generator(device="cpu")
    gen.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()))
    return gen
