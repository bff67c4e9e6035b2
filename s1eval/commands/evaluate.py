"""`s1eval eval`: one method on one benchmark into a resumable run directory that `s1eval report` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from s1eval.commands.options import (
    check_failures,
    engine_from_options,
    engine_options,
    method_from_options,
    method_options,
)


@click.command("eval")
@engine_options
@method_options
@click.option(
    "--benchmark", "-b", required=True, help="aime24, aime25, math500, gpqa_diamond, or a .jsonl path."
)
@click.option("--data-path", default=None, help="The benchmark's file (GPQA: your gpqa_diamond.csv).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Repeats per question (avg@k, maj@k).",
)
@click.option("--run-dir", required=True, type=click.Path(path_type=Path), help="Where the run is written.")
@click.option(
    "--overwrite", is_flag=True, help="Replace a run already in --run-dir (default: refuse another model's)."
)
@click.option("--label", default=None, help="How the run is named in tables (default: the method).")
@click.option("--variant", default=None, help="The model variant, e.g. the training subset (s1k, 1k-random).")
@click.option(
    "--chunk-size", type=click.IntRange(min=1), default=32, show_default=True, help="Questions per flush."
)
def eval_command(
    benchmark: str,
    data_path: str | None,
    limit: int | None,
    samples: int,
    run_dir: Path,
    overwrite: bool,
    label: str | None,
    variant: str | None,
    chunk_size: int,
    **options: Any,
) -> None:
    """Evaluate a method on a benchmark. Rerunning the same command resumes: finished samples are kept."""
    from tqdm.auto import tqdm

    from s1eval.control.methods import prepare_method
    from s1eval.data import format_question, load_benchmark
    from s1eval.metrics.repeated import accuracy_summary
    from s1eval.runs.evaluate import RunSpec, evaluate
    from s1eval.runs.paths import require_writable_dir

    choice = method_from_options(options)
    problems = load_benchmark(benchmark, data_path, limit=limit)
    require_writable_dir(run_dir, "--run-dir")
    prepared = prepare_method(
        engine_from_options(options), choice.name, choice.settings, options["format_name"], choice.budgets
    )
    prepared.check_context(
        [format_question(p) for p in problems],
        choice.budgets,
        options.get("system"),
        names=[p.id for p in problems],
    )
    spec = RunSpec(
        benchmark=Path(benchmark).stem if benchmark.endswith(".jsonl") else benchmark,
        budgets=choice.budgets,
        samples=samples,
        seed=options["seed"],
        system=options.get("system"),
        label=label,
        model_variant=variant,
        chunk_size=chunk_size,
        overwrite=overwrite,
    )
    with tqdm(total=len(problems) * samples, desc=f"{choice.name} on {spec.benchmark}", unit="sample") as bar:
        records = evaluate(prepared, problems, run_dir, spec, progress=bar.update)
    by_budget: dict[Any, list[dict]] = {}
    for rec in records:
        by_budget.setdefault(rec["budget"], []).append(rec)
    click.echo(f"{'budget':>8}  {'accuracy':>8}  {'answered':>8}  {'thinking':>8}  n")
    for budget in sorted(by_budget, key=lambda b: (isinstance(b, str), b)):
        rows = by_budget[budget]
        summary = accuracy_summary(rows)
        thinking = sum(r["ledger"]["thinking_tokens"] for r in rows) / len(rows)
        click.echo(
            f"{budget!s:>8}  {summary['accuracy']:8.3f}  {summary['accuracy_answered']:8.3f}  {thinking:8.1f}  {len(rows)}"
        )
    click.echo(f"run written to {run_dir} (s1eval report {run_dir})", err=True)
    check_failures(records, rerun="rerun the same command to retry them (finished samples are kept)")
