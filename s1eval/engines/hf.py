"""transformers backend: batched decoding that keeps each batch's KV cache between calls.

A continuation (same `cache_key`, a context that extends or edits the end of the cached one) pays only for
its new suffix: the cached positions that the new context no longer contains become attention-mask holes,
and the suffix is appended. Rows that finish early keep stepping as holes too, so one batch stays one
tensor. Position ids are each row's logical positions, so holes never shift RoPE.

Holes are reclaimed: when the cache is more than `COMPACT_SLACK` times as wide as its widest live row (the
floor that left padding sets), every row's live positions are gathered, right-aligned, into a cache of that
width (`_maybe_compact`), so an abandoned trajectory (a sweep's answer forks, cut extensions, finished rows) is
neither stored nor attended to for long. The mask lives in a preallocated buffer that grows by doubling, the
keys and values in buffers with headroom (`kv_cache.GrowingLayer`: a step writes one column where
transformers' `DynamicCache` copies the whole cache), and a decode step builds its inputs as whole tensors,
not row by row.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from s1eval.engines.base import EngineBase, EngineError, GenerationRequest, GenerationResult
from s1eval.engines.kv_cache import growing_cache, plain_layer
from s1eval.engines.programs import drive_lockstep
from s1eval.engines.sampling import apply_penalties, make_generator, select_token
from s1eval.engines.stops import StopStringMatcher
from s1eval.errors import ConfigError, option


@dataclass
class _Row:
    key: Hashable | None
    cached: list[int] = field(default_factory=list)
    """Logical token ids whose keys/values are in the cache, in order."""
    phys: list[int] = field(default_factory=list)
    """Physical cache index of each cached token."""


PROGRAMS_PER_ROW = 4
"""`drive` is given up to this many programs per batch row, so a row whose program ends takes the next one."""
COMPACT_SLACK = 1.2
"""Compact a batch's cache when it is wider than this many times its widest live row ..."""
COMPACT_MIN = 8
"""... and wider than it by more than this many columns (a few holes are not worth a copy of the cache)."""


class _Batch:
    """One cache, its rows, and the attention mask over the cache's columns (1 = a live cached position)."""

    def __init__(self, cache: Any, rows: list[_Row]):
        self.cache = cache
        self.rows = rows
        self._buf = torch.zeros((len(rows), 64), dtype=torch.long)
        self.width = 0

    @property
    def mask(self) -> torch.Tensor:
        """(B, T) view of the buffer: writes to it are writes to the batch's mask."""
        return self._buf[:, : self.width]

    def append_columns(self, new: torch.Tensor) -> None:
        k = new.shape[1]
        if self.width + k > self._buf.shape[1]:
            grown = torch.zeros(
                (self._buf.shape[0], max(2 * self._buf.shape[1], self.width + k)), dtype=torch.long
            )
            grown[:, : self.width] = self.mask
            self._buf = grown
        self._buf[:, self.width : self.width + k] = new
        self.width += k

    def select_rows(self, order: list[int]) -> None:
        self._buf = self._buf[torch.tensor(order, dtype=torch.long)]
        self.rows = [self.rows[i] for i in order]

    def replace_mask(self, mask: torch.Tensor) -> None:
        self._buf = mask.clone()
        self.width = mask.shape[1]

    def cells_per_live(self) -> float:
        """Cache cells (rows x columns) per live cached token."""
        live = sum(len(r.phys) for r in self.rows)
        return len(self.rows) * self.width / live if live else 1.0

    def widest(self) -> int:
        """Live cached tokens of the longest row: the width left padding alone would need."""
        return max((len(r.phys) for r in self.rows), default=0)

    def cells_over_floor(self) -> float:
        """Cache width over its widest live row: 1.0 when the only holes are left padding."""
        widest = self.widest()
        return self.width / widest if widest else 1.0


class _RowState:
    """Decoding state of one request in a batch row: its output so far, stops, sampler."""

    def __init__(self, req: GenerationRequest, engine: HFEngine):
        self.req = req
        self.engine = engine
        self.output: list[int] = []
        self.stops = set(req.stop_token_ids)
        self.stop_list = list(self.stops)
        self.matcher = StopStringMatcher(engine.tokenizer, req.stop_strings)
        self.generator = make_generator(req.seed, req.sampling.greedy)
        sp = req.sampling
        self.plain_greedy = (
            sp.greedy
            and sp.repetition_penalty == 1.0
            and not sp.frequency_penalty
            and not sp.presence_penalty
        )

    def sample(self, logits: torch.Tensor) -> int:
        row = logits.clone()
        apply_penalties(row, self.req.sampling, self.req.context_ids, self.output)
        return select_token(row, self.req.sampling, self.generator)

    def accept(self, token: int) -> GenerationResult | None:
        """Take the chosen token; a result when the request has ended, None when the token is to be fed."""
        if token in self.stops:
            return self.engine._result(self.output, "stop_token", stop_token=token)
        self.output.append(token)
        hit = self.matcher.check(self.output) if self.matcher else None
        if hit is not None:
            matched, keep = hit
            return self.engine._result(
                self.output[:keep], "stop_string", stop_string=matched, discarded=len(self.output) - keep
            )
        if len(self.output) >= self.req.max_new_tokens:
            return self.engine._result(self.output, "length")
        return None


_Next = tuple["_RowState | None", list[int], "torch.Tensor | None"]
"""What a finished row gets next: its new request's state (None: the row is done), the suffix to feed, and
for a row refilled with a new prompt, that prompt's logits."""


def _suppress_stops(states: Sequence[_RowState | None], logits: torch.Tensor) -> None:
    """vLLM's min_tokens for every row at once: one indexed write of -inf over (row, stop token) pairs."""
    rows: list[int] = []
    cols: list[int] = []
    for i, st in enumerate(states):
        if st is not None and st.stop_list and len(st.output) < st.req.min_new_tokens:
            rows.extend([i] * len(st.stop_list))
            cols.extend(st.stop_list)
    if rows:
        logits[torch.tensor(rows), torch.tensor(cols)] = float("-inf")


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device_dtype(device: str | None, dtype: str | None) -> tuple[str, torch.dtype]:
    """The torch device and dtype a model loads on, refused in one line before anything loads."""
    device = str(device or "auto").strip().lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError):
        raise ConfigError(
            f"{option('device', repr(device))} is not a torch device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"{option('device', device)} asked for, but this machine has no CUDA GPU; use cpu or auto"
        )
    if (
        kind == "cuda"
        and (index := torch.device(device).index) is not None
        and index >= torch.cuda.device_count()
    ):
        raise ConfigError(f"{option('device', device)}: this machine has {torch.cuda.device_count()} GPU(s)")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"{option('device', 'mps')} asked for, but MPS is not available here; use cpu or auto"
        )
    name = str(dtype or "auto").strip().lower().removeprefix("torch.")
    if name == "auto":
        bf16 = kind == "cuda" and torch.cuda.is_bf16_supported()
        return device, torch.bfloat16 if bf16 else torch.float32
    if name not in DTYPES:
        raise ConfigError(f"{option('dtype', repr(dtype))} is not one of: auto, {', '.join(DTYPES)}")
    return device, DTYPES[name]


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
    device, torch_dtype = resolve_device_dtype(device, dtype)
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


class HFEngine(EngineBase):
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
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{option('batch_size')} must be a positive integer, got {batch_size!r}")
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
        self.stats = {
            "prefill_tokens": 0,
            "decode_steps": 0,
            "generated_tokens": 0,
            "reused_tokens": 0,
            "compactions": 0,
            "refills": 0,
            "widenings": 0,
            "peak_cache_cells": 0,
            "peak_cells_per_live": 0.0,
            "peak_cells_over_floor": 0.0,
        }

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

    @property
    def programs_per_drive(self) -> int:
        """How many programs one `drive` call takes: several batches' worth, so finished rows refill."""
        return self.max_batch_size * PROGRAMS_PER_ROW if self.reuse_cache else self.max_batch_size

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
        batch, logits = self._prefill(requests)
        return batch, self._decode(batch, requests, logits)

    def _prefill(self, requests: Sequence[GenerationRequest]) -> tuple[_Batch, torch.Tensor]:
        """A new batch (a fresh cache) holding every request's context; the logits after it."""
        for req in requests:
            if not req.context_ids:
                raise EngineError("a generation request has an empty context; give it a prompt")
        batch = _Batch(growing_cache(self.model.config), [_Row(key=r.cache_key) for r in requests])
        return batch, self._feed(batch, [list(r.context_ids) for r in requests])

    def _continue(self, batch: _Batch, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        index = {row.key: i for i, row in enumerate(batch.rows)}
        order = [index[r.cache_key] for r in requests]
        if order != list(range(len(batch.rows))):
            batch.cache.batch_select_indices(torch.tensor(order, dtype=torch.long, device=self.device))
            batch.select_rows(order)
        suffixes = [self._retarget(batch, i, req) for i, req in enumerate(requests)]
        if not any(suffixes):  # keep-alives only
            return [GenerationResult(text="", token_ids=[], stop_reason="length") for _ in requests]
        logits = self._feed(batch, suffixes)
        return self._decode(batch, requests, logits)

    def _retarget(self, batch: _Batch, i: int, req: GenerationRequest) -> list[int]:
        """Point row i at a new context: cached positions it no longer holds become holes; returns the suffix
        still to feed (empty for a keep-alive)."""
        row, ctx = batch.rows[i], req.context_ids
        common = _common_prefix(row.cached, ctx)
        if req.max_new_tokens > 0:
            common = min(common, len(ctx) - 1)  # at least one token to feed, for fresh logits
        if common <= 0:
            raise EngineError("continuation with a different prompt under the same cache_key")
        dead = row.phys[common:]
        if dead:
            batch.mask[i, dead] = 0
        row.cached, row.phys = row.cached[:common], row.phys[:common]
        self.stats["reused_tokens"] += common
        return list(ctx[common:]) if req.max_new_tokens > 0 else []

    def _feed(self, batch: _Batch, feeds: Sequence[Sequence[int]]) -> torch.Tensor:
        """One forward step: each row's new tokens right-aligned (rows with none are holes); last logits."""
        self._maybe_compact(batch)
        n, width = len(feeds), max(len(f) for f in feeds)
        if width == 1:  # a decode step: whole tensors, no per-row tensor work
            ids = torch.tensor([f[0] if f else self.pad_id for f in feeds], dtype=torch.long).view(n, 1)
            mask = torch.tensor([1 if f else 0 for f in feeds], dtype=torch.long).view(n, 1)
            positions = torch.tensor([len(r.cached) for r in batch.rows], dtype=torch.long).view(n, 1)
            self.stats["decode_steps"] += 1
            return self._forward(batch, ids, mask, positions, feeds)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        positions = torch.zeros((n, width), dtype=torch.long)
        for i, toks in enumerate(feeds):
            k = len(toks)
            if k == 0:
                continue
            ids[i, width - k :] = torch.tensor(toks, dtype=torch.long)
            mask[i, width - k :] = 1
            start = len(batch.rows[i].cached)
            positions[i, width - k :] = torch.arange(start, start + k)
        self.stats["prefill_tokens"] += int(mask.sum())
        return self._forward(batch, ids, mask, positions, feeds)

    def _maybe_compact(self, batch: _Batch) -> None:
        """Reclaim holes once the cache is `COMPACT_SLACK` times wider than its widest live row."""
        widest = batch.widest()
        if widest == 0 or batch.width <= COMPACT_SLACK * widest or batch.width - widest <= COMPACT_MIN:
            return
        layers = getattr(batch.cache, "layers", None)
        if not layers or not all(plain_layer(layer) for layer in layers):
            return  # a sliding-window, quantized or offloaded cache: leave its layout alone
        n = len(batch.rows)
        index = torch.zeros((n, widest), dtype=torch.long)
        mask = torch.zeros((n, widest), dtype=torch.long)
        for i, row in enumerate(batch.rows):
            k = len(row.phys)
            if k:
                index[i, widest - k :] = torch.tensor(row.phys, dtype=torch.long)
                mask[i, widest - k :] = 1
            row.phys = list(range(widest - k, widest))
        on_device = index.to(self.device)
        for layer in layers:
            if getattr(layer, "keys", None) is None or layer.keys.numel() == 0:
                continue
            b, heads, _, dim = layer.keys.shape
            gather = on_device.view(b, 1, widest, 1).expand(b, heads, widest, dim)
            layer.keys = torch.gather(layer.keys, 2, gather)
            gather = on_device.view(b, 1, widest, 1).expand(b, heads, widest, layer.values.shape[-1])
            layer.values = torch.gather(layer.values, 2, gather)
        batch.replace_mask(mask)
        self.stats["compactions"] += 1

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
        t0 = batch.width
        batch.append_columns(new_mask)
        self._record_cache_shape(batch)
        mask = batch.mask
        # no holes and no padding: give no mask, so attention takes its causal fast path, as generate() does
        full = bool(mask.all())
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=None if full else mask.to(self.device),
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

    def _record_cache_shape(self, batch: _Batch) -> None:
        stats = self.stats
        stats["peak_cache_cells"] = max(stats["peak_cache_cells"], len(batch.rows) * batch.width)
        stats["peak_cells_per_live"] = max(stats["peak_cells_per_live"], round(batch.cells_per_live(), 4))
        stats["peak_cells_over_floor"] = max(
            stats["peak_cells_over_floor"], round(batch.cells_over_floor(), 4)
        )

    def _decode(
        self, batch: _Batch, requests: Sequence[GenerationRequest], logits: torch.Tensor
    ) -> list[GenerationResult]:
        """Decode every row to the end of its request (lock-step API: one request per row)."""
        results: list[GenerationResult | None] = [None] * len(requests)
        states: list[_RowState | None] = []
        for i, req in enumerate(requests):
            if req.max_new_tokens <= 0:
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
                states.append(None)
            else:
                states.append(_RowState(req, self))

        def finish(i: int, _row: int, result: GenerationResult) -> _Next:
            results[i] = result
            return None, [], None

        self._loop(batch, states, logits, finish)
        return [r for r in results if r is not None]

    def _loop(
        self,
        batch: _Batch,
        states: list[_RowState | None],
        logits: torch.Tensor,
        on_finish: Callable[[int, int, GenerationResult], _Next],
        *,
        compact: bool = False,
    ) -> None:
        """Step every live row until none is left. A row whose request ends is handed to
        `on_finish(original index, current row, result)`, which may give it a new request and either the suffix
        to feed or, for a row it refilled with a new prompt (prefilled apart and spliced into the cache), that
        prompt's logits, all in the same step: rows never wait for each other. With `compact`, rows that are
        done for good leave the batch (their cache is freed), so the rest decode as a smaller batch."""
        origin = list(range(len(states)))
        while True:
            _suppress_stops(states, logits)
            greedy = torch.argmax(logits, dim=-1).tolist()  # one sync for every plain greedy row
            feeds: list[list[int]] = [[] for _ in states]
            ready: dict[int, torch.Tensor] = {}  # origin -> logits of a row spliced in this step
            for i in range(len(states)):
                st = states[i]
                while st is not None:
                    token = greedy[i] if st.plain_greedy else st.sample(logits[i])
                    result = st.accept(token)
                    if result is None:
                        feeds[i] = [token]
                        break
                    self.stats["generated_tokens"] += len(st.output)
                    states[i], suffix, spliced = on_finish(origin[i], i, result)
                    st = states[i]
                    if st is not None:
                        feeds[i] = suffix
                        if spliced is not None:
                            ready[origin[i]] = spliced
                        break
            if not any(feeds) and not ready:
                return
            if compact and any(st is None for st in states):
                keep = [i for i, st in enumerate(states) if st is not None]
                batch.cache.batch_select_indices(torch.tensor(keep, dtype=torch.long, device=self.device))
                batch.select_rows(keep)
                states, feeds, origin = (
                    [states[i] for i in keep],
                    [feeds[i] for i in keep],
                    [origin[i] for i in keep],
                )
            if any(feeds):
                logits = self._feed(batch, feeds)
            else:  # only refilled rows are live: their logits came with their prefill
                logits = torch.zeros((len(states), next(iter(ready.values())).shape[-1]))
            for row, slot in enumerate(origin):
                if slot in ready:
                    logits[row] = ready[slot]

    # ------------------------------------------------------------------ programs, continuously batched
    @torch.inference_mode()
    def drive(self, programs: Sequence[Any]) -> list[Any]:
        """Run per-sample control programs (see s1eval.engines.programs) with no lock-step between rows.

        When one row's request ends (a delimiter, its budget), its program's next request (an extension, the
        answer) is fed in the very next step while the other rows keep decoding, so a batch never waits for
        its slowest row. When a program is done and others wait (more programs than `batch_size`), the next
        one takes its row at once: its prompt is prefilled on its own and spliced into the batch's cache
        (continuous batching across prompts). Results equal the lock-step loop's: each request samples with
        its own seed.
        """
        if not self.reuse_cache:
            return drive_lockstep(self, programs)
        finals: list[Any] = [None] * len(programs)
        waiting = iter(range(len(programs)))

        def start_next() -> tuple[int, GenerationRequest] | None:
            for p in waiting:
                req = self._next_request(programs[p], None, finals, p)
                if req is not None:
                    return p, req
            return None

        while True:  # one wave per batch; a cache that cannot be spliced runs the rest as the next wave
            slots: list[int] = []
            firsts: list[GenerationRequest] = []
            while len(slots) < self.max_batch_size and (nxt := start_next()) is not None:
                slots.append(nxt[0])
                firsts.append(nxt[1])
            if not slots:
                return finals
            batch, logits = self._prefill(firsts)
            refill = all(plain_layer(layer) for layer in getattr(batch.cache, "layers", None) or [None])

            def finish(
                i: int,
                row: int,
                result: GenerationResult,
                batch: _Batch = batch,
                slots=slots,
                refill: bool = refill,
            ) -> _Next:
                req = self._next_request(programs[slots[i]], result, finals, slots[i])
                if req is not None:
                    return _RowState(req, self), self._retarget(batch, row, req), None
                nxt = start_next() if refill else None
                if nxt is None:
                    return None, [], None
                slots[i] = nxt[0]
                return _RowState(nxt[1], self), [], self._splice(batch, row, nxt[1])

            self._loop(batch, [_RowState(r, self) for r in firsts], logits, finish, compact=True)

    def _splice(self, batch: _Batch, row: int, req: GenerationRequest) -> torch.Tensor:
        """Put a new prompt into row `row`: prefilled as a batch of one, its keys and values written into the
        row's last columns (the cache widened on the left if the prompt is longer); its last logits."""
        single, logits = self._prefill([req])
        self.stats["refills"] += 1
        length = len(req.context_ids)
        if length > batch.width:
            self._widen(batch, length - batch.width)
        width = batch.width
        for layer, new in zip(batch.cache.layers, single.cache.layers, strict=True):
            layer.keys[row, :, width - length :] = new.keys[0]
            layer.values[row, :, width - length :] = new.values[0]
        batch.mask[row] = 0
        batch.mask[row, width - length :] = 1
        target = batch.rows[row]
        target.key, target.cached, target.phys = (
            req.cache_key,
            list(req.context_ids),
            list(range(width - length, width)),
        )
        return logits[0]

    def _widen(self, batch: _Batch, extra: int) -> None:
        """`extra` empty columns on the left of every row (cache and mask)."""
        self.stats["widenings"] += 1
        for layer in batch.cache.layers:
            for name in ("keys", "values"):
                t = getattr(layer, name)
                pad = torch.zeros((t.shape[0], t.shape[1], extra, t.shape[3]), dtype=t.dtype, device=t.device)
                setattr(layer, name, torch.cat([pad, t], dim=2))
        mask = torch.zeros((len(batch.rows), batch.width + extra), dtype=torch.long)
        mask[:, extra:] = batch.mask
        batch.replace_mask(mask)
        for r in batch.rows:
            r.phys = [p + extra for p in r.phys]

    @staticmethod
    def _next_request(program: Any, result: GenerationResult | None, finals: list[Any], i: int):
        """The program's next request that generates something (keep-alives are answered at once), or None
        when the program has returned (its value goes to finals[i])."""
        while True:
            try:
                req = next(program) if result is None else program.send(result)
            except StopIteration as stop:
                finals[i] = stop.value
                return None
            if req.max_new_tokens > 0:
                return req
            result = GenerationResult(text="", token_ids=[], stop_reason="length")

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
