"""The on-disk shape of an s1eval run directory, read by `s1eval report` and written by `s1eval eval`.

```
RUN_DIR/
  manifest.json    one object: RunManifest
  samples.jsonl    one SampleRecord per line, appended as each sample completes
```

A run is one model x one benchmark x one method with its settings; a budget sweep is one run whose records
carry different `budget` values. `budget` is the x-axis key: a token budget for bf/tcc/scc/rs, the class name
("short"/"long") for ccc, and the number of samples N for vote.
"""

from __future__ import annotations

from typing import Any, TypedDict


class RunManifest(TypedDict, total=False):
    run_id: str
    label: str  # how the run is named in tables, e.g. "BF" or "s1K / BF"
    model: str  # hub id or local path
    model_revision: str | None
    model_variant: str | None  # e.g. "s1k", "1k-random" (the data subset the model was trained on)
    engine: dict[str, Any]  # Engine.describe()
    method: str  # bf, tcc, scc, ccc, rs, vote, tcc+bf, scc+bf
    settings: dict[str, Any]  # the method's settings
    budgets: list[Any]
    benchmark: str  # aime24, math500, gpqa_diamond, or a custom name
    data_hash: str  # sha256 of the benchmark rows used
    num_questions: int
    s1eval_version: str
    versions: dict[str, str]  # torch, transformers, ...
    command: str
    hardware: dict[str, Any]
    created: str  # ISO 8601


class SampleRecord(TypedDict, total=False):
    key: str  # hash of (model, engine settings, prompt, method settings, budget, seed): the resume key
    id: str  # question id
    benchmark: str
    method: str
    budget: Any
    sample: int  # index of the repeated sample (0..k-1)
    seed: int | None
    prompt: str
    output: str  # everything the model wrote after the prompt (thinking, forced text, answer)
    answer_text: str  # the answer phase (empty when there was none)
    pred: str | None  # extracted answer
    gold: str
    correct: bool
    outcome: str  # answered, forced, truncated, no_answer, extraction_failed, engine_error
    ledger: dict[str, Any]
