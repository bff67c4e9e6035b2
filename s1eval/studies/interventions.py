"""The interventions study: plain budget forcing against each thinking intervention, on the same model,
questions, budgets and seeds, measured by the same ledger and metrics.

Rows: "BF" (the baseline) and one per intervention (`s1eval.control.interventions`). Each row is one
resumable run over every budget under `<work>/runs/<row>/<benchmark>`, so `s1eval report` reads it too. The
report gives Control / Scaling / Performance, the largest budget's accuracy with its paired difference to
BF, tokens per correct answer (generated thinking, answer and probe tokens), and accuracy at every budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.control.interventions import parse_intervention
from s1eval.control.methods import prepare_method, validate_method
from s1eval.data import data_hash
from s1eval.engines.base import Engine
from s1eval.errors import ConfigError
from s1eval.runs.evaluate import RunSpec
from s1eval.studies.common import (
    Benchmarks,
    StudyResult,
    cell_dir,
    display_path,
    load_benchmarks,
    run_cell,
    study_engine,
)
from s1eval.studies.comparison import compare_systems, write_comparison_report
from s1eval.studies.findings import Finding, paired_finding

BASELINE = "BF"
DEFAULT_INTERVENTIONS: tuple[str, ...] = ("early_stop", "wrap_up", "alphaone", "dynasor")

NOTES = (
    "Control: share of samples whose thinking stayed within their budget (%). Scaling: average slope of "
    "accuracy over log2 budget. Performance: the best accuracy over the budgets. diff: this row minus BF in "
    "accuracy points on the same questions (paired bootstrap, 95% CI). Tokens per correct: every generated "
    "token (thinking, answer and probes) divided by the correct answers. Probe and forced tokens: per sample; "
    "forced text (delimiters, hints, extension words, probe prompts) is counted apart from generated tokens, "
    "never hidden in them."
)


def run_interventions_study(
    model: str | Engine,
    benchmarks: Benchmarks,
    *,
    budgets: Sequence[int],
    interventions: Sequence[str | Mapping[str, Any]] = DEFAULT_INTERVENTIONS,
    max_answer_tokens: int = 1024,
    num_extensions: int = 0,
    out_dir: str | Path = "results/interventions",
    work_dir: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    sampling: Mapping[str, Any] | None = None,
    format_name: str | None = "auto",
    system: str | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    resamples: int = 10_000,
    progress: bool = True,
) -> StudyResult:
    """Run (or resume) BF and every intervention on every benchmark; write report.md and the CSVs.

    interventions: specs as `bf` takes them (`dynasor:interval=32:agree=3`, or a mapping with "name").
    """
    specs = [p.spec for p in (parse_intervention(i) for i in interventions) if p is not None]
    if len(set(specs)) != len(specs):
        raise ConfigError(f"interventions must differ, got {specs}")
    rows = {BASELINE: None, **{s: s for s in specs}}
    base = {
        "max_thinking_tokens": max(budgets),
        "max_answer_tokens": max_answer_tokens,
        "num_extensions": num_extensions,
        **(sampling or {}),
    }
    for spec in specs:  # every setting is checked before a model is loaded
        validate_method("bf", base | {"intervention": spec})
    problems = load_benchmarks(benchmarks, limit=limit, seed=seed)
    out, work = Path(out_dir), Path(work_dir) if work_dir is not None else Path(out_dir)
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    runs: dict[tuple[str, str], Path] = {}
    with study_engine(model, engine, engine_options) as eng:
        prepared_rows = {  # every row checked against the tokenizer before any row runs
            label: prepare_method(eng, "bf", base | ({"intervention": spec} if spec else {}), format_name)
            for label, spec in rows.items()
        }
        for label, prepared in prepared_rows.items():
            for bench, qs in problems.items():
                run_dir = cell_dir(work, label, bench)
                run = RunSpec(benchmark=bench, budgets=tuple(budgets), seed=seed, system=system, label=label)
                cells[(label, bench)] = run_cell(prepared, qs, run_dir, run, progress=progress)
                runs[(label, bench)] = run_dir
        model_id = eng.model_id

    tables: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    findings: list[Finding] = []
    for bench in problems:
        per_row = {label: cells[(label, bench)] for label in rows}
        tables[bench] = compare_systems(per_row, BASELINE, resamples=resamples, seed=seed)
        top = max(budgets)
        for label in specs:
            findings.append(
                paired_finding(
                    f"{label} at {top}",
                    f"BF at {top}",
                    bench,
                    [r for r in per_row[label] if r["budget"] == top],
                    [r for r in per_row[BASELINE] if r["budget"] == top],
                    resamples=resamples,
                    seed=seed,
                )
            )
    meta = {
        "Model": model_id,
        "Benchmarks": "; ".join(
            f"{b} ({len(p)} questions, data sha256 {data_hash(p)[:12]})" for b, p in problems.items()
        ),
        "Budget forcing": f"budgets {list(budgets)}, {num_extensions} extension(s), max answer tokens "
        f"{max_answer_tokens}, sampling {dict(sampling or {}) or 'greedy'}, seed {seed}",
        "Rows": "BF (no intervention); " + "; ".join(specs),
        "Runs": f"{display_path(work / 'runs', out)}/<row>/<benchmark> (s1eval report reads them)",
    }
    files = write_comparison_report(
        tables,
        meta,
        findings,
        out,
        title=f"Interventions: {model_id}",
        baseline=BASELINE,
        row_header="Intervention",
        notes=(NOTES,),
        slug="interventions",
    )
    summary = pd.concat([s.assign(benchmark=b) for b, (s, _) in tables.items()], ignore_index=True)
    return StudyResult("interventions", summary, out, runs, files, findings, {"tables": tables})


__all__ = ["BASELINE", "DEFAULT_INTERVENTIONS", "run_interventions_study"]
