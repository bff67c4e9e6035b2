"""The peers a user would pick instead of s1eval, on the same model: HF `generate`, and the s1 reference loop.

`s1_reference_loop` is the budget-forcing loop of the s1 paper's lm-eval fork (`vllm_causallms.py`,
`_model_generate`) ported to HF `generate`, the way a user without vLLM runs it: every round re-prompts the
model with the whole text so far (prompt + thinking + "Wait"), asks for the whole remaining budget, stops at
the end-of-thinking token, and the answer round re-prompts again with the forced end of thinking and
`Final Answer:`. Rows are batched per round (left padding), as the fork batches a round's prompts in vLLM.
"""

from __future__ import annotations

from typing import Any

import torch


def plain_generate(model: Any, tokenizer: Any, contexts: list[list[int]], new_tokens: int) -> int:
    """Greedy `model.generate` of exactly `new_tokens` per row (left-padded batch); returns tokens generated."""
    new = _greedy(model, tokenizer, contexts, max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    return int(new.shape[0] * new.shape[1])


def s1_reference_loop(
    model: Any,
    tokenizer: Any,
    fmt: Any,
    prompts: list[str],
    max_thinking_tokens: int,
    num_extensions: int,
    max_answer_tokens: int,
    extension: str = "Wait",
) -> dict[str, Any]:
    """The fork's loop on HF generate; returns the generated token counts and the final texts."""
    from s1eval.formats import single_token_id

    stop_id = single_token_id(tokenizer, fmt.end_marker)
    eos = [stop_id] + [t for t in _eos_ids(tokenizer) if t != stop_id]
    texts = list(prompts)
    remaining = [max_thinking_tokens] * len(prompts)
    generated = 0
    for round_index in range(num_extensions + 1):
        live = [i for i, r in enumerate(remaining) if r > 0]
        if not live:
            break
        outs = _generate_texts(
            model, tokenizer, [texts[i] for i in live], max(remaining[i] for i in live), eos
        )
        for i, (text, count) in zip(live, outs, strict=True):
            count = min(count, remaining[i])  # the fork cuts each row to its own remaining budget
            generated += count
            remaining[i] -= count
            texts[i] += text
            if remaining[i] > 0 and round_index < num_extensions:
                texts[i] += extension
            else:
                remaining[i] = 0
    answer_prompts = [t + fmt.think_end + fmt.answer_prefix for t in texts]
    answers = _generate_texts(model, tokenizer, answer_prompts, max_answer_tokens, _eos_ids(tokenizer))
    generated += sum(count for _, count in answers)
    return {
        "generated_tokens": generated,
        "texts": [p + a for p, (a, _) in zip(answer_prompts, answers, strict=True)],
    }


def _generate_texts(
    model: Any, tokenizer: Any, texts: list[str], max_new: int, eos: list[int]
) -> list[tuple[str, int]]:
    contexts = [tokenizer.encode(t, add_special_tokens=False) for t in texts]
    new = _greedy(model, tokenizer, contexts, max_new_tokens=max_new, eos_token_id=eos).tolist()
    results = []
    for row in new:
        kept = []
        for token in row:
            if token in eos:
                break
            kept.append(token)
        results.append((tokenizer.decode(kept, skip_special_tokens=False), len(kept)))
    return results


def _greedy(model: Any, tokenizer: Any, contexts: list[list[int]], **limits: Any) -> torch.Tensor:
    """Greedy `model.generate` on a left-padded batch; the new tokens only (rows x steps)."""
    batch = _left_pad(tokenizer, contexts)
    with torch.inference_mode():
        out = model.generate(**batch, do_sample=False, pad_token_id=_pad_id(tokenizer), **limits)
    return out[:, batch["input_ids"].shape[1] :]


def _left_pad(tokenizer: Any, contexts: list[list[int]]) -> dict[str, torch.Tensor]:
    width = max(len(c) for c in contexts)
    ids = torch.full((len(contexts), width), _pad_id(tokenizer), dtype=torch.long)
    mask = torch.zeros((len(contexts), width), dtype=torch.long)
    for i, c in enumerate(contexts):
        ids[i, width - len(c) :] = torch.tensor(c, dtype=torch.long)
        mask[i, width - len(c) :] = 1
    return {"input_ids": ids, "attention_mask": mask}


def _pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)


def _eos_ids(tokenizer: Any) -> list[int]:
    eos = tokenizer.eos_token_id
    return [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
