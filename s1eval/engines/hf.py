"""transformers backend: batched decoding that keeps each batch's KV cache between calls.

A continuation (same `cache_key`, a context that extends or edits the end of the cached one) pays only for
its new suffix: the cached positions that the new context no longer contains become attention-mask holes,
and the suffix is appended. Rows that finish early keep stepping as holes too, so one batch stays one
tensor. Position ids are each row's logical positions, so holes never shift RoPE.
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


@dataclass
class _Batch:
    cache: Any
    mask: torch.Tensor  # (B, T) long, 1 = a live cached position
    rows: list[_Row]


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

    def suppress_stops(self, logits: torch.Tensor) -> None:
        """vLLM's min_tokens: no stop token before `min_new_tokens` tokens (in place on this row's logits)."""
        if self.stop_list and len(self.output) < self.req.min_new_tokens:
            logits[self.stop_list] = float("-inf")

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
        batch, logits = self._prefill(requests)
        return batch, self._decode(batch, requests, logits)

    def _prefill(self, requests: Sequence[GenerationRequest]) -> tuple[_Batch, torch.Tensor]:
        """A new batch (a fresh cache) holding every request's context; the logits after it."""
        from transformers import DynamicCache

        for req in requests:
            if not req.context_ids:
                raise EngineError("a generation request has an empty context; give it a prompt")
        batch = _Batch(
            cache=DynamicCache(config=self.model.config),
            mask=torch.zeros((len(requests), 0), dtype=torch.long),
            rows=[_Row(key=r.cache_key) for r in requests],
        )
        return batch, self._feed(batch, [list(r.context_ids) for r in requests])

    def _continue(self, batch: _Batch, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        index = {row.key: i for i, row in enumerate(batch.rows)}
        order = [index[r.cache_key] for r in requests]
        if order != list(range(len(batch.rows))):
            sel = torch.tensor(order, dtype=torch.long, device=self.device)
            batch.cache.batch_select_indices(sel)
            batch.mask = batch.mask[torch.tensor(order, dtype=torch.long)]
            batch.rows = [batch.rows[i] for i in order]
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
        n, width = len(feeds), max(len(f) for f in feeds)
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
        if width > 1:
            self.stats["prefill_tokens"] += int(mask.sum())
        else:
            self.stats["decode_steps"] += 1
        return self._forward(batch, ids, mask, positions, feeds)

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
        """Decode every row to the end of its request (lock-step API: one request per row)."""
        results: list[GenerationResult | None] = [None] * len(requests)
        states: list[_RowState | None] = []
        for i, req in enumerate(requests):
            if req.max_new_tokens <= 0:
                results[i] = GenerationResult(text="", token_ids=[], stop_reason="length")
                states.append(None)
            else:
                states.append(_RowState(req, self))

        def finish(i: int, _row: int, result: GenerationResult) -> tuple[_RowState | None, list[int]]:
            results[i] = result
            return None, []

        self._loop(batch, states, logits, finish)
        return [r for r in results if r is not None]

    def _loop(
        self,
        batch: _Batch,
        states: list[_RowState | None],
        logits: torch.Tensor,
        on_finish: Callable[[int, int, GenerationResult], tuple[_RowState | None, list[int]]],
        *,
        compact: bool = False,
    ) -> None:
        """Step every live row until none is left. A row whose request ends is handed to
        `on_finish(original index, current row, result)`, which may give it a new request (and the suffix to
        feed) in the same step: rows never wait for each other. With `compact`, rows that are done for good
        leave the batch (their cache is freed), so the rest decode as a smaller batch."""
        origin = list(range(len(states)))
        while True:
            for i, st in enumerate(states):
                if st is not None:
                    st.suppress_stops(logits[i])
            greedy = torch.argmax(logits, dim=-1).tolist()  # one sync for every plain greedy row
            feeds: list[list[int]] = [[] for _ in states]
            for i in range(len(states)):
                st = states[i]
                while st is not None:
                    token = greedy[i] if st.plain_greedy else st.sample(logits[i])
                    result = st.accept(token)
                    if result is None:
                        feeds[i] = [token]
                        break
                    self.stats["generated_tokens"] += len(st.output)
                    states[i], suffix = on_finish(origin[i], i, result)
                    st = states[i]
                    if st is not None:
                        feeds[i] = suffix
                        break
            if not any(feeds):
                return
            if compact and any(st is None for st in states):
                keep = [i for i, st in enumerate(states) if st is not None]
                batch.cache.batch_select_indices(torch.tensor(keep, dtype=torch.long, device=self.device))
                batch.mask = batch.mask[torch.tensor(keep, dtype=torch.long)]
                batch.rows = [batch.rows[i] for i in keep]
                states, feeds, origin = (
                    [states[i] for i in keep],
                    [feeds[i] for i in keep],
                    [origin[i] for i in keep],
                )
            logits = self._feed(batch, feeds)

    # ------------------------------------------------------------------ programs, continuously batched
    @torch.inference_mode()
    def drive(self, programs: Sequence[Any]) -> list[Any]:
        """Run per-sample control programs (see s1eval.engines.programs) with no lock-step between rows.

        When one row's request ends (a delimiter, its budget), its program's next request (an extension, the
        answer) is fed in the very next step while the other rows keep decoding, so a batch never waits for
        its slowest row. Results equal the lock-step loop's: each request samples with its own seed.
        """
        if not self.reuse_cache or len(programs) > self.max_batch_size:
            return drive_lockstep(self, programs)
        finals: list[Any] = [None] * len(programs)
        first: list[GenerationRequest | None] = [
            self._next_request(p, None, finals, i) for i, p in enumerate(programs)
        ]
        live = [i for i, req in enumerate(first) if req is not None]
        if not live:
            return finals
        batch, logits = self._prefill([first[i] for i in live])
        states: list[_RowState | None] = [_RowState(first[i], self) for i in live]

        def finish(i: int, row: int, result: GenerationResult) -> tuple[_RowState | None, list[int]]:
            req = self._next_request(programs[live[i]], result, finals, live[i])
            if req is None:
                return None, []
            return _RowState(req, self), self._retarget(batch, row, req)

        self._loop(batch, states, logits, finish, compact=True)
        return finals

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
