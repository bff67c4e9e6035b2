"""Evaluate one method on one benchmark into a resumable run directory (what `s1eval eval` and studies run).

Each (question, repeat) is one unit of work: the method runs it at every budget at once (the anytime sweep
for bf), the answers are scored, and the records are appended to the run store as soon as their chunk
finishes. A rerun skips every unit whose records are all there, so an interrupted run loses nothing done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1eval.control.methods import PreparedMethod
from s1eval.control.seeds import sample_seed
from s1eval.data import Problem, data_hash, format_question
from s1eval.runs.identity import (
    identity_from_manifest,
    identity_key,
    method_settings,
    require_same_identity,
    run_identity,
)
from s1eval.runs.manifest import build_manifest
from s1eval.runs.store import RunStore, sample_key
from s1eval.scoring import score_sample

REUSE_FIX = "give another --run-dir, or --overwrite to replace it"


@dataclass
class RunSpec:
    """What makes a run itself, beside the prepared method: the data, repeats, seeds and names."""

    benchmark: str
    budgets: Sequence[Any] | None = None
    samples: int = 1
    seed: int = 0
    system: str | None = None
    label: str | None = None
    model_variant: str | None = None
    chunk_size: int = 32
    overwrite: bool = False
    """Replace whatever the run directory holds (another model's or settings' run) instead of refusing."""
    reuse_fix: str = REUSE_FIX
    """How the refusal of a mismatched run directory tells the user to fix it (front ends name their options)."""


def evaluate(
    prepared: PreparedMethod,
    problems: Sequence[Problem],
    run_dir: str | Path,
    spec: RunSpec,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run, score and store every (question, repeat, budget); return the run's records."""
    if spec.samples < 1:
        from s1eval.errors import ConfigError

        raise ConfigError(f"samples must be >= 1, got {spec.samples}")
    store = RunStore(run_dir)
    engine_info = prepared.engine.describe()
    settings = method_settings(prepared.config)
    budgets = prepared.budgets(spec.budgets)
    identity = run_identity(prepared, seed=spec.seed, benchmark=spec.benchmark, data_hash=data_hash(problems))
    old = store.read_manifest()
    if old is not None and spec.overwrite:
        store.clear()
        old = None
    if old is not None:
        recorded = identity_from_manifest(old)
        if "identity" not in old:  # written before identities: compare only what it recorded
            recorded = {k: v for k, v in recorded.items() if v is not None}
            wanted = {k: identity[k] for k in recorded}
        else:
            wanted = identity
        require_same_identity(str(run_dir), recorded, wanted, spec.reuse_fix)
    known = [] if old is None else list(old.get("budgets") or [])
    had = 0 if old is None else int((old.get("settings") or {}).get("samples") or 0)
    if old is None or spec.samples > had or any(b not in known for b in budgets):  # new or grown
        store.write_manifest(
            build_manifest(
                model=prepared.engine.model_id,
                engine=engine_info,
                method=prepared.method.name,
                settings=settings
                | {"format": prepared.fmt.name, "samples": max(had, spec.samples), "seed": spec.seed},
                budgets=list(dict.fromkeys([*known, *budgets])),
                benchmark=spec.benchmark,
                data_hash=identity["data_hash"],
                num_questions=len(problems),
                label=spec.label,
                model_variant=spec.model_variant,
                identity=identity,
                identity_key=identity_key(identity),
            )
            | ({} if old is None else {"run_id": old.get("run_id"), "created": old.get("created")})
        )
    done = store.done()
    units = []
    for problem in problems:
        question = format_question(problem)
        for repeat in range(spec.samples):
            seed = sample_seed(spec.seed, problem.id, repeat)
            keys = {
                b: sample_key(
                    prepared.engine.model_id, engine_info, question, prepared.method.name, settings, b, seed
                )
                for b in budgets
            }
            if not all(k in done for k in keys.values()):
                units.append((problem, question, repeat, seed, keys))
            elif progress is not None:
                progress(1)
    for start in range(0, len(units), spec.chunk_size):
        chunk = units[start : start + spec.chunk_size]
        results = prepared.run(
            [u[1] for u in chunk], budgets=budgets, seeds=[u[3] for u in chunk], system=spec.system
        )
        records = []
        for b in budgets:
            for (problem, question, repeat, seed, keys), res in zip(chunk, results[b], strict=True):
                records.append(_record(problem, question, repeat, seed, keys[b], b, res, prepared, spec))
        store.append(records)
        if progress is not None:
            progress(len(chunk))
    return store.latest()


def _record(problem, question, repeat, seed, key, budget, res, prepared, spec) -> dict[str, Any]:
    scored = score_sample(res.answer, res.thinking, problem.answer, problem.kind, res.ledger.outcome)
    ledger = res.ledger.to_dict()
    ledger["outcome"] = scored.outcome
    return {
        "key": key,
        "id": problem.id,
        "benchmark": spec.benchmark,
        "method": prepared.method.name,
        "budget": budget,
        "sample": repeat,
        "seed": seed,
        "prompt": question,
        "output": res.output,
        "answer_text": res.answer,
        "pred": scored.pred,
        "gold": problem.answer,
        "correct": bool(scored.correct),
        "outcome": scored.outcome,
        "ledger": ledger,
    }
