"""Write chosen rows for the training recipe: chat messages plus separate question/thinking/answer fields.

The assistant message holds the s1 layout (``<|im_start|>think\\n{thinking}\\n<|im_start|>answer\\n{answer}``
by default; markers configurable) so a chat template can render it directly, and the separate fields let the
recipe build any other layout and mask the loss to the trace and answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .config import ExportConfig

FIELDS = (
    "id",
    "pool_index",
    "source",
    "domain",
    "question",
    "thinking",
    "answer",
    "solution",
    "thinking_tokens",
)


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def assistant_text(thinking: str, answer: str, cfg: ExportConfig) -> str:
    """The assistant turn with its thinking and answer parts marked."""
    return f"{cfg.think_marker}{thinking}\n{cfg.answer_marker}{cfg.answer_prefix}{answer}"


def to_records(df: pd.DataFrame, cfg: ExportConfig) -> list[dict[str, Any]]:
    """One dict per row: the canonical fields, pass-through extras and messages."""
    extras = sorted(c for c in df.columns if c.startswith("extra:"))
    records = []
    for row in df.to_dict("records"):
        rec: dict[str, Any] = {f: _clean(row.get(f)) for f in FIELDS}
        for c in extras:
            rec[c[len("extra:") :]] = _clean(row[c])
        question, thinking, answer = rec["question"] or "", rec["thinking"] or "", rec["answer"] or ""
        messages = []
        if cfg.system_prompt:
            messages.append({"role": "system", "content": cfg.system_prompt})
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": assistant_text(thinking, answer, cfg)})
        rec["messages"] = messages
        records.append(rec)
    return records


def to_dataset(df: pd.DataFrame, cfg: ExportConfig | None = None) -> Any:
    """A datasets.Dataset ready for the SFT recipe."""
    import datasets

    return datasets.Dataset.from_list(to_records(df, cfg or ExportConfig()))


def write_jsonl(records: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path)


def write_subset(df: pd.DataFrame, name: str, out_dir: Path, cfg: ExportConfig) -> list[Path]:
    """Write one subset in every configured format; returns the paths."""
    records = to_records(df, cfg)
    paths = []
    for fmt in cfg.formats:
        path = out_dir / f"{name}.{fmt}"
        (write_jsonl if fmt == "jsonl" else write_parquet)(records, path)
        paths.append(path)
    return paths
