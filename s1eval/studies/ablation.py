"""The data-ablation study (the paper's Table 2): which 1K training subset makes the better reasoning model.

From one pool and one seed, `curation` builds s1K (quality -> difficulty -> diversity), random (quality only),
diverse (uniform over domains), longest (longest traces) and full (everything that passes quality). Each is
trained with the same recipe config (`training.recipe.train`) into `<work>/models/<subset>`, and every model
is evaluated with the same budget-forcing settings into `<work>/runs/<subset>/<benchmark>`. A rerun curates
again (deterministic), skips every model whose training finished on the same data and config, and resumes
every run.

Several GPUs: train the models yourself with `accelerate launch -m s1eval.training CONFIG --dataset_name
<work>/data/<subset>.jsonl --output_dir <work>/models/<subset>` and run the study; it picks them up.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.control.methods import prepare_method, validate_method
from s1eval.data import data_hash
from s1eval.errors import ConfigError, require_positive
from s1eval.runs.evaluate import RunSpec
from s1eval.studies.common import (
    Benchmarks,
    StudyResult,
    cell_dir,
    display_path,
    load_benchmarks,
    run_cell,
    unload_engine,
)
from s1eval.studies.findings import ablation_findings
from s1eval.studies.render import StudyPage, benchmark_meta, write_study
from s1eval.studies.tables import PAPER_ABLATION, study_table

SUBSET_LABELS: dict[str, str] = {
    "s1k": "s1K",
    "random": "random",
    "diverse": "diverse",
    "longest": "longest",
    "full": "full",
}
"""Subset (curation's name) -> table row. The paper's names are s1K, 1K-random, 1K-diverse, 1K-longest and
59K-full; here the size is the study's own (the Examples column)."""

BASELINE = "s1k"
STAMP = "study_training.json"
SUMMARY = "training_summary.json"

Pool = str | Path | pd.DataFrame | Any
"""A pool file (jsonl/parquet/csv with question, thinking, answer, optional domain/source/grade columns), a
curation YAML config, a CurationConfig, or a DataFrame with the pool's plain columns."""


# ------------------------------------------------------------------------------------------------ curation
def curation_config(
    pool: Pool, *, subset_size: int | None, seed: int, subsets: Sequence[str]
) -> tuple[Any, Any]:
    """(CurationConfig, canonical pool frame or None) for the study: the pool's own config where it is one,
    with the study's seed, subset names and size."""
    from s1eval.curation import CurationConfig, config_from_dict, load_config
    from s1eval.curation.pool import canonicalize

    frame = None
    if isinstance(pool, CurationConfig):
        cfg = copy.deepcopy(pool)  # the study's seed and sizes must not leak into the caller's config
    elif isinstance(pool, pd.DataFrame):
        cfg = config_from_dict({"pool": {"columns": {"preset": "plain"}}})
        frame = canonicalize(pool, cfg.pool.columns, "<in-memory pool>")
    elif str(pool).endswith((".yaml", ".yml")):
        cfg = load_config(pool)
    else:
        path = Path(pool)
        if not path.exists():
            raise ConfigError(
                f"pool {str(pool)!r} not found; give a pool file (jsonl/parquet/csv) or a curation YAML"
            )
        cfg = config_from_dict({"pool": {"path": str(path.resolve()), "columns": {"preset": "plain"}}})
    cfg.seed = seed
    cfg.subsets.names = list(subsets)
    if subset_size is not None:
        require_positive("subset_size", subset_size, "The paper uses 1000.")
        cfg.subsets.n = subset_size
    if "jsonl" not in cfg.export.formats:
        cfg.export.formats = [*cfg.export.formats, "jsonl"]
    return cfg, frame


def curate_subsets(
    pool: Pool, data_dir: Path, *, subset_size: int | None, seed: int, subsets: Sequence[str]
) -> tuple[dict[str, Path], dict[str, Any]]:
    """Curate every subset into `data_dir` (<subset>.jsonl, report.md, removed.jsonl); returns the files and
    what the page says about the curation."""
    from s1eval.curation import curate, write_outputs

    cfg, frame = curation_config(pool, subset_size=subset_size, seed=seed, subsets=subsets)
    result = curate(cfg, pool=frame)
    write_outputs(result, data_dir)
    files = {}
    for name in subsets:
        if len(result.subsets[name]) == 0:
            raise ConfigError(
                f"curation left subset {name!r} empty ({len(result.pool)} pool rows, {len(result.passed)} passed "
                f"quality, {len(result.hard)} difficulty); see {data_dir / 'report.md'} and give a larger pool"
            )
        files[name] = data_dir / f"{name}.jsonl"
    info = {
        "origin": "<in-memory pool>" if frame is not None else (cfg.pool.path or cfg.pool.hub or "?"),
        "pool_rows": len(result.pool),
        "passed": len(result.passed),
        "hard": len(result.hard),
        "subset_size": cfg.subsets.n,
        "rows": {name: len(result.subsets[name]) for name in subsets},
    }
    return files, info


# ------------------------------------------------------------------------------------------------ training
def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def training_stamp(
    config: str | Path, data_file: Path, train_args: Sequence[str], max_steps: int | None
) -> dict:
    """What decides a trained model: the recipe file, the data, the overrides and the step limit (no paths,
    so a moved work dir still matches)."""
    from s1eval.training.recipe import resolve_config

    recipe = resolve_config(config)
    return {
        "config": recipe.name,
        "config_sha256": _sha256(recipe),
        "data_sha256": _sha256(data_file),
        "train_args": list(train_args),
        "max_steps": max_steps,
    }


def train_subset(
    data_file: Path,
    model_dir: Path,
    *,
    config: str | Path,
    train_args: Sequence[str] = (),
    max_steps: int | None = None,
    tiny_model_dir: Path | None = None,
) -> dict[str, Any]:
    """Train one subset's model unless it is already trained on the same data and config; its summary."""
    from s1eval.training.recipe import last_checkpoint, train

    stamp = training_stamp(config, data_file, train_args, max_steps)
    stamp_path, summary_path = model_dir / STAMP, model_dir / SUMMARY
    old = json.loads(stamp_path.read_text(encoding="utf-8")) if stamp_path.exists() else None
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        trained_here = old is None and Path(str(summary.get("dataset", ""))).resolve() == data_file.resolve()
        if old == stamp or trained_here:
            if old is None:  # trained outside the study (e.g. with accelerate) on the study's own data file
                stamp_path.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            return summary
        raise ConfigError(
            f"{model_dir} holds a model trained on other data or settings; delete it or give another --work-dir"
        )
    if old is not None and old != stamp:
        raise ConfigError(f"{model_dir} holds an unfinished training on other data; delete it to train again")
    model_dir.mkdir(parents=True, exist_ok=True)
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    args = [
        "--dataset_name",
        str(data_file),
        "--question_field",
        "question",
        "--thinking_field",
        "thinking",
        "--answer_field",
        "answer",
    ]
    if tiny_model_dir is not None:
        args += ["--tiny_model_dir", str(tiny_model_dir)]
    resume = old == stamp and last_checkpoint(model_dir) is not None
    return train(config, [*args, *train_args], output_dir=model_dir, max_steps=max_steps, resume=resume)


# ------------------------------------------------------------------------------------------------ the study
def run_ablation_study(
    pool: Pool,
    benchmarks: Benchmarks,
    *,
    train_config: str | Path,
    max_thinking_tokens: int,
    max_answer_tokens: int = 1024,
    out_dir: str | Path = "results/ablation",
    work_dir: str | Path | None = None,
    subset_size: int | None = 1000,
    subsets: Sequence[str] = tuple(SUBSET_LABELS),
    seed: int = 0,
    max_steps: int | None = None,
    train_args: Sequence[str] = (),
    bf_settings: Mapping[str, Any] | None = None,
    limit: int | None = None,
    samples: int = 1,
    format_name: str | None = "auto",
    system: str | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    resamples: int = 10_000,
    progress: bool = True,
    wall_times: bool = True,
) -> StudyResult:
    """Curate, train and evaluate every subset (resuming what is done) and write the study table.

    pool: a pool file, a curation YAML, a CurationConfig or a DataFrame; `seed` and `subset_size` override
    the config's. train_config: a training recipe name (cpu_tiny, one_gpu_qwen2.5_1.5b, ...) or YAML;
    `train_args` are its overrides in TRL's spelling. bf_settings: more budget-forcing settings shared by
    every model (num_extensions, extension_strings, temperature, ...). work_dir (default `out_dir`) holds
    data/, models/<subset> and runs/<subset>/<benchmark>. wall_times=False leaves the training wall times
    out of the table (they differ run to run; steps and tokens seen still give the cost).
    Returns the table (rows: subsets; columns: (benchmark, metric) and ("training", metric)).
    """
    from s1eval.curation.config import subset_key

    require_positive("samples", samples, "Use 1 for one sample per question.")
    keys = list(dict.fromkeys(subset_key(s) for s in subsets))
    if BASELINE not in keys:
        raise ConfigError("the study compares every subset with s1k; keep s1k among the subsets")
    settings = {"max_thinking_tokens": max_thinking_tokens, "max_answer_tokens": max_answer_tokens}
    settings |= dict(bf_settings or {})
    validate_method("bf", settings)
    problems = load_benchmarks(benchmarks, limit=limit, seed=seed)
    out = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else out

    data_files, curated = curate_subsets(
        pool, work / "data", subset_size=subset_size, seed=seed, subsets=keys
    )
    summaries: dict[str, dict[str, Any]] = {}
    models: dict[str, Path] = {}
    for key in keys:
        models[key] = (work / "models" / key).resolve()  # the model id in every run key: cwd-independent
        summaries[SUBSET_LABELS[key]] = train_subset(
            data_files[key],
            models[key],
            config=train_config,
            train_args=train_args,
            max_steps=max_steps,
            tiny_model_dir=work / "models" / "base-tiny",
        )

    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    runs: dict[tuple[str, str], Path] = {}
    from s1eval.engines import create_engine

    for key in keys:
        label = SUBSET_LABELS[key]
        eng = create_engine(engine, str(models[key]), **dict(engine_options or {}))
        try:
            prepared = prepare_method(eng, "bf", settings, format_name)
            for bench, rows in problems.items():
                run_dir = cell_dir(work, key, bench)
                spec = RunSpec(
                    benchmark=bench, samples=samples, seed=seed, system=system, label=label, model_variant=key
                )
                cells[(label, bench)] = run_cell(prepared, rows, run_dir, spec, progress=progress)
                runs[(label, bench)] = run_dir
        finally:
            unload_engine(eng)

    labels = [SUBSET_LABELS[k] for k in keys]
    table = study_table(
        cells,
        labels,
        list(problems),
        SUBSET_LABELS[BASELINE],
        index_name="subset",
        training=summaries,
        wall_times=wall_times,
        resamples=resamples,
        seed=0,
    )
    findings = ablation_findings(
        table, [SUBSET_LABELS[k] for k in ("random", "diverse", "longest") if k in keys]
    )
    first = next(iter(summaries.values()))
    hashes = {b: data_hash(p) for b, p in problems.items()}
    page = StudyPage(
        slug="ablation",
        title="Data-ablation study",
        row_header="Subset",
        meta={
            "Pool": f"{_origin(curated['origin'], out)}: {curated['pool_rows']} rows, {curated['passed']} pass quality "
            f"and decontamination, {curated['hard']} pass difficulty; seed {seed}",
            "Subsets": f"{curated['subset_size']} questions each (full: all that pass quality): "
            + ", ".join(f"{SUBSET_LABELS[k]} {n}" for k, n in curated["rows"].items()),
            "Training": f"recipe {Path(str(train_config)).stem}, base model {first.get('model')}, "
            f"max steps {max_steps if max_steps is not None else 'from the recipe'}"
            + (f", overrides {' '.join(train_args)}" if train_args else "")
            + f", device {first.get('device')}",
            "Benchmarks": benchmark_meta(problems, hashes),
            "Budget forcing": ", ".join(f"{k} {v}" for k, v in settings.items())
            + f", {samples} sample(s) per question, seed {seed}",
            "Files": f"under {display_path(work, out) if work != out else 'this folder'}: data/<subset>.jsonl, "
            "models/<subset>, runs/<subset>/<benchmark> (s1eval report reads the runs)",
            "Intervals": f"95%: Wilson for one sample per question, else bootstrap over questions; differences: "
            f"paired bootstrap over shared questions ({resamples} resamples, seed 0)",
        },
        notes=[
            "Accuracy in percent. diff: this subset's model minus the s1K model in accuracy points on the same "
            "questions, with its 95% interval and two-sided p-value. Training cost from each model's "
            "training_summary.json: optimiser steps, "
            + ("wall time of the training call (model load included) and " if wall_times else "")
            + "input tokens seen (padding excluded). Thinking tokens: mean generated thinking tokens per sample. "
            "Rows are the paper's subsets at this study's size: s1K, random (1K-random), diverse (1K-diverse), "
            "longest (1K-longest) and full (59K-full).",
        ],
        paper=PAPER_ABLATION,
        paper_caption="The paper's numbers, not ours (Muennighoff et al., 2025, Table 2: Qwen2.5-32B-Instruct "
        "trained on each subset; 59K-full took 394 H100 GPU hours to train, s1K 7)",
        findings_caption="The paper's finding on these runs: s1K >= each single-criterion subset",
        findings=findings,
        budget=max_thinking_tokens,
    )
    files = write_study(table, page, out)
    return StudyResult(
        "ablation",
        table,
        out,
        runs,
        files,
        findings,
        {"models": models, "data": data_files, "curation": curated},
    )


def _origin(origin: str, out: Path) -> str:
    return display_path(Path(origin), out) if Path(origin).exists() else origin
