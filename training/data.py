"""Training rows in the s1 chat layout, split into a prompt and a completion so the loss skips the prompt.

One example renders as::

    <|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n
    <|im_start|>think\\n{thinking}\\n<|im_start|>answer\\n{answer}<|im_end|>

The prompt is exactly what `s1eval.formats.build_prompt` gives at inference (chat template + the think-start
delimiter), so the model is trained on the context it will see. The completion (thinking, the end-of-thinking
delimiter, the answer and the end of turn) is what TRL's completion-only loss trains on: a prompt/completion
dataset makes `SFTTrainer` set every prompt label to -100.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s1eval.errors import ConfigError, DataError
from s1eval.formats import S1, ThinkingFormat, build_prompt

MARKER_KINDS = ("none", "tcc", "scc")


def join_thinking(thinking: str | Sequence[str] | None) -> str:
    """s1K keeps some traces as a list of parts; s1's recipe joins them with newlines and strips the ends."""
    if thinking is None:
        return ""
    if isinstance(thinking, str):
        return thinking.strip()
    return "\n".join(str(part) for part in thinking).strip()


def format_example(
    tokenizer: Any,
    question: str,
    thinking: str | Sequence[str] | None,
    answer: str,
    *,
    fmt: ThinkingFormat = S1,
    system: str | None = None,
    answer_prefix: str = "",
    end_of_turn: str | None = None,
) -> dict[str, str]:
    """One prompt/completion pair in the s1 layout (the prompt is the inference prompt, byte for byte)."""
    prompt = build_prompt(tokenizer, fmt, question, system)
    eot = end_of_turn if end_of_turn is not None else fmt.answer_stops[0]
    answer_text = str(answer).strip()
    if answer_prefix and not answer_text.startswith(answer_prefix.strip()):
        answer_text = answer_prefix + answer_text
    completion = f"{join_thinking(thinking)}\n{fmt.think_end}{answer_text}{eot}"
    return {"prompt": prompt, "completion": completion}


def condition_example(
    question: str, thinking: str, kind: str, tokenizer: Any, *, interval: int = 100, step_tokens: int = 100
) -> tuple[str, str]:
    """A TCC / SCC training pair: the prompt states the trace's own budget, the thinking counts it down.

    The instruction and the markers come from s1eval's TCC/SCC code (`conditional.py`, `markers.py`), so a
    model trained here sees at inference exactly the prompt and markers it was trained on.
    """
    if kind == "none":
        return question, thinking
    from s1eval.control.conditional import StepConditionalConfig, TokenConditionalConfig, with_instruction
    from s1eval.control.markers import insert_markers

    tokens = len(tokenizer.encode(thinking, add_special_tokens=False))
    if tokens == 0:
        return question, thinking
    if kind == "tcc":
        template = TokenConditionalConfig.__dataclass_fields__["instruction"].default
        instruction, unit, budget = template.format(budget=tokens), "tokens", tokens
    else:
        steps = math.ceil(tokens / step_tokens)
        template = StepConditionalConfig.__dataclass_fields__["instruction"].default
        instruction, unit, budget = template.format(budget=tokens, steps=steps), "steps", steps
    marked = insert_markers(
        thinking, tokenizer, unit=unit, budget=budget, interval=interval, step_tokens=step_tokens
    )
    return with_instruction(question, instruction), marked


def load_rows(source: str, *, config: str | None = None, split: str = "train") -> Any:
    """A `datasets.Dataset` from a jsonl/json/parquet file, a folder saved by `save_to_disk`, or a hub id."""
    import datasets

    path = Path(source).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        builder = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}.get(suffix)
        if builder is None:
            raise DataError(f"{path}: unknown data file type {suffix!r}; use .jsonl, .json, .parquet or .csv")
        return datasets.load_dataset(builder, data_files=str(path), split="train")
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            loaded = datasets.load_from_disk(str(path))
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise DataError(
                        f"{path} has splits {sorted(loaded)}, not {split!r}; set dataset_train_split"
                    )
                return loaded[split]
            return loaded
        return datasets.load_dataset(str(path), name=config, split=split)
    if source.startswith((".", "/", "~")) or source.endswith((".jsonl", ".json", ".parquet")):
        raise DataError(
            f"training data {source} does not exist; point dataset_name at a file, folder or hub id"
        )
    return datasets.load_dataset(source, name=config, split=split)


def to_prompt_completion(
    rows: Any,
    tokenizer: Any,
    *,
    question_field: str = "question",
    thinking_field: str = "thinking",
    answer_field: str = "answer",
    system: str | None = None,
    answer_prefix: str = "",
    markers: str = "none",
    marker_interval: int = 100,
    marker_step_tokens: int = 100,
    fmt: ThinkingFormat = S1,
    max_samples: int | None = None,
) -> Any:
    """Map curated rows to a TRL prompt/completion dataset (all other columns dropped)."""
    if markers not in MARKER_KINDS:
        raise ConfigError(f"markers must be one of {', '.join(MARKER_KINDS)}, got {markers!r}")
    columns = list(rows.column_names)
    for name, field in (
        ("question_field", question_field),
        ("thinking_field", thinking_field),
        ("answer_field", answer_field),
    ):
        if field not in columns:
            raise DataError(
                f"training data has no column {field!r} (columns: {', '.join(columns)}); set {name}"
            )
    if max_samples is not None:
        rows = rows.select(range(min(max_samples, len(rows))))

    def convert(row: dict) -> dict[str, str]:
        question, thinking = condition_example(
            str(row[question_field]),
            join_thinking(row[thinking_field]),
            markers,
            tokenizer,
            interval=marker_interval,
            step_tokens=marker_step_tokens,
        )
        return format_example(
            tokenizer,
            question,
            thinking,
            str(row[answer_field]),
            fmt=fmt,
            system=system,
            answer_prefix=answer_prefix,
        )

    return rows.map(convert, remove_columns=columns, desc="Formatting s1 prompt/completion")


def write_jsonl(rows: Sequence[dict], path: str | Path) -> Path:
    """Write rows as JSON lines (used by the tests and the demo to make a small curated-style set)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out
