"""Training rows in the s1 chat layout, split into a prompt and a completion so the loss skips the prompt.

One example renders as::

    <|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n
    <|im_start|>think\\n{thinking}\\n<|im_start|>answer\\n{answer}<|im_end|>

Where the prompt ends is `loss_starts_at`:

- ``think`` (the default): the prompt is exactly what `s1eval.formats.build_prompt` gives at inference (chat
  template + the think-start delimiter), the completion is the thinking, the end-of-thinking delimiter, the answer
  and TRL's end of sequence. Both are strings.
- ``assistant`` (s1's `train/sft.py`): the prompt ends at ``<|im_start|>assistant\\n`` and the completion is the
  whole assistant turn, think-start delimiter included, as the chat template renders it (``...<|im_end|>\\n`` for
  Qwen). Both are chat messages, so TRL renders them with the template, as s1's `data/tokenization.py` does.

TRL's completion-only loss sets every prompt label to -100.
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
LOSS_STARTS = ("think", "assistant")
"""Where the loss starts: after the think-start delimiter (s1eval), or after the assistant header (s1)."""
PREFIX_SKIPS = ("starts_with", "contains")
"""When an answer keeps no prefix: it already starts with it, or contains it anywhere (s1's rule)."""


def join_thinking(thinking: str | Sequence[str] | None) -> str:
    """s1K keeps some traces as a list of parts; s1's recipe joins them with newlines and strips the ends."""
    if thinking is None:
        return ""
    if isinstance(thinking, str):
        return thinking.strip()
    return "\n".join(str(part) for part in thinking).strip()


def prefix_answer(answer: str, prefix: str, skip_when: str = "starts_with") -> str:
    """Put `prefix` before the answer unless it is already there; `contains` is s1's rule byte for byte.

    s1 (`data/tokenization.py`): ``"Answer: " + answer if "Answer:" not in answer else answer``, then
    ``answer.strip()``: the raw attempt is prefixed and the result stripped, so inner whitespace stays.
    """
    if skip_when == "contains":
        return (answer if prefix.strip() in answer else prefix + answer).strip()
    text = answer.strip()
    if prefix and not text.startswith(prefix.strip()):
        text = prefix + text
    return text


def chat_messages(fmt: ThinkingFormat, question: str, system: str | None = None) -> list[dict[str, str]]:
    """The messages `build_prompt` renders: the system message (the format's default if unset) and the question."""
    sys_text = system if system is not None else fmt.default_system
    messages = [{"role": "system", "content": sys_text}] if sys_text else []
    return [*messages, {"role": "user", "content": question}]


def format_example(
    tokenizer: Any,
    question: str,
    thinking: str | Sequence[str] | None,
    answer: str,
    *,
    fmt: ThinkingFormat = S1,
    system: str | None = None,
    answer_prefix: str = "",
    answer_prefix_skip: str = "starts_with",
    loss_starts_at: str = "think",
    end_of_turn: str | None = None,
) -> dict[str, Any]:
    """One prompt/completion pair in the s1 layout; `loss_starts_at` picks where the prompt ends (see module doc)."""
    answer_text = prefix_answer(str(answer), answer_prefix, answer_prefix_skip)
    reply = f"{join_thinking(thinking)}\n{fmt.think_end}{answer_text}"
    if loss_starts_at == "assistant":
        # s1's assistant content: "<|im_start|>think\n" + thinking + "\n<|im_start|>answer\n" + answer
        turn = {"role": "assistant", "content": fmt.think_start + reply}
        return {"prompt": chat_messages(fmt, question, system), "completion": [turn]}
    prompt = build_prompt(tokenizer, fmt, question, system)
    eot = end_of_turn if end_of_turn is not None else fmt.answer_stops[0]
    return {"prompt": prompt, "completion": reply + eot}


def example_text(tokenizer: Any, example: dict[str, Any]) -> tuple[str, str]:
    """The prompt and completion text TRL tokenizes for `example` (chat messages rendered with the template).

    TRL may still append its end-of-sequence token to a string completion that lacks it.
    """
    prompt, completion = example["prompt"], example["completion"]
    if isinstance(prompt, str):
        return prompt, completion
    head = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    tail = full[len(head) :]
    if not full.startswith(head) or completion[0]["content"] not in tail:
        # e.g. R1-distill templates drop the thinking from assistant turns
        raise DataError(
            "the chat template does not render the assistant turn as given; use loss_starts_at: think"
        )
    return head, tail


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
    answer_prefix_skip: str = "starts_with",
    loss_starts_at: str = "think",
    markers: str = "none",
    marker_interval: int = 100,
    marker_step_tokens: int = 100,
    fmt: ThinkingFormat = S1,
    max_samples: int | None = None,
) -> Any:
    """Map curated rows to a TRL prompt/completion dataset (all other columns dropped)."""
    if markers not in MARKER_KINDS:
        raise ConfigError(f"markers must be one of {', '.join(MARKER_KINDS)}, got {markers!r}")
    for name, value, allowed in (
        ("loss_starts_at", loss_starts_at, LOSS_STARTS),
        ("answer_prefix_skip", answer_prefix_skip, PREFIX_SKIPS),
    ):
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    if loss_starts_at == "assistant" and not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            "loss_starts_at: assistant renders the turn with the chat template; this tokenizer has none"
        )
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

    def convert(row: dict) -> dict[str, Any]:
        example = format_row(row)
        if loss_starts_at == "assistant":
            example_text(tokenizer, example)  # refuses a template that rewrites the turn
        return example

    def format_row(row: dict) -> dict[str, Any]:
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
            answer_prefix_skip=answer_prefix_skip,
            loss_starts_at=loss_starts_at,
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
