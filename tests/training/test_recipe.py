"""The recipe end to end on CPU (train, save, resume, reload, budget forcing) and the shipped configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing
from s1eval.errors import ConfigError
from s1eval.formats import S1, build_prompt, detect_format, preflight
from s1eval.scoring.classes import OUTCOMES
from s1eval.training.data import write_jsonl
from s1eval.training.recipe import CONFIG_DIR, SUMMARY_FILE, parse_config, train
from s1eval.training.toy import arithmetic_rows

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
REPO = Path(__file__).resolve().parents[2]
ACCELERATE_DIR = REPO / "training" / "accelerate"
ON_THIS_CPU = ["--use_cpu", "true"]  # TrainingArguments refuses bf16 on a machine without a GPU unless told


@pytest.fixture(scope="module")
def trained(tiny_model_path, tmp_path_factory):
    """Six CPU steps on 32 arithmetic rows (checkpoints every 3), then two more steps resumed by the CLI."""
    root = tmp_path_factory.mktemp("sft")
    data = write_jsonl(arithmetic_rows(32), root / "arith.jsonl")
    out = root / "out"
    args = [
        "--model_name_or_path",
        str(tiny_model_path),
        "--dataset_name",
        str(data),
        "--save_steps",
        "3",
        "--per_device_train_batch_size",
        "4",
        "--learning_rate",
        "5e-3",
        "--warmup_steps",
        "0",
    ]
    first = train("cpu_tiny", args, output_dir=out, max_steps=6)
    first_state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "s1eval.training",
            "cpu_tiny",
            "--output-dir",
            str(out),
            "--max-steps",
            "8",
            "--resume",
            *args,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {
        "out": out,
        "first": first,
        "first_state": first_state,
        "stdout": proc.stdout,
        "base": tiny_model_path,
        "data": data,
    }


@pytest.mark.slow
def test_loss_falls_and_summary_records_the_cost(trained):
    first = trained["first"]
    losses = [e["loss"] for e in trained["first_state"]["log_history"] if "loss" in e]
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < sum(losses[:2]) / 2 - 0.5
    assert first["global_step"] == 6 and first["resumed_from"] is None
    assert first["tokens_seen"] > 0 and first["loss_tokens_per_epoch"] < first["dataset_tokens_per_epoch"]
    assert first["completion_only_loss"] is True and first["examples"] == 32


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(trained):
    summary = json.loads((trained["out"] / SUMMARY_FILE).read_text())
    assert Path(summary["resumed_from"]).name == "checkpoint-6"
    assert summary["global_step"] == 8 and summary["steps_this_run"] == 2
    assert summary["tokens_seen"] > trained["first"]["tokens_seen"] > 0
    assert summary["tokens_this_run"] == summary["tokens_seen"] - trained["first"]["tokens_seen"]
    assert json.loads(trained["stdout"].strip().splitlines()[-1])["global_step"] == 8


@pytest.mark.slow
def test_saved_model_loads_in_hf_engine_and_runs_budget_forcing(trained):
    from s1eval.engines.hf import HFEngine

    engine = HFEngine(str(trained["out"]), batch_size=4)
    tok = engine.tokenizer
    assert detect_format(tok) is S1
    preflight(tok, S1)
    prompts = [build_prompt(tok, S1, f"What is {a} + {b}?") for a, b in [(3, 4), (9, 2)]]
    config = BudgetForcingConfig(max_thinking_tokens=24, num_extensions=1, max_answer_tokens=12)
    results = run_budget_forcing(engine, S1, prompts, config)
    assert len(results) == 2
    for res in results:
        assert res.ledger.thinking_tokens <= 24
        assert res.ledger.outcome in OUTCOMES
        assert S1.think_end in res.output
    # the saved weights are the trained ones: a training example scores far better than on the base model
    from transformers import AutoModelForCausalLM

    row = arithmetic_rows(1)[0]
    text = (
        build_prompt(tok, S1, row["question"]) + f"{row['thinking']}\n{S1.think_end}{row['answer']}<|im_end|>"
    )
    ids = torch.tensor([tok.encode(text, add_special_tokens=False)])
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(trained["base"])(input_ids=ids, labels=ids).loss
        tuned = engine.model(input_ids=ids, labels=ids).loss
    assert tuned < base - 1.0


def test_resume_without_a_checkpoint_is_one_line(tmp_path, tiny_model_path):
    with pytest.raises(ConfigError, match="no checkpoint-\\* folder"):
        train("cpu_tiny", ["--model_name_or_path", str(tiny_model_path)], output_dir=tmp_path, resume=True)
    with pytest.raises(ConfigError, match="no training config"):
        parse_config("no_such_recipe")


def test_paper_config_has_every_hyperparameter_of_the_paper():
    recipe = parse_config("paper_s1_32b", ON_THIS_CPU)
    t, m, s = recipe.training, recipe.model, recipe.script
    assert m.model_name_or_path == "Qwen/Qwen2.5-32B-Instruct"
    assert t.num_train_epochs == 5
    assert t.learning_rate == 1e-5
    assert str(t.lr_scheduler_type) in ("cosine", "SchedulerType.COSINE")
    assert t.warmup_steps == 0.05  # 5% of the total steps
    assert str(t.optim).lower().endswith("adamw_torch")
    assert (t.adam_beta1, t.adam_beta2) == (0.9, 0.95)
    assert t.weight_decay == 1e-4
    assert t.bf16 is True and t.fp16 is False
    assert t.max_length == 20000  # s1.1's block size (s1 README); sft.sh's 32768 is s1-32B's
    assert t.activation_checkpointing is True and t.gradient_checkpointing is True
    assert t.completion_only_loss is True and t.packing is False
    assert t.save_only_model is True and t.logging_steps == 1
    assert t.eval_strategy == "no" and t.save_strategy == "no" and t.seed == 42
    assert t.average_tokens_across_devices is False  # s1 weighs every example the same
    assert (s.answer_prefix, s.answer_prefix_skip, s.loss_starts_at) == ("Answer: ", "contains", "assistant")
    assert (s.dataset_name, s.question_field, s.thinking_field, s.answer_field) == (
        "simplescaling/s1K-1.1",
        "question",
        "deepseek_thinking_trajectory",
        "deepseek_attempt",
    )
    # global batch 16 on the paper's 16 GPUs (the multi-node FSDP full-shard launch config)
    from accelerate.commands.config.config_args import load_config_from_file

    cluster = load_config_from_file(str(ACCELERATE_DIR / "multinode_fsdp.yaml"))
    assert t.per_device_train_batch_size * t.gradient_accumulation_steps * cluster.num_processes == 16
    assert str(cluster.distributed_type).endswith("FSDP")
    assert cluster.fsdp_config["fsdp_reshard_after_forward"] is True  # full shard


@pytest.mark.parametrize("name", ["cpu_tiny", "one_gpu_qwen2.5_1.5b"])
def test_other_configs_parse_with_the_paper_optimiser(name):
    recipe = parse_config(name, ON_THIS_CPU)
    t, s = recipe.training, recipe.script
    assert (t.adam_beta1, t.adam_beta2, t.weight_decay) == (0.9, 0.95, 1e-4)
    assert t.completion_only_loss is True
    # only the paper config takes s1's text and loss weighting; these keep s1eval's defaults
    assert (s.answer_prefix, s.answer_prefix_skip, s.loss_starts_at) == ("", "starts_with", "think")
    assert t.average_tokens_across_devices is True


def test_accelerate_configs_load_and_are_documented():
    from accelerate.commands.config.config_args import load_config_from_file

    readme = (REPO / "training" / "README.md").read_text()
    expected = {
        "fsdp_full_shard": ("FSDP", 8),
        "multinode_fsdp": ("FSDP", 16),
        "deepspeed_zero3": ("DEEPSPEED", 8),
    }
    for name, (kind, procs) in expected.items():
        cfg = load_config_from_file(str(ACCELERATE_DIR / f"{name}.yaml"))
        assert str(cfg.distributed_type).endswith(kind) and cfg.num_processes == procs
        assert f"--config_file training/accelerate/{name}.yaml" in readme
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")) == [
        "cpu_tiny",
        "grpo_cpu_tiny",
        "grpo_one_gpu_qwen2.5_1.5b",
        "one_gpu_qwen2.5_1.5b",
        "paper_s1_32b",
    ]
