"""Build TRL's `SFTTrainer` from a YAML recipe and run it: the s1 SFT recipe with the logic left to TRL.

A recipe is a TRL config file: `SFTConfig` fields (optimiser, schedule, packing, max_length, ...), `ModelConfig`
fields (`model_name_or_path`, `dtype`, `attn_implementation`) and `S1ScriptArguments` (where the data comes
from, which columns hold question/thinking/answer, TCC/SCC markers). TRL's completion-only loss on a
prompt/completion dataset keeps the loss off the prompt. After training the model is saved with a chat template
that names the s1 thinking format, so every s1eval engine loads it and detects the delimiters.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser

from s1eval.errors import ConfigError
from s1eval.formats import get_format

from .data import load_rows, to_prompt_completion

CONFIG_DIR = Path(__file__).parent / "configs"
TINY_MODEL = "tiny"
SUMMARY_FILE = "training_summary.json"
TRAINERS = ("sft", "grpo")
"""The recipes a config's `trainer:` key picks (sft when it has none)."""


@dataclass
class S1ScriptArguments(ScriptArguments):
    """Where the curated rows come from and how they become s1 training text."""

    trainer: str = field(
        default="sft",
        metadata={"help": "Which recipe the config is for: sft (this one) or grpo (s1eval.training.grpo)."},
    )
    question_field: str = field(default="question", metadata={"help": "Column holding the question."})
    thinking_field: str = field(
        default="thinking",
        metadata={"help": "Column holding the reasoning trace (s1K-1.1: deepseek_thinking_trajectory)."},
    )
    answer_field: str = field(
        default="answer", metadata={"help": "Column holding the answer part (s1K-1.1: deepseek_attempt)."}
    )
    thinking_format: str = field(default="s1", metadata={"help": "Thinking delimiters to train (s1 or r1)."})
    system_prompt: str | None = field(
        default=None, metadata={"help": "System message; unset uses the format's default (Qwen's for s1)."}
    )
    answer_prefix: str = field(
        default="", metadata={"help": "Text put before each answer (s1 used 'Answer: ')."}
    )
    answer_prefix_skip: str = field(
        default="starts_with",
        metadata={
            "help": "When an answer keeps no prefix: it starts with the prefix (starts_with), or contains it "
            "anywhere (contains: s1's data/tokenization.py rule, byte for byte).",
            "choices": ["starts_with", "contains"],
        },
    )
    loss_starts_at: str = field(
        default="think",
        metadata={
            "help": "Where the prompt ends and the loss starts: after <|im_start|>think\\n, the s1eval inference "
            "prompt (think); or after <|im_start|>assistant\\n, so the model learns to open its thinking and the "
            "turn ends as the chat template ends it (assistant: s1's train/sft.py).",
            "choices": ["think", "assistant"],
        },
    )
    markers: str = field(
        default="none",
        metadata={
            "help": "TCC/SCC training: the prompt states the trace's budget and markers count it down "
            "(none, tcc, scc).",
            "choices": ["none", "tcc", "scc"],
        },
    )
    marker_interval: int = field(default=100, metadata={"help": "Thinking tokens between two markers."})
    marker_step_tokens: int = field(default=100, metadata={"help": "SCC: thinking tokens in one step."})
    max_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N rows (a quick look)."}
    )
    tiny_model_dir: str | None = field(
        default=None,
        metadata={"help": "Where model_name_or_path: tiny is built (default: OUTPUT_DIR/base-tiny)."},
    )


@dataclass
class Recipe:
    script: S1ScriptArguments
    training: SFTConfig
    model: ModelConfig
    path: Path
    examples: int | None = None
    """Training examples after formatting (before packing joins them into rows)."""


def resolve_config(config: str | Path) -> Path:
    """A config file, or the name of a shipped one (`cpu_tiny`, `paper_s1_32b`, ...)."""
    from s1eval.data.shipped import file_or_shipped

    return file_or_shipped(config, CONFIG_DIR, "training config")


def config_trainer(path: Path, args: list[str] | tuple[str, ...] = ()) -> str:
    """The recipe a config is for: `--trainer X` among the overrides, else its `trainer:` key, else sft.

    Read before TRL parses the file, since each recipe's parser knows only its own settings."""
    import yaml

    value: Any = None
    for i, arg in enumerate(args):
        if arg == "--trainer" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--trainer="):
            value = arg.split("=", 1)[1]
    if value is None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        value = loaded.get("trainer", "sft") if isinstance(loaded, dict) else "sft"
    name = str(value).strip().lower()
    if name not in TRAINERS:
        raise ConfigError(f"{path}: unknown trainer {value!r}; use one of: {', '.join(TRAINERS)}")
    return name


def parse_trl_config(
    path: Path, dataclasses: tuple[type, ...], args: list[str] | tuple[str, ...], names: str
) -> tuple[Any, ...]:
    """Parse a YAML recipe into `dataclasses` with TRL's parser; a mistake comes back as a one-line ConfigError
    that names the config and the settings (`names`: which classes' field names are valid)."""
    parser = TrlParser(dataclasses)
    try:
        return tuple(parser.parse_args_and_config(["--config", str(path), *args]))
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        if "not used by the HfArgumentParser" in message:
            message = "unknown settings " + message.split(":", 1)[1].strip() + f"; use {names} names"
        elif message.startswith("Unknown arguments from config file"):
            unknown = re.findall(r"'--([\w.]+)'", message)
            message = f"unknown settings {', '.join(unknown)}; use {names} names"
        raise ConfigError(f"{path}: {message}") from exc


def check_model_and_data(path: Path, model: ModelConfig, script: Any) -> None:
    """Both recipes need a model and data; a data file named relative to the config is found beside it."""
    if not model.model_name_or_path:
        raise ConfigError(f"{path}: set model_name_or_path (a hub id, a local path, or 'tiny')")
    if not script.dataset_name:
        raise ConfigError(
            f"{path}: set dataset_name (a jsonl/parquet file, a saved dataset folder or a hub id)"
        )
    beside = path.parent / script.dataset_name
    if not Path(script.dataset_name).exists() and beside.exists():
        script.dataset_name = str(beside)  # a data file named relative to the config


def parse_config(config: str | Path, args: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Parse a YAML recipe with TRL's parser; `args` (`--learning_rate 1e-4 ...`) override the file."""
    path = resolve_config(config)
    trainer = config_trainer(path, args)
    if trainer != "sft":
        raise ConfigError(
            f"{path}: trainer: {trainer} is not the SFT recipe; run it with `s1eval train {path}`"
        )
    script, training, model = parse_trl_config(
        path, (S1ScriptArguments, SFTConfig, ModelConfig), args, "SFTConfig/ModelConfig"
    )
    check_model_and_data(path, model, script)
    return Recipe(script=script, training=training, model=model, path=path)


def resolve_model_path(name: str, tiny_model_dir: str | None, output_dir: str | Path) -> str:
    """The model to load: `tiny` is built offline (once) into `tiny_model_dir` or OUTPUT_DIR/base-tiny."""
    if name != TINY_MODEL:
        return name
    from s1eval.testing.tiny_model import build_tiny_model

    out = Path(tiny_model_dir or Path(output_dir) / "base-tiny")
    if not (out / "config.json").exists():
        build_tiny_model(out)
    return str(out)


def _model_path(recipe: Recipe) -> str:
    return resolve_model_path(
        recipe.model.model_name_or_path, recipe.script.tiny_model_dir, recipe.training.output_dir
    )


def model_init_kwargs(model_args: ModelConfig, training: Any) -> dict[str, Any]:
    """How the trainer loads the model: ModelConfig's revision, dtype and attention, under the config's own
    `model_init_kwargs`."""
    init_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=training.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
    )
    return {**init_kwargs, **(training.model_init_kwargs or {})}


def stamp_format(tokenizer: Any, fmt_name: str) -> None:
    """Name the thinking delimiters in the chat template (a Jinja comment: renders nothing) for detection."""
    fmt = get_format(fmt_name)
    template = tokenizer.chat_template or ""
    if fmt.think_start.strip() in template:
        return
    note = f"{{# s1eval thinking format {fmt.name}: {fmt.think_start.strip()} ... {fmt.think_end.strip()} #}}"
    tokenizer.chat_template = note + template


def build_dataset(recipe: Recipe, tokenizer: Any) -> Any:
    """The recipe's rows as the prompt/completion dataset handed to TRL (the tests check it against s1's text)."""
    script = recipe.script
    rows = load_rows(script.dataset_name, config=script.dataset_config, split=script.dataset_train_split)
    return to_prompt_completion(
        rows,
        tokenizer,
        question_field=script.question_field,
        thinking_field=script.thinking_field,
        answer_field=script.answer_field,
        system=script.system_prompt,
        answer_prefix=script.answer_prefix,
        answer_prefix_skip=script.answer_prefix_skip,
        loss_starts_at=script.loss_starts_at,
        markers=script.markers,
        marker_interval=script.marker_interval,
        marker_step_tokens=script.marker_step_tokens,
        fmt=get_format(script.thinking_format),
        max_samples=script.max_samples,
    )


def build_trainer(recipe: Recipe) -> SFTTrainer:
    """An `SFTTrainer` over the s1 prompt/completion dataset, with completion-only loss."""
    from transformers import AutoTokenizer

    script, training, model_args = recipe.script, recipe.training, recipe.model
    fmt = get_format(script.thinking_format)
    model_path = _model_path(recipe)
    tokenizer = AutoTokenizer.from_pretrained(
        model_path, revision=model_args.model_revision, trust_remote_code=training.trust_remote_code
    )
    stamp_format(tokenizer, fmt.name)
    dataset = build_dataset(recipe, tokenizer)
    recipe.examples = len(dataset)

    if training.completion_only_loss is False:
        raise ConfigError(
            "completion_only_loss: false would train on the prompt; the s1 recipe needs it true"
        )
    training.completion_only_loss = True
    if training.eos_token is None:
        training.eos_token = fmt.answer_stops[0]  # the end of turn, not <|endoftext|> of base models
    if training.include_num_input_tokens_seen in ("no", False):
        training.include_num_input_tokens_seen = "non_padding"
    training.model_init_kwargs = model_init_kwargs(model_args, training)
    return SFTTrainer(model=model_path, args=training, train_dataset=dataset, processing_class=tokenizer)


class RunStart(TrainerCallback):
    """Remembers the step and token count this invocation started from (a resumed run starts past zero)."""

    step = 0
    tokens = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.step, self.tokens = state.global_step, int(state.num_input_tokens_seen or 0)


def last_checkpoint(output_dir: str | Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


def with_overrides(
    args: list[str] | tuple[str, ...], output_dir: str | Path | None, max_steps: int | None
) -> list[str]:
    """The command line's `--output-dir` / `--max-steps` as TRL overrides after the user's own."""
    overrides = list(args)
    if output_dir is not None:
        overrides += ["--output_dir", str(output_dir)]
    if max_steps is not None:
        overrides += ["--max_steps", str(max_steps)]
    return overrides


def resume_checkpoint(training: Any, resume: bool) -> str | None:
    """The checkpoint to continue from: `resume_from_checkpoint`, else with `--resume` the newest one."""
    checkpoint = training.resume_from_checkpoint
    if resume and checkpoint is None:
        checkpoint = last_checkpoint(training.output_dir)
        if checkpoint is None:
            raise ConfigError(
                f"--resume: no checkpoint-* folder in {training.output_dir}; run without --resume to start fresh"
            )
    return checkpoint


def train(
    config: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    output_dir: str | Path | None = None,
    max_steps: int | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run the recipe end to end: train, save model + tokenizer, write `training_summary.json`."""
    recipe = parse_config(config, with_overrides(args, output_dir, max_steps))
    out = Path(recipe.training.output_dir)
    checkpoint = resume_checkpoint(recipe.training, resume)

    started = time.perf_counter()
    trainer = build_trainer(recipe)
    run = fit(trainer, checkpoint, out, started)
    summary = _summary(recipe, trainer, run.result, checkpoint, run.start, run.prepare_s, run.train_s)
    write_summary(trainer, out, summary)
    return summary


@dataclass
class FitRun:
    """What one `trainer.train` call did: TRL's result, where it started, and its times."""

    result: Any
    start: RunStart
    prepare_s: float
    train_s: float


def fit(trainer: Any, checkpoint: str | None, out: Path, started: float) -> FitRun:
    """Train (from `checkpoint`, if any) and save the model to `out`; `started` is when preparation began."""
    start = RunStart()
    trainer.add_callback(start)
    prepared = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    trained = time.perf_counter()
    trainer.save_model(str(out))
    return FitRun(result, start, prepared - started, trained - prepared)


def write_summary(trainer: Any, out: Path, summary: dict[str, Any]) -> None:
    """Beside the saved model (main process only): its tokenizer, and `training_summary.json`."""
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out))
        (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _summary(
    recipe: Recipe,
    trainer: SFTTrainer,
    result: Any,
    checkpoint: str | None,
    start: RunStart,
    prepare_s: float,
    train_s: float,
) -> dict[str, Any]:
    import torch
    import trl

    state, args = trainer.state, trainer.args
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    dataset = trainer.train_dataset
    loss_tokens = sum(sum(1 for x in labels if x != -100) for labels in dataset["labels"])
    input_tokens = sum(len(ids) for ids in dataset["input_ids"])
    tokens_seen = int(state.num_input_tokens_seen or 0)
    run_tokens = tokens_seen - start.tokens
    return {
        "config": str(recipe.path),
        "model": recipe.model.model_name_or_path,
        "dataset": recipe.script.dataset_name,
        "output_dir": str(args.output_dir),
        "format": recipe.script.thinking_format,
        "markers": recipe.script.markers,
        "loss_starts_at": recipe.script.loss_starts_at,
        "examples": recipe.examples,
        "train_rows": len(dataset),
        "epochs": args.num_train_epochs,
        "max_steps": args.max_steps,
        "global_step": state.global_step,
        "steps_this_run": state.global_step - start.step,
        "resumed_from": checkpoint,
        "train_loss": result.training_loss,
        "first_logged_loss": losses[0] if losses else None,
        "last_logged_loss": losses[-1] if losses else None,
        "tokens_seen": tokens_seen,
        "tokens_this_run": run_tokens,
        "dataset_tokens_per_epoch": input_tokens,
        "loss_tokens_per_epoch": loss_tokens,
        "wall_time_s": round(prepare_s + train_s, 3),
        "train_time_s": round(train_s, 3),
        "tokens_per_s": round(run_tokens / train_s, 1) if train_s > 0 else None,
        "global_batch_size": args.per_device_train_batch_size
        * args.gradient_accumulation_steps
        * args.world_size,
        "num_processes": args.world_size,
        "device": device_name(),
        "packing": args.packing,
        "padding_free": trainer.padding_free,
        "completion_only_loss": trainer.completion_only_loss,
        "max_length": args.max_length,
        "trl_version": trl.__version__,
        "torch_version": torch.__version__,
    }


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}"
    return "cpu"


__all__ = [
    "TRAINERS",
    "Recipe",
    "S1ScriptArguments",
    "build_dataset",
    "build_trainer",
    "check_model_and_data",
    "config_trainer",
    "device_name",
    "fit",
    "last_checkpoint",
    "model_init_kwargs",
    "parse_config",
    "parse_trl_config",
    "resolve_model_path",
    "resume_checkpoint",
    "train",
    "with_overrides",
    "write_summary",
]
