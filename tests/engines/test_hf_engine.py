"""The hf engine on the tiny real model: batching, KV-cache reuse and stops give what plain decoding gives."""

from __future__ import annotations

import pytest

from s1eval.engines.base import EngineError, GenerationRequest, SamplingParams
from s1eval.engines.hf import HFEngine
from s1eval.formats import S1, build_prompt

QUESTIONS = ["What is 3+4?", "Compute the sum of 1 and 2 and 3 please, step by step.", "Hi", "12 * 7 = ?"]


@pytest.fixture(scope="module")
def contexts(tiny_engine):
    tok = tiny_engine.tokenizer
    return [tok.encode(build_prompt(tok, S1, q)) for q in QUESTIONS]


def fresh(engine):
    """A second engine over the same weights, with an empty cache."""
    return HFEngine(engine.model, engine.tokenizer, batch_size=8)


def test_batched_equals_one_at_a_time(tiny_engine, contexts):
    batched = fresh(tiny_engine).generate([GenerationRequest(c, 24) for c in contexts])
    for ctx, out in zip(contexts, batched, strict=True):
        [single] = fresh(tiny_engine).generate([GenerationRequest(ctx, 24)])
        assert out.token_ids == single.token_ids
        assert out.stop_reason == single.stop_reason == "length"


def test_greedy_matches_transformers_generate(tiny_engine, contexts):
    import torch

    [ours] = fresh(tiny_engine).generate([GenerationRequest(contexts[0], 20)])
    ids = torch.tensor([contexts[0]])
    ref = tiny_engine.model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=20,
        do_sample=False,
        eos_token_id=None,
        min_new_tokens=20,
    )
    assert ours.token_ids == ref[0, len(contexts[0]) :].tolist()


@pytest.mark.parametrize("drop", [0, 3])
def test_kv_reuse_equals_reencoding(tiny_engine, contexts, drop):
    engine = fresh(tiny_engine)
    wait = engine.tokenizer.encode("Wait")
    first = engine.generate([GenerationRequest(c, 12, cache_key=i) for i, c in enumerate(contexts)])
    # continue rows 0, 2, 3 (row 1 finished): drop the last `drop` tokens and append "Wait"
    keep = [0, 2, 3]
    follow = [contexts[i] + first[i].token_ids[: len(first[i].token_ids) - drop] + wait for i in keep]
    reused = engine.generate(
        [GenerationRequest(f, 10, cache_key=i) for i, f in zip(keep, follow, strict=True)]
    )
    assert engine.stats["reused_tokens"] > sum(len(contexts[i]) for i in keep)
    reencoded = fresh(tiny_engine).generate([GenerationRequest(f, 10) for f in follow])
    assert [r.token_ids for r in reused] == [r.token_ids for r in reencoded]


def test_keep_alive_keeps_the_cache(tiny_engine, contexts):
    engine = fresh(tiny_engine)
    first = engine.generate([GenerationRequest(c, 6, cache_key=i) for i, c in enumerate(contexts[:2])])
    ctx1 = contexts[1] + first[1].token_ids
    # row 0 continues, row 1 only says it will be continued later
    engine.generate(
        [
            GenerationRequest(contexts[0] + first[0].token_ids, 4, cache_key=0),
            GenerationRequest(ctx1, 0, cache_key=1),
        ]
    )
    before = engine.stats["prefill_tokens"]
    [later] = engine.generate([GenerationRequest(ctx1, 5, cache_key=1)])
    assert engine.stats["prefill_tokens"] - before <= 1  # only the pending last token is fed again
    [reference] = fresh(tiny_engine).generate([GenerationRequest(ctx1, 5)])
    assert later.token_ids == reference.token_ids


def test_stop_tokens_are_reported_not_kept(tiny_engine, contexts):
    engine = fresh(tiny_engine)
    [free] = engine.generate([GenerationRequest(contexts[0], 20)])
    stop = free.token_ids[5]
    [stopped] = fresh(tiny_engine).generate([GenerationRequest(contexts[0], 20, stop_token_ids=(stop,))])
    cut = free.token_ids.index(stop)
    assert stopped.stop_reason == "stop_token" and stopped.stop_token == stop
    assert stopped.token_ids == free.token_ids[:cut]
    # min_new_tokens suppresses the stop token at the start
    [suppressed] = fresh(tiny_engine).generate(
        [GenerationRequest(contexts[0], 20, stop_token_ids=(stop,), min_new_tokens=cut + 1)]
    )
    assert len(suppressed.token_ids) > cut


def test_stop_strings_cut_text_and_count_discarded(tiny_engine, contexts):
    engine = fresh(tiny_engine)
    [free] = engine.generate([GenerationRequest(contexts[2], 30)])
    target = free.text[10:14]
    [stopped] = fresh(tiny_engine).generate([GenerationRequest(contexts[2], 30, stop_strings=(target,))])
    assert stopped.stop_reason == "stop_string" and stopped.stop_string == target
    assert target not in stopped.text and free.text.startswith(stopped.text)
    assert stopped.discarded_tokens >= 1


def test_seeded_sampling(tiny_engine, contexts):
    sp = SamplingParams(temperature=0.9, top_p=0.95, top_k=50)
    a = fresh(tiny_engine).generate([GenerationRequest(c, 15, sampling=sp, seed=3) for c in contexts])
    b = fresh(tiny_engine).generate([GenerationRequest(contexts[2], 15, sampling=sp, seed=3)])
    c = fresh(tiny_engine).generate([GenerationRequest(contexts[2], 15, sampling=sp, seed=4)])
    assert a[2].token_ids == b[0].token_ids
    assert b[0].token_ids != c[0].token_ids


def test_penalties_change_the_output(tiny_engine, contexts):
    plain = fresh(tiny_engine).generate([GenerationRequest(contexts[0], 30)])[0]
    penal = fresh(tiny_engine).generate(
        [
            GenerationRequest(
                contexts[0], 30, sampling=SamplingParams(frequency_penalty=2.0, repetition_penalty=1.5)
            )
        ]
    )[0]
    assert plain.token_ids != penal.token_ids
    assert len(set(penal.token_ids)) >= len(set(plain.token_ids))


def test_missing_model_path_is_a_one_line_error(tmp_path):
    with pytest.raises(EngineError) as err:
        HFEngine(str(tmp_path / "nope"))
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def _frequent_marker_format(engine, contexts):
    """A format whose end of thinking is the token the random model writes most: extensions then happen."""
    import dataclasses
    from collections import Counter

    from s1eval.formats import single_token_id

    outs = fresh(engine).generate([GenerationRequest(c, 48) for c in contexts])
    for token, _ in Counter(t for o in outs for t in o.token_ids[2:]).most_common():
        text = engine.tokenizer.decode([token])
        if single_token_id(engine.tokenizer, text) == token:
            return dataclasses.replace(S1, name="frequent", end_marker=text)
    raise AssertionError("no marker token")


def test_compaction_keeps_the_cache_near_its_floor_and_changes_no_output(tiny_engine, contexts, monkeypatch):
    import s1eval.engines.hf as hf
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_sweep

    fmt = _frequent_marker_format(tiny_engine, contexts)
    prompts = [build_prompt(tiny_engine.tokenizer, fmt, q) for q in QUESTIONS]
    cfg = BudgetForcingConfig(max_thinking_tokens=96, num_extensions=16, max_answer_tokens=6)

    def sweep(slack: float):
        monkeypatch.setattr(hf, "COMPACT_SLACK", slack)
        engine = fresh(tiny_engine)
        out = run_budget_sweep(engine, fmt, prompts, [12, 24, 48, 96], cfg)
        summary = {b: [(r.answer, r.thinking, r.ledger.to_dict()) for r in rs] for b, rs in out.items()}
        return summary, engine.stats

    compacted, stats = sweep(hf.COMPACT_SLACK)
    kept, no_compaction = sweep(1e9)
    assert compacted == kept  # reclaiming holes changes layout only, never a token
    assert sum(r[2]["extensions"] for r in compacted[96]) > 0  # the workload did extend
    assert no_compaction["compactions"] == 0 and no_compaction["peak_cells_over_floor"] > 1.5
    assert stats["compactions"] > 0 and stats["peak_cells_over_floor"] <= 1.3, stats
