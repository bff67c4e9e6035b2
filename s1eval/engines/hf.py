"""transformers backend: batched decoding that keeps each batch's KV cache between calls.

A continuation (same `cache_key`, a context that extends or edits the end of the cached one) pays only for
its new suffix: the cached positions that the new context no longer contains become attention-mask holes,
and the suffix is appended. Rows that finish early keep stepping as holes too, so one batch stays one
tensor. Position ids are each row's logical positions, so holes never shift RoPE.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from s1eval.engines.base import EngineError, GenerationRequest, GenerationResult
from s1eval.engines.sampling import apply_penalties, make_generator, select_token
from s1eval.engines.stops import StopStringMatcher


@dataclass
class _Row:
    key: Hashable | None
    cached: list[int] = field(default_factory=list)
    """Logical token ids whose keys/values are in the cache, in order."""
    phys: list[int] = field(default_factory=list)
    """Physical cache index of each cached token."""


@dataclass
class _Batch:
    cache: Any
    mask: torch.Tensor  # (B, T) long, 1 = a live cached position
    rows: list[_Row]


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def load_model_and_tokenizer(
    model: str,
    *,
    dtype: str = "auto",
    device: str = "auto",
    revision: str | None = None,
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
):
    """Load a causal LM and its tokenizer from a hub id or a local path, with one-line errors."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    looks_local = model.startswith((".", "/", "~")) or os.sep in model and not _looks_like_hub_id(model)
    if looks_local and not Path(model).expanduser().exists():
        raise EngineError(f"model path {model!r} does not exist; pass an existing directory or a hub id")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        torch_dtype = (
            torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
        )
    else:
        torch_dtype = getattr(torch, dtype)
    kwargs: dict[str, Any] = {
        "revision": revision,
        "trust_remote_code": trust_remote_code,
        "dtype": torch_dtype,
    }
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            model, revision=revision, trust_remote_code=trust_remote_code
        )
        lm = AutoModelForCausalLM.from_pretrained(model, **kwargs)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            f"cannot load model {model!r}: {first} (check the path or hub id, and HF_TOKEN for gated models)"
        ) from exc
    lm.to(device)
    lm.eval()
    return lm, tokenizer


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~"))


class HFEngine:
    """In-process transformers engine with KV-cache reuse across calls."""

    name = "hf"

    def __init__(
        self,
        model: str | Any,
        tokenizer: Any | None = None,
        *,
        batch_size: int = 16,
        dtype: str = "auto",
        device: str = "auto",
        revision: str | None = None,
        trust_remote_code: bool = False,
        attn_implementation: str | None = None,
        reuse_cache: bool = True,
    ):
        if isinstance(model, str):
            self.model_id = model
            self.model, self.tokenizer = load_model_and_tokenizer(
                model,
                dtype=dtype,
                device=device,
                revision=revision,
                trust_remote_code=trust_remote_code,
                attn_implementation=attn_implementation,
            )
        else:
            if tokenizer is None:
                raise EngineError("HFEngine(model=<object>) needs tokenizer=<its tokenizer>")
            self.model, self.tokenizer = model, tokenizer
            self.model_id = getattr(model, "name_or_path", type(model).__name__)
        self.revision = revision
        self.reuse_cache = reuse_cache
        """False re-encodes every continuation from scratch (a baseline for benchmarks and checks)."""
        self.max_batch_size = batch_size
        self.device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (self.tokenizer.eos_token_id or 0)
        self._batches: list[_Batch] = []
        params = inspect.signature(self.model.forward).parameters
        self._cache_kwarg = (
            "cache" if "cache" in params else "past_key_values"
        )  # transformers >= 5.2x: cache=
        self.stats = {"prefill_tokens": 0, "decode_steps": 0, "generated_tokens": 0, "reused_tokens": 0}

    def describe(self) -> dict:
        return {
            "engine": self.name,
            "model": self.model_id,
            "revision": self.revision,
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "device": str(self.device),
            "batch_size": self.max_batch_size,
            "reuse_cache": self.reuse_cache,
        }

    # ------------------------------------------------------------------ public API
    @torch.inference_mode()
    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        if not requests:
            return []
        results: list[GenerationResult | None] = [None] * len(requests)
        keep: list[_Batch] = []
        owner = self._owners(requests)
        by_batch: dict[int, list[int]] = {}
        fresh: list[int] = []
        for i, b in enumerate(owner):
            if (
                b is None and requests[i].max_new_tokens <= 0
            ):  # a keep-alive with nothing cached: nothing to do
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
                continue
            (fresh if b is None else by_batch.setdefault(b, [])).append(i)
        for b, idxs in by_batch.items():
            batch = self._batches[b]
            out = self._continue(batch, [requests[i] for i in idxs])
            keep.append(batch)
            for i, r in zip(idxs, out, strict=True):
                results[i] = r
        # fresh prompts: sort by length so a batch pads little
        fresh.sort(key=lambda i: len(requests[i].context_ids))
        for start in range(0, len(fresh), self.max_batch_size):
            idxs = fresh[start : start + self.max_batch_size]
            batch, out = self._start([requests[i] for i in idxs])
            keep.append(batch)
            for i, r in zip(idxs, out, strict=True):
                results[i] = r
        self._batches = keep  # a batch not continued in this call is finished: free its cache
        return [r for r in results if r is not None]

    def release(self) -> None:
        """Drop every cached batch (frees memory between unrelated workloads)."""
        self._batches = []

    # ------------------------------------------------------------------ batching
    def _owners(self, requests: Sequence[GenerationRequest]) -> list[int | None]:
        """Which cached batch continues each request (None: start fresh)."""
        if not self.reuse_cache:
            return [None] * len(requests)
        where: dict[Hashable, int] = {}
        for b, batch in enumerate(self._batches):
            for row in batch.rows:
                if row.key is not None:
                    where[row.key] = b
        owners: list[int | None] = []
        seen: set[Hashable] = set()
        for req in requests:
            b = where.get(req.cache_key) if req.cache_key is not None else None
            if b is not None and req.cache_key in seen:
                b = None  # the same key twice in one call: the second one starts fresh
            if req.cache_key is not None:
                seen.add(req.cache_key)
            owners.append(b)
        return owners

    def _start(self, requests: Sequence[GenerationRequest]) -> tuple[_Batch, list[GenerationResult]]:
        from transformers import DynamicCache

        width = max(len(r.context_ids) for r in requests)
        ids = torch.full((len(requests), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(requests), width), dtype=torch.long)
        rows = []
        for i, req in enumerate(requests):
            n = len(req.context_ids)
            if n == 0:
                raise EngineError("a generation request has an empty context; give it a prompt")
            ids[i, width - n :] = torch.tensor(req.context_ids, dtype=torch.long)
            mask[i, width - n :] = 1
            rows.append(_Row(key=req.cache_key))
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        batch = _Batch(
            cache=DynamicCache(config=self.model.config),
            mask=torch.zeros((len(requests), 0), dtype=torch.long),
            rows=rows,
        )
        suffixes = [list(r.context_ids) for r in requests]
        logits = self._forward(batch, ids, mask, positions, suffixes)
        self.stats["prefill_tokens"] += int(mask.sum())
        return batch, self._decode(batch, requests, logits)

    def _continue(self, batch: _Batch, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        index = {row.key: i for i, row in enumerate(batch.rows)}
        order = [index[r.cache_key] for r in requests]
        if order != list(range(len(batch.rows))):
            sel = torch.tensor(order, dtype=torch.long, device=self.device)
            batch.cache.batch_select_indices(sel)
            batch.mask = batch.mask[torch.tensor(order, dtype=torch.long)]
            batch.rows = [batch.rows[i] for i in order]
        suffixes: list[list[int]] = []
        for i, (row, req) in enumerate(zip(batch.rows, requests, strict=True)):
            ctx = req.context_ids
            common = _common_prefix(row.cached, ctx)
            if req.max_new_tokens > 0:
                common = min(common, len(ctx) - 1)  # at least one token to feed, for fresh logits
            if common <= 0:
                raise EngineError("continuation with a different prompt under the same cache_key")
            dead = row.phys[common:]
            if dead:
                batch.mask[i, dead] = 0
            row.cached, row.phys = row.cached[:common], row.phys[:common]
            suffixes.append(list(ctx[common:]) if req.max_new_tokens > 0 else [])
            self.stats["reused_tokens"] += common
        width = max(len(s) for s in suffixes)
        if width == 0:  # keep-alives only
            return [GenerationResult(text="", token_ids=[], stop_reason="length") for _ in requests]
        ids = torch.full((len(requests), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(requests), width), dtype=torch.long)
        positions = torch.zeros((len(requests), width), dtype=torch.long)
        for i, suffix in enumerate(suffixes):
            n = len(suffix)
            if n == 0:
                continue
            ids[i, width - n :] = torch.tensor(suffix, dtype=torch.long)
            mask[i, width - n :] = 1
            start = len(batch.rows[i].cached)
            positions[i, width - n :] = torch.arange(start, start + n)
        self.stats["prefill_tokens"] += int(mask.sum())
        logits = self._forward(batch, ids, mask, positions, suffixes)
        return self._decode(batch, requests, logits)

    # ------------------------------------------------------------------ model calls
    @torch.inference_mode()
    def _forward(
        self,
        batch: _Batch,
        ids: torch.Tensor,
        new_mask: torch.Tensor,
        positions: torch.Tensor,
        appended: Sequence[Sequence[int]],
    ) -> torch.Tensor:
        """Run new columns through the model, extend the cache and bookkeeping; last-column logits.

        Each row's new tokens (`appended[i]`) are right-aligned in `ids`; columns before them are holes.
        """
        t0 = batch.mask.shape[1]
        batch.mask = torch.cat([batch.mask, new_mask], dim=1)
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=batch.mask.to(self.device),
            position_ids=positions.to(self.device),
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_kwarg: batch.cache},
        )
        new_cache = getattr(out, self._cache_kwarg, None)
        batch.cache = new_cache if new_cache is not None else out.past_key_values
        end = t0 + ids.shape[1]
        for row, toks in zip(batch.rows, appended, strict=True):
            if toks:
                row.cached.extend(toks)
                row.phys.extend(range(end - len(toks), end))
        return out.logits[:, -1, :].float()

    def _decode(
        self, batch: _Batch, requests: Sequence[GenerationRequest], logits: torch.Tensor
    ) -> list[GenerationResult]:
        n = len(requests)
        outputs: list[list[int]] = [[] for _ in range(n)]
        done = [False] * n
        results: list[GenerationResult | None] = [None] * n
        stop_sets = [set(r.stop_token_ids) for r in requests]
        matchers = [StopStringMatcher(self.tokenizer, r.stop_strings) for r in requests]
        generators = [make_generator(r.seed, r.sampling.greedy) for r in requests]
        plain_greedy = [
            r.sampling.greedy
            and r.sampling.repetition_penalty == 1.0
            and not r.sampling.frequency_penalty
            and not r.sampling.presence_penalty
            for r in requests
        ]
        for i, req in enumerate(requests):
            if req.max_new_tokens <= 0:
                done[i] = True
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
        while not all(done):
            next_ids = torch.full((n, 1), self.pad_id, dtype=torch.long)
            step_mask = torch.zeros((n, 1), dtype=torch.long)
            positions = torch.zeros((n, 1), dtype=torch.long)
            fed: list[list[int]] = [[] for _ in range(n)]
            for i, req in enumerate(requests):
                if not done[i] and len(outputs[i]) < req.min_new_tokens and stop_sets[i]:
                    logits[i, list(stop_sets[i])] = float("-inf")
            greedy_choice = torch.argmax(logits, dim=-1).tolist()  # one sync for every plain greedy row
            for i, req in enumerate(requests):
                if done[i]:
                    continue
                if plain_greedy[i]:
                    token = greedy_choice[i]
                else:
                    row_logits = logits[i].clone()
                    apply_penalties(row_logits, req.sampling, req.context_ids, outputs[i])
                    token = select_token(row_logits, req.sampling, generators[i])
                if token in stop_sets[i]:
                    done[i] = True
                    results[i] = self._result(outputs[i], "stop_token", stop_token=token)
                    continue
                outputs[i].append(token)
                hit = matchers[i].check(outputs[i]) if matchers[i] else None
                if hit is not None:
                    matched, keep = hit
                    done[i] = True
                    results[i] = self._result(
                        outputs[i][:keep],
                        "stop_string",
                        stop_string=matched,
                        discarded=len(outputs[i]) - keep,
                    )
                    # every output token but this last one was fed; mark so the cache bookkeeping stays true
                    continue
                if len(outputs[i]) >= req.max_new_tokens:
                    done[i] = True
                    results[i] = self._result(outputs[i], "length")
                    continue
                next_ids[i, 0] = token
                step_mask[i, 0] = 1
                positions[i, 0] = len(batch.rows[i].cached)
                fed[i] = [token]
            if all(done):
                break
            logits = self._forward(batch, next_ids, step_mask, positions, fed)
            self.stats["decode_steps"] += 1
        generated = sum(len(o) for o in outputs)
        self.stats["generated_tokens"] += generated
        return [r for r in results if r is not None]

    def _result(
        self,
        ids: list[int],
        reason: str,
        *,
        stop_token: int | None = None,
        stop_string: str | None = None,
        discarded: int = 0,
    ) -> GenerationResult:
        return GenerationResult(
            text=self.tokenizer.decode(ids, skip_special_tokens=False),
            token_ids=list(ids),
            stop_reason=reason,  # type: ignore[arg-type]
            stop_token=stop_token,
            stop_string=stop_string,
            discarded_tokens=discarded,
        )
