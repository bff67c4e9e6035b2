from __future__ import annotations

import curation_synth as synth
import pandas as pd
from curation_synth import N_SUBSET, make_config

from s1eval.curation import curate


def _set(df):
    return set(df["pool_index"])


def test_sizes(result, synth_pool):
    n_pool = len(synth_pool.df)
    full = n_pool - len(synth.quality_removed(synth_pool)) - len(synth.contaminated(synth_pool))
    assert len(result.subsets["full"]) == full == len(result.passed)
    for name in ("s1k", "random", "diverse", "longest"):
        assert len(result.subsets[name]) == N_SUBSET, name
    assert len(result.hard) == full - len(synth.easy(synth_pool))


def test_random_is_quality_only_and_keeps_the_skew(result, synth_pool):
    r = result.subsets["random"]
    assert _set(r) <= _set(result.passed)
    assert _set(r) & synth.easy(synth_pool)  # quality only: no difficulty filter
    share = (r["domain"] == "d0 Algebra").mean()
    assert 0.28 < share < 0.52  # ~40% in the pool


def test_longest_is_the_top_n(result):
    top = result.passed.sort_values(["thinking_tokens", "pool_index"], ascending=[False, True]).head(N_SUBSET)
    assert _set(result.subsets["longest"]) == _set(top)


def _spread_ok(df):
    counts = df["domain"].value_counts()
    assert counts[synth.TINY_DOMAIN] == synth.TINY_SIZE  # a small domain is taken whole
    big = counts.drop(synth.TINY_DOMAIN)
    expected = (N_SUBSET - synth.TINY_SIZE) / len(big)
    assert big.min() >= expected * 0.5 and big.max() <= expected * 1.6, counts.to_dict()


def test_diverse_is_uniform_over_domains(result):
    _spread_ok(result.subsets["diverse"])


def test_s1k_is_hard_diverse_and_long(result, synth_pool):
    s = result.subsets["s1k"]
    _spread_ok(s)
    assert _set(s) <= _set(result.hard)
    assert not _set(s) & synth.easy(synth_pool)
    assert s["thinking_tokens"].mean() > result.subsets["diverse"]["thinking_tokens"].mean() * 1.4
    hard = result.hard
    for dom, g in s.groupby("domain"):
        pool_d = hard[hard["domain"] == dom].sort_values("thinking_tokens", ascending=False)
        top = set(pool_d["pool_index"].head(len(g) + 10))
        assert _set(g) <= top, dom


def test_subsets_have_independent_streams(pool_path, result):
    only = curate(make_config(pool_path, subsets={"names": ["s1k"]}))
    assert list(only.subsets) == ["s1k"]
    pd.testing.assert_frame_equal(only.subsets["s1k"], result.subsets["s1k"])


def test_other_seed_other_sample(pool_path, result):
    other = curate(make_config(pool_path, seed=8, subsets={"names": ["random", "s1k"]}))
    assert _set(other.subsets["random"]) != _set(result.subsets["random"])
    assert _set(other.subsets["s1k"]) != _set(result.subsets["s1k"])
