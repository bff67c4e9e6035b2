"""Fixtures for the curation tests: one synthetic pool (planted defects) and one pipeline run over it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import curation_synth as synth  # noqa: E402
from curation_synth import make_config  # noqa: E402


@pytest.fixture(scope="session")
def synth_pool():
    return synth.make_pool()


@pytest.fixture(scope="session")
def pool_path(synth_pool, tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "pool.parquet"
    synth_pool.df.to_parquet(path)
    return path


@pytest.fixture(scope="session")
def result(pool_path):
    from s1eval.curation import curate

    return curate(make_config(pool_path))


@pytest.fixture(scope="session")
def removed_by(result):
    """{reason: set of pool_index} over every stage."""
    out: dict[str, set[int]] = {}
    for reason, idx in zip(result.removed["reason"], result.removed["pool_index"], strict=False):
        out.setdefault(reason, set()).add(int(idx))
    return out
