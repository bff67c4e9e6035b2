"""The in-place growing KV layer holds what transformers' own DynamicLayer holds, and the model's outputs over
it are bit for bit the same; it reallocates only when full."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from s1eval.engines.kv_cache import MAX_HEADROOM, MIN_HEADROOM, GrowingLayer, growing_cache, plain_layer


def _steps(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    yield torch.randn(3, 2, 17, 4, generator=gen), torch.randn(3, 2, 17, 4, generator=gen)
    for _ in range(150):
        yield torch.randn(3, 2, 1, 4, generator=gen), torch.randn(3, 2, 1, 4, generator=gen)


def test_update_select_crop_and_assign_match_dynamic_layer():
    ours, theirs = GrowingLayer(), DynamicLayer()
    reallocations, last_capacity = 0, 0
    for i, (k, v) in enumerate(_steps()):
        a, b = ours.update(k, v), theirs.update(k, v)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        if ours.capacity != last_capacity:
            reallocations, last_capacity = reallocations + 1, ours.capacity
        if i == 60:  # the operations the hf engine and transformers apply between steps
            for layer in (ours, theirs):
                layer.batch_select_indices(torch.tensor([2, 0, 0]))
                layer.crop(-5)
        if i == 100:
            for layer in (ours, theirs):  # what compaction and widening do: assign new tensors
                layer.keys = torch.cat([torch.zeros(3, 2, 3, 4), layer.keys], dim=2)
                layer.values = torch.cat([torch.zeros(3, 2, 3, 4), layer.values], dim=2)
        assert ours.get_seq_length() == theirs.get_seq_length()
        assert torch.equal(ours.keys, theirs.keys) and torch.equal(ours.values, theirs.values)
    assert reallocations <= 5, reallocations  # 17 + 150 columns: a handful of reallocations, not one a step
    assert ours.capacity - ours.get_seq_length() <= max(MIN_HEADROOM, ours.get_seq_length() // 4) + 1


def test_writes_through_the_views_reach_the_cache():
    layer = GrowingLayer()
    k, v = next(_steps())
    layer.update(k, v)
    layer.keys[1, :, 3:5] = 7.0  # the hf engine splices a refilled prompt this way
    assert bool((layer.keys[1, :, 3:5] == 7.0).all())
    layer.update(k[:, :, :1], v[:, :, :1])
    assert bool((layer.keys[1, :, 3:5] == 7.0).all())


def test_reset_empties_the_layer():
    layer, theirs = GrowingLayer(), DynamicLayer()
    for each in (layer, theirs):
        each.update(*next(_steps()))
        each.reset()
    assert layer.get_seq_length() == 0 and not layer.is_initialized and layer.keys is None
    k = torch.ones(2, 2, 1, 4)  # a new batch size: nothing of the old cache may remain
    a, b = layer.update(k, k), theirs.update(k, k)
    assert a[0].shape == b[0].shape == (2, 2, 1, 4) and torch.equal(a[0], b[0])


def test_columns_of_another_dtype_are_refused():
    layer = GrowingLayer()
    k = torch.zeros(1, 2, 3, 4)
    layer.update(k, k)
    half = torch.zeros(1, 2, 1, 4, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="bfloat16"):
        layer.update(half, half)


@pytest.mark.parametrize("padded", [False, True], ids=["no mask", "left padding and a hole"])
def test_model_outputs_over_the_growing_cache_equal_dynamic_cache(tiny_engine, padded):
    """The engine's BF batches run with a mask (left padding, cut positions): that path must match too."""
    model = tiny_engine.model
    ids = torch.randint(5, model.config.vocab_size, (2, 12), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    if padded:
        mask[0, :4] = 0  # row 0 left-padded
        mask[1, 7] = 0  # row 1 with a hole, as a cut position leaves
    cache_ours, cache_theirs = growing_cache(model.config), DynamicCache(config=model.config)
    assert all(plain_layer(layer) and type(layer) is GrowingLayer for layer in cache_ours.layers)
    arg = tiny_engine._cache_kwarg  # `cache=` on transformers >= 5.2x, `past_key_values=` before
    with torch.inference_mode():
        feed = ids
        for step in range(20):
            kwargs = {"attention_mask": mask} if padded else {}
            a = model(input_ids=feed, use_cache=True, **kwargs, **{arg: cache_ours}).logits[:, -1]
            b = model(input_ids=feed, use_cache=True, **kwargs, **{arg: cache_theirs}).logits[:, -1]
            assert torch.equal(a, b), step
            feed = a.argmax(-1, keepdim=True)
            mask = torch.cat([mask, torch.ones_like(feed)], dim=1)


def test_model_generate_with_beam_search_over_the_growing_cache(tiny_engine):
    """A user may hand the cache to `generate`: beam search reorders it (reorder_cache / batch_select)."""
    model = tiny_engine.model
    ids = torch.randint(5, model.config.vocab_size, (2, 10), generator=torch.Generator().manual_seed(2))
    arg = tiny_engine._cache_kwarg
    settings = {"max_new_tokens": 12, "num_beams": 3, "do_sample": False, "pad_token_id": 0}
    with torch.inference_mode():
        ours = model.generate(input_ids=ids, **settings, **{arg: growing_cache(model.config)})
        theirs = model.generate(input_ids=ids, **settings, **{arg: DynamicCache(config=model.config)})
    assert torch.equal(ours, theirs)


def test_headroom_is_capped_for_long_contexts():
    layer = GrowingLayer()
    k = torch.zeros(1, 1, 4096, 2)
    layer.update(k, k)
    assert layer.capacity - layer.get_seq_length() == MAX_HEADROOM  # not 25% of a 4k context
    layer.update(k[:, :, :1], k[:, :, :1])
    assert layer.get_seq_length() == 4097


def test_new_columns_of_another_batch_are_refused_not_broadcast():
    layer, theirs = GrowingLayer(), DynamicLayer()
    k = torch.zeros(3, 2, 5, 4)
    layer.update(k, k)
    theirs.update(k, k)
    one_row = torch.ones(1, 2, 1, 4)
    with pytest.raises(RuntimeError):
        theirs.update(one_row, one_row)
    with pytest.raises(ValueError, match="do not fit a cache"):
        layer.update(one_row, one_row)


def test_lazy_initialization_then_update_matches_dynamic_layer():
    """`Cache.early_initialization` calls `lazy_initialization` before any update: an unshaped empty buffer."""
    ours, theirs = GrowingLayer(), DynamicLayer()
    k, v = next(_steps())
    for layer in (ours, theirs):
        layer.lazy_initialization(k, v)
        assert layer.get_seq_length() == 0
    for k, v in list(_steps())[:3]:
        a, b = ours.update(k, v), theirs.update(k, v)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_sliding_window_layers_are_left_alone(tiny_engine):
    config = tiny_engine.model.config.__class__(**tiny_engine.model.config.to_dict())
    config.sliding_window, config.use_sliding_window, config.max_window_layers = 8, True, 0
    config.layer_types = ["sliding_attention"] * config.num_hidden_layers
    cache = growing_cache(config)
    assert not any(type(layer) is GrowingLayer for layer in cache.layers)
    assert not any(plain_layer(layer) for layer in cache.layers)
