"""The s1hf / s1fake providers under Inspect's own model API: plain chat, prefill continuation, names."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, GenerateConfig, get_model

from s1eval.engines.base import GenerationRequest
from s1eval.engines.hf import HFEngine
from s1eval.integrations.inspect.providers import end_of_turn_ids


def _generate(model, messages, **config):
    return asyncio.run(model.generate(messages, config=GenerateConfig(**config)))


@pytest.mark.slow
def test_s1hf_continues_a_prefilled_assistant_message(tiny_model_path):
    model = get_model(f"s1hf/{tiny_model_path}", memoize=False)
    prefix = "<|im_start|>think\nLet me think"
    out = _generate(
        model,
        [ChatMessageUser(content="What is 3 + 4?"), ChatMessageAssistant(content=prefix)],
        max_tokens=12,
    )

    engine = HFEngine(str(tiny_model_path))
    tok = engine.tokenizer
    # the continuation of the open assistant turn: no end-of-turn after the prefix, no new generation prompt
    text = tok.apply_chat_template(
        [{"role": "user", "content": "What is 3 + 4?"}, {"role": "assistant", "content": prefix}],
        tokenize=False,
        continue_final_message=True,
    )
    assert text.endswith(prefix) and text.count("<|im_start|>assistant") == 1
    (expected,) = engine.generate(
        [
            GenerationRequest(
                tok.encode(text, add_special_tokens=False), 12, stop_token_ids=end_of_turn_ids(tok)
            )
        ]
    )
    assert out.completion == expected.text  # special tokens kept, nothing stripped
    assert out.usage.output_tokens == expected.num_tokens
    assert out.usage.input_tokens == len(tok.encode(text, add_special_tokens=False))


def test_s1fake_answers_plain_chat_with_real_token_counts(tiny_tokenizer):
    model = get_model("s1fake/scripted", memoize=False, thinking="Add them.", answer="So \\boxed{7}.")
    out = _generate(model, [ChatMessageUser(content="What is 3 + 4?")])
    assert out.completion == "Add them.<|im_start|>answer\nSo \\boxed{7}."
    assert out.usage.output_tokens == len(tiny_tokenizer.encode(out.completion, add_special_tokens=False))
    assert out.choices[0].stop_reason == "stop"


@pytest.mark.parametrize("where", ["checkout", "elsewhere"])
def test_names_resolve_through_the_entry_point_without_importing_s1eval(where, tmp_path):
    """From the checkout (its s1eval.egg-info on sys.path) and from another folder (only the installed
    distribution), where Inspect takes s1eval for an installed package: the names are s1eval/<name> in both."""
    code = (
        "import sys\n"
        "from inspect_ai._util.registry import registry_lookup\n"
        "from inspect_ai.model import get_model\n"
        "assert 's1eval.integrations.inspect' not in sys.modules\n"
        "for name in ['budget_forcing', 'tcc', 'scc', 'ccc', 'rejection_sampling', 'majority_vote', 'control']:\n"
        "    assert registry_lookup('solver', 's1eval/' + name) is not None, name\n"
        "for name in ['answer', 'aime_answer', 'math_answer', 'gpqa_answer']:\n"
        "    assert registry_lookup('scorer', 's1eval/' + name) is not None, name\n"
        "assert registry_lookup('score_reducer', 's1eval/maj_at_k') is not None\n"
        "print(type(get_model('s1fake/x').api).__name__)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cwd = None if where == "checkout" else tmp_path
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "S1FakeAPI"
