"""A KV cache layer that grows in place, so a decode step writes one column instead of copying the cache.

transformers' `DynamicLayer.update` concatenates every layer's keys and values with the new column each step:
a copy of the whole (batch x heads x length x dim) cache per layer per step, which on a CPU costs about as much
as the attention itself at a few thousand positions. `GrowingLayer` keeps each tensor in a buffer with headroom
(`HEADROOM` of its length, between `MIN_HEADROOM` and `MAX_HEADROOM` columns) and hands the model views of its
filled part; the buffer is reallocated only when full, so a step copies 3-5 columns on average up to 4k
positions and about length / 512 beyond (23 from 8k to 16k, 47 from 16k to 32k), against `DynamicLayer`'s
whole length, while at most `MAX_HEADROOM` columns per layer are allocated ahead (a 32k-token thinking trace
does not carry 25% spare; a `crop` leaves the buffer as large as it was). The values the model sees are the
same numbers in the same layout (a view of the first `length` columns), so outputs do not change. What this
removes is the cache's own copy: attention may still make one (a grouped-query model given a mask expands the
keys and values to every head).

`keys` / `values` stay assignable tensors, as on `DynamicLayer`: code that gathers, selects or widens the cache
assigns a new tensor, which becomes the buffer (headroom is added by the next `update`). Unlike `DynamicLayer`'s,
a view handed out earlier is overwritten by later writes after a `crop`, and a cache filled under
`torch.inference_mode` must be updated under it (the hf engine does both only inside its own steps).
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.cache_utils import DynamicLayer

HEADROOM = 0.25
"""A full buffer is reallocated with this fraction of its needed length as spare columns ..."""
MIN_HEADROOM = 64
"""... and at least this many ..."""
MAX_HEADROOM = 512
"""... and at most this many (long contexts reallocate every 512 steps: one copy per layer per 512 columns)."""


class GrowingLayer(DynamicLayer):
    """`DynamicLayer` with an in-place append (see the module docstring)."""

    def __init__(self, **kwargs: Any):
        self._key_buf: torch.Tensor | None = None
        self._value_buf: torch.Tensor | None = None
        self._length = 0
        self._value_length = 0
        super().__init__(**kwargs)

    @property
    def keys(self) -> torch.Tensor | None:  # type: ignore[override]
        return _filled(self._key_buf, self._length)

    @keys.setter
    def keys(self, tensor: torch.Tensor | None) -> None:
        self._key_buf = tensor
        self._length = 0 if tensor is None or tensor.dim() < 3 else tensor.shape[2]

    @property
    def values(self) -> torch.Tensor | None:  # type: ignore[override]
        return _filled(self._value_buf, self._value_length)

    @values.setter
    def values(self, tensor: torch.Tensor | None) -> None:
        self._value_buf = tensor
        self._value_length = 0 if tensor is None or tensor.dim() < 3 else tensor.shape[2]

    @property
    def capacity(self) -> int:
        """Columns the buffers hold before the next reallocation."""
        bufs = (self._key_buf, self._value_buf)
        return min(0 if b is None or b.dim() < 3 else b.shape[2] for b in bufs)

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.device = key_states.device
            self.is_initialized = True
        self._check_shape(key_states, value_states)
        start, new = self._length, key_states.shape[2]
        end = start + new
        if end > self.capacity:
            self._grow(key_states, value_states, end)
        self._key_buf[:, :, start:end] = key_states  # type: ignore[index]
        self._value_buf[:, :, start:end] = value_states  # type: ignore[index]
        self._length = self._value_length = end
        return self.keys, self.values  # type: ignore[return-value]

    def _check_shape(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        """Refuse new columns whose batch, heads or head size differ from the cache's, as `torch.cat` does in
        `DynamicLayer` (a slice assignment would broadcast a batch of 1 over every row instead), and columns
        of another dtype (`torch.cat` would promote; a reallocation would silently take the new dtype)."""
        for buf, new, name in (
            (self._key_buf, key_states, "keys"),
            (self._value_buf, value_states, "values"),
        ):
            if buf is None or buf.dim() < 3 or buf.shape[2] == 0:
                continue
            if (buf.shape[0], buf.shape[1], buf.shape[3]) != (new.shape[0], new.shape[1], new.shape[3]):
                raise ValueError(
                    f"new {name} of shape {tuple(new.shape)} do not fit a cache of shape {tuple(buf.shape)}"
                )
            if new.dtype != buf.dtype:
                raise ValueError(f"new {name} are {new.dtype}, the cache holds {buf.dtype}")

    def _grow(self, key_states: torch.Tensor, value_states: torch.Tensor, needed: int) -> None:
        capacity = needed + min(MAX_HEADROOM, max(MIN_HEADROOM, int(needed * HEADROOM)))
        self._key_buf = _reallocated(self._key_buf, self._length, key_states, capacity)
        self._value_buf = _reallocated(self._value_buf, self._value_length, value_states, capacity)

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError(f"crop takes a negative number of tokens to remove, got {tokens_to_remove}")
        self._length = self._value_length = max(0, self._length + tokens_to_remove)

    def reset(self) -> None:
        super().reset()  # DynamicLayer's: keys = values = None (the setters empty the buffers), uninitialised


def _filled(buf: torch.Tensor | None, length: int) -> torch.Tensor | None:
    """The filled part of a buffer; an unshaped one (`lazy_initialization`'s empty tensor) as it is."""
    if buf is None or buf.dim() < 3:
        return buf
    return buf[:, :, :length]


def _reallocated(old: torch.Tensor | None, length: int, like: torch.Tensor, capacity: int) -> torch.Tensor:
    batch, heads, _, dim = like.shape
    buf = torch.empty((batch, heads, capacity, dim), dtype=like.dtype, device=like.device)
    if old is not None and old.dim() >= 3 and length:
        buf[:, :, :length] = old[:, :, :length]
    return buf


def growing_cache(config: Any) -> Any:
    """A `DynamicCache` for `config` whose plain full-attention layers grow in place; other layer kinds
    (sliding window, linear attention, ...) are left as transformers made them."""
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def plain_layer(layer: Any) -> bool:
    """A full-attention layer whose keys/values are plain (batch, heads, length, dim) tensors, which the hf
    engine may gather, splice and widen."""
    return type(layer) in (DynamicLayer, GrowingLayer)
