"""Build a tiny Qwen2-style model with the s1 chat template, offline, in seconds.

Used by the tests, the benchmarks and the demo (which trains it). The tokenizer is a real byte-level BPE
that knows the ChatML and thinking delimiters as special tokens, so every code path (chat template,
delimiter preflight, stop tokens, KV-cache reuse) runs as it does on a real Qwen model.
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

# Qwen2.5's ChatML template, with its default system prompt (the s1 models keep it).
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] != 'system' %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

_BASE_CORPUS = [
    "think answer Final Answer: Wait Hmm Alternatively so the answer is",
    "Let me think step by step. First, add the numbers. Then check the result again.",
    "The sum of 3 and 4 is 7. Wait, let me re-check: 3 + 4 = 7. Yes.",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 + - * / = ( ) \\boxed{42} $x^2$ \\frac{1}{2}",
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    "system user assistant question solution reasoning trace",
]


def build_tokenizer(vocab_size: int = 400, corpus: list[str] | None = None):
    """A byte-level BPE tokenizer (transformers fast tokenizer) with the s1 chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((corpus or []) + _BASE_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=SPECIAL_TOKENS[1:],
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def build_tiny_model(
    out_dir: str | Path,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    vocab_size: int = 400,
    initializer_range: float = 0.3,
    max_positions: int = 4096,
    corpus: list[str] | None = None,
    seed: int = 0,
) -> Path:
    """Write a random tiny Qwen2 model + tokenizer to `out_dir` and return the path.

    A large `initializer_range` makes the random model's next-token distribution peaked, so greedy decoding
    has no near-ties and comparisons between decoding paths (batched vs single, cached vs re-encoded) are
    exact rather than flaky.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(vocab_size=vocab_size, corpus=corpus)
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        initializer_range=initializer_range,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, do_sample=False
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "s1eval_tiny.json").write_text(
        json.dumps({"built_by": "s1eval.testing.build_tiny_model", "seed": seed})
    )
    return out
