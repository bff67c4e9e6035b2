"""Thinking formats: lookup, detection from a chat template, preflight of the delimiters, prompts."""

from __future__ import annotations

import pytest

from s1eval.errors import ConfigError, PreflightError
from s1eval.formats import R1, S1, build_prompt, detect_format, get_format, open_thinking, preflight
from s1eval.testing.tiny_model import build_tokenizer


def test_lookup_by_name_and_alias():
    assert get_format("s1") is S1 and get_format("QWEN3") is R1 and get_format("deepseek-r1") is R1
    with pytest.raises(ConfigError, match="use one of: r1, s1"):
        get_format("llama")


def test_detects_s1_from_the_tiny_tokenizer(tiny_tokenizer):
    assert detect_format(tiny_tokenizer) is S1


def test_detects_r1_from_a_template_with_think():
    tok = build_tokenizer()
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}<think>\n"
    tok.add_special_tokens({"additional_special_tokens": []})
    assert detect_format(tok) is R1


def test_preflight_accepts_both_formats_on_a_tokenizer_that_knows_them(tiny_tokenizer):
    preflight(tiny_tokenizer, S1)
    preflight(tiny_tokenizer, R1)


def test_preflight_refuses_a_delimiter_that_is_not_one_token():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(
        ["hello world"],
        trainers.BpeTrainer(
            vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        ),
    )
    plain = PreTrainedTokenizerFast(tokenizer_object=raw)
    with pytest.raises(PreflightError) as err:
        preflight(plain, R1, "org/plain-model")
    msg = str(err.value)
    assert "</think>" in msg and "org/plain-model" in msg and "format=" in msg and "\n" not in msg


def test_detection_fails_clearly_without_any_hint():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    )
    with pytest.raises(PreflightError, match="format=s1 or format=r1"):
        detect_format(tok)


def test_build_prompt_opens_the_thinking_once(tiny_tokenizer):
    prompt = build_prompt(tiny_tokenizer, S1, "What is 3+4?")
    assert prompt.startswith("<|im_start|>system\nYou are Qwen")
    assert prompt.endswith(
        "<|im_start|>user\nWhat is 3+4?<|im_end|>\n<|im_start|>assistant\n<|im_start|>think\n"
    )
    assert open_thinking(prompt, S1) == prompt  # an already-open thinking is not opened twice
    r1 = open_thinking("<|im_start|>assistant\n<think>\n", R1)
    assert r1.count("<think>") == 1
    custom = build_prompt(tiny_tokenizer, S1, "q", system="Be brief.")
    assert "Be brief." in custom and "You are Qwen" not in custom
