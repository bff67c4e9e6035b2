"""s1 layout and label mask: the prompt is the inference prompt, the loss covers thinking + answer only."""

from __future__ import annotations

import datasets
import pytest
import torch

from s1eval.control.markers import MARKER_RE, strip_markers
from s1eval.errors import ConfigError, DataError
from s1eval.formats import S1, build_prompt
from s1eval.training.data import format_example, load_rows, to_prompt_completion, write_jsonl
from s1eval.training.recipe import build_trainer, parse_config
from s1eval.training.toy import arithmetic_rows

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def arith_jsonl(tmp_path_factory):
    return write_jsonl(arithmetic_rows(32), tmp_path_factory.mktemp("data") / "arith.jsonl")


@pytest.fixture(scope="module")
def tiny_trainer(tiny_model_path, arith_jsonl, tmp_path_factory):
    out = tmp_path_factory.mktemp("mask-run")
    recipe = parse_config(
        "cpu_tiny",
        [
            "--model_name_or_path",
            str(tiny_model_path),
            "--dataset_name",
            str(arith_jsonl),
            "--output_dir",
            str(out),
        ],
    )
    return build_trainer(recipe)


def test_example_layout_is_s1_chatml(tiny_tokenizer):
    ex = format_example(tiny_tokenizer, "What is 2 + 2?", "  2 + 2 = 4.\n", "\\boxed{4}")
    system = S1.default_system
    assert ex["prompt"] == (
        f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n"
        "<|im_start|>assistant\n<|im_start|>think\n"
    )
    assert ex["completion"] == "2 + 2 = 4.\n<|im_start|>answer\n\\boxed{4}<|im_end|>"
    # the training prompt is byte for byte what inference builds
    assert ex["prompt"] == build_prompt(tiny_tokenizer, S1, "What is 2 + 2?")
    assert format_example(tiny_tokenizer, "q", ["a", "b"], "x", system="Be brief.")["prompt"] == build_prompt(
        tiny_tokenizer, S1, "q", "Be brief."
    )


def test_label_mask_is_exact(tiny_trainer):
    tok = tiny_trainer.processing_class
    rows = arithmetic_rows(32)
    data = tiny_trainer.train_dataset
    assert len(data) == len(rows)
    end_id = tok.convert_tokens_to_ids("<|im_end|>")
    for row, ex in zip(rows, data, strict=True):
        prompt_ids = tok.encode(build_prompt(tok, S1, row["question"]), add_special_tokens=False)
        completion = f"{row['thinking']}\n<|im_start|>answer\n{row['answer']}<|im_end|>"
        n = len(prompt_ids)
        ids, labels = ex["input_ids"], ex["labels"]
        assert ids[:n] == prompt_ids
        assert labels[:n] == [-100] * n  # system, question, assistant header and <|im_start|>think\n
        assert labels[n:] == ids[n:]  # thinking, <|im_start|>answer\n, the answer and <|im_end|>
        assert tok.decode(ids[n:], skip_special_tokens=False) == completion
        assert labels[-1] == end_id and ids.count(end_id) == 3  # system, user, assistant turn ends


def test_saved_template_names_the_s1_format(tiny_trainer):
    from s1eval.formats import detect_format

    tok = tiny_trainer.processing_class
    assert detect_format(tok) is S1
    # the stamp is a Jinja comment: rendering is unchanged
    assert build_prompt(tok, S1, "q").startswith("<|im_start|>system\n")


def test_loaders_read_jsonl_parquet_and_saved_datasets(tmp_path, arith_jsonl):
    rows = arithmetic_rows(4)
    parquet = tmp_path / "rows.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(parquet))
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}).save_to_disk(str(saved))
    for source in (parquet, saved):
        assert load_rows(str(source))["question"] == [r["question"] for r in rows]
    assert len(load_rows(str(arith_jsonl))) == 32
    with pytest.raises(DataError, match="does not exist"):
        load_rows(str(tmp_path / "missing.jsonl"))


def test_s1k_columns_map_by_config(tiny_tokenizer):
    rows = datasets.Dataset.from_list(
        [{"question": "q1", "deepseek_thinking_trajectory": "t1", "deepseek_attempt": "a1", "solution": "s"}]
    )
    out = to_prompt_completion(
        rows, tiny_tokenizer, thinking_field="deepseek_thinking_trajectory", answer_field="deepseek_attempt"
    )
    assert out.column_names == ["prompt", "completion"]
    assert out[0]["completion"] == "t1\n<|im_start|>answer\na1<|im_end|>"
    with pytest.raises(DataError, match="set thinking_field"):
        to_prompt_completion(rows, tiny_tokenizer)


@pytest.mark.parametrize(
    ("kind", "instruction", "unit"), [("tcc", "tokens.", "tokens left"), ("scc", "steps.", "steps left")]
)
def test_marker_variants_state_and_count_down_the_budget(tiny_tokenizer, kind, instruction, unit):
    thinking = " ".join(f"step {i} adds one." for i in range(40))
    rows = datasets.Dataset.from_list([{"question": "q", "thinking": thinking, "answer": "a"}])
    out = to_prompt_completion(rows, tiny_tokenizer, markers=kind, marker_interval=20, marker_step_tokens=20)[
        0
    ]
    assert out["prompt"].rstrip().endswith("<|im_end|>\n<|im_start|>assistant\n<|im_start|>think")
    assert out["prompt"].split("<|im_start|>user\n")[1].startswith("q\n\nThink for up to ")
    assert instruction in out["prompt"]
    marked = out["completion"].split("\n<|im_start|>answer\n")[0]
    found = MARKER_RE.findall(marked)
    assert len(found) >= 2 and all(unit in m for m in found)
    counts = [int(m.split("<|im_start|>")[1].split()[0]) for m in found]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0
    assert strip_markers(marked) == thinking  # the trace itself is kept byte for byte
    with pytest.raises(ConfigError, match="markers must be one of"):
        to_prompt_completion(rows, tiny_tokenizer, markers="ccc")


def test_packed_padding_free_batch_keeps_examples_apart(tiny_trainer):
    """Why packing is safe without flash attention: a padding-free batch scores like a padded one."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    model, data = tiny_trainer.model.eval(), tiny_trainer.train_dataset
    examples = [{"input_ids": data[i]["input_ids"], "labels": data[i]["labels"]} for i in range(3)]
    pad_id = tiny_trainer.processing_class.pad_token_id
    padded = DataCollatorForLanguageModeling(pad_token_id=pad_id)(examples)
    free = DataCollatorForLanguageModeling(pad_token_id=pad_id, padding_free=True)(examples)
    assert free["input_ids"].shape[0] == 1 and "attention_mask" not in free
    with torch.no_grad():
        a = model(**padded).loss
        b = model(input_ids=free["input_ids"], position_ids=free["position_ids"], labels=free["labels"]).loss
        joined = model(input_ids=free["input_ids"], labels=free["labels"]).loss  # no reset: examples leak
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, joined, atol=1e-3)


def test_packing_keeps_the_mask_and_runs_padding_free(tiny_model_path, arith_jsonl, tmp_path, tiny_trainer):
    recipe = parse_config(
        "cpu_tiny",
        [
            "--model_name_or_path",
            str(tiny_model_path),
            "--dataset_name",
            str(arith_jsonl),
            "--output_dir",
            str(tmp_path),
            "--packing",
            "true",
            "--max_length",
            "256",
        ],
    )
    packed = build_trainer(recipe)
    assert packed.padding_free and recipe.examples == 32
    rows, plain = packed.train_dataset, tiny_trainer.train_dataset
    assert len(rows) < 32 and max(len(r["input_ids"]) for r in rows) <= 256
    masked = sum(lbl == -100 for r in rows for lbl in r["labels"])
    assert masked == sum(lbl == -100 for r in plain for lbl in r["labels"])  # every prompt token, no more
    assert sum(len(r["input_ids"]) for r in rows) == sum(len(r["input_ids"]) for r in plain)
