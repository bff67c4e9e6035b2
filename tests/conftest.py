"""Shared fixtures: a tiny real model built offline once per test session, and offline hub settings."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """Path of a random tiny Qwen2 model with the s1 chat template (built in a few seconds, no downloads)."""
    from s1eval.testing.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """The tiny model's tokenizer alone, for fake-engine tests."""
    from s1eval.testing.tiny_model import build_tokenizer

    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_path):
    """An hf engine over the tiny model (shared: engines are stateless between control calls)."""
    from s1eval.engines.hf import HFEngine

    return HFEngine(str(tiny_model_path), batch_size=8)
