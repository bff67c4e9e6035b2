"""`s1eval study extrapolation ...` and `s1eval study ablation ...`: the paper's two study tables, one command
each. Rerunning a command resumes it: finished runs (and trained models) are reused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from s1eval.commands.options import engine_from_options, engine_options


def _study_options(default_out: str, default_extensions: int) -> Callable:
    def wrap(func: Callable) -> Callable:
        decorators = [
            click.option(
                "--benchmarks",
                required=True,
                help="Comma list: aime24, math500, gpqa_diamond, rows.jsonl, or NAME=PATH (e.g. gpqa_diamond=gpqa.csv).",
            ),
            click.option(
                "--limit",
                type=click.IntRange(min=1),
                default=None,
                help="Only the first N questions of each benchmark.",
            ),
            click.option(
                "--max-thinking-tokens", type=int, required=True, help="Thinking budget of every run."
            ),
            click.option("--max-answer-tokens", type=int, default=1024, show_default=True),
            click.option(
                "--extensions",
                type=int,
                default=default_extensions,
                show_default=True,
                help="Times the end of thinking is suppressed"
                + (
                    " in the extrapolated rows."
                    if default_extensions
                    else " (budget forcing of every model)."
                ),
            ),
            click.option(
                "--samples",
                type=click.IntRange(min=1),
                default=1,
                show_default=True,
                help="Samples per question (avg@k).",
            ),
            click.option(
                "--temperature", type=float, default=None, help="Sampling temperature (default: greedy)."
            ),
            click.option("--top-p", type=float, default=None),
            click.option(
                "--out",
                type=click.Path(file_okay=False, path_type=Path),
                default=default_out,
                show_default=True,
                help="Where report.md, index.html, table.csv and the plots go.",
            ),
            click.option(
                "--work-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Where the runs (and models) go (default: --out).",
            ),
            click.option("--seed", type=int, default=0, show_default=True),
        ]
        for deco in reversed(decorators):
            func = deco(func)
        return func

    return wrap


def _sampling(options: dict[str, Any]) -> dict[str, float]:
    return {k: options[k] for k in ("temperature", "top_p") if options.get(k) is not None}


def print_table(result: Any) -> None:
    """The study table on the terminal (the same cells as report.md)."""
    from rich.console import Console
    from rich.table import Table

    from s1eval.studies.tables import display_rows

    header = "Strategy" if result.name == "extrapolation" else "Subset"
    columns, rows = display_rows(result.table, row_header=header)
    table = Table(title=f"{result.name} study")
    for name, kind in columns:
        table.add_column(name, justify="right" if kind == "num" else "left")
    for r in rows:
        table.add_row(*[r["cells"][name][0] for name, _ in columns])
    Console(width=max(160, Console().width)).print(table)
    for finding in result.findings:
        click.echo(f"- {finding.sentence()}")
    click.echo(f"study written to {result.out_dir} (report.md, index.html, table.csv, plots)", err=True)


@click.group("study", context_settings={"help_option_names": ["-h", "--help"]})
def study_group() -> None:
    """The paper's studies: extrapolation strings (Table 4) and training-data ablations (Table 2)."""


@study_group.command("extrapolation")
@engine_options
@_study_options("results/extrapolation", 2)
@click.option(
    "--strategies",
    default="none,alternatively,hmm,wait,cycle",
    show_default=True,
    help="Extension strings to compare with no extrapolation (none ignores the delimiter only).",
)
def extrapolation_command(**options: Any) -> None:
    """One model, every extension strategy on every benchmark: the paper's Table 4 with intervals.

    Rows: no extrapolation, then N extensions with "" (ignore the end of thinking only), Alternatively,
    Hmm, Wait, and the cycle Wait -> Hmm -> Alternatively. Each cell is a resumable run under
    WORK_DIR/runs/<strategy>/<benchmark>.
    """
    from s1eval.studies.extrapolation import default_strategies, run_extrapolation_study

    strategies = default_strategies(options["extensions"], options["strategies"].split(","))
    engine = engine_from_options(options)
    result = run_extrapolation_study(
        engine,
        options["benchmarks"],
        max_thinking_tokens=options["max_thinking_tokens"],
        max_answer_tokens=options["max_answer_tokens"],
        out_dir=options["out"],
        work_dir=options["work_dir"],
        extensions=options["extensions"],
        strategies=strategies,
        limit=options["limit"],
        samples=options["samples"],
        seed=options["seed"],
        sampling=_sampling(options),
        format_name=options["format_name"],
        system=options["system"],
    )
    print_table(result)


@study_group.command("ablation")
@click.option(
    "--pool", required=True, help="Question pool: a jsonl/parquet/csv file or a curation YAML config."
)
@click.option(
    "--train-config", required=True, help="Training recipe: cpu_tiny, one_gpu_qwen2.5_1.5b, ... or a YAML."
)
@click.option(
    "--subset-size", type=int, default=1000, show_default=True, help="Questions in each 1K-style subset."
)
@click.option(
    "--subsets",
    default="s1k,random,diverse,longest,full",
    show_default=True,
    help="Subsets to train and compare.",
)
@click.option(
    "--max-steps", type=int, default=None, help="Optimiser steps per model (default: the recipe's epochs)."
)
@click.option(
    "--train-arg",
    "train_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="Recipe override, e.g. learning_rate=1e-4.",
)
@_study_options("results/ablation", 0)
@click.option(
    "--extension-string", default=None, help="With --extensions: Wait, Hmm, Alternatively, none or cycle."
)
@click.option("--engine", type=click.Choice(["hf", "vllm"]), default="hf", show_default=True)
@click.option(
    "--format", "format_name", default="auto", show_default=True, help="Thinking format: s1, r1 or auto."
)
@click.option("--batch-size", type=int, default=16, show_default=True, help="hf: sequences decoded together.")
@click.option("--dtype", default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--system", default=None, help="System prompt (default: the format's).")
def ablation_command(**options: Any) -> None:
    """Curate s1K, random, diverse, longest and full from one pool and seed, train one model on each with the
    same recipe, evaluate all with the same budget: the paper's Table 2 with intervals and training cost.

    Models go to WORK_DIR/models/<subset> (skipped when already trained on the same data and config), runs to
    WORK_DIR/runs/<subset>/<benchmark>.
    """
    from s1eval.errors import ConfigError
    from s1eval.studies.ablation import run_ablation_study

    train_args: list[str] = []
    for item in options["train_args"]:
        if "=" not in item:
            raise ConfigError(f"--train-arg takes KEY=VALUE (e.g. learning_rate=1e-4), got {item!r}")
        key, value = item.split("=", 1)
        train_args += [f"--{key.strip().lstrip('-')}", value]
    bf = {"num_extensions": options["extensions"], **_sampling(options)}
    if options["extension_string"] is not None:
        bf["extension_strings"] = options["extension_string"]
    engine_kwargs: dict[str, Any] = {}
    if options["engine"] == "hf":
        engine_kwargs = {k: options[k] for k in ("batch_size", "dtype", "device")}
    result = run_ablation_study(
        options["pool"],
        options["benchmarks"],
        train_config=options["train_config"],
        max_thinking_tokens=options["max_thinking_tokens"],
        max_answer_tokens=options["max_answer_tokens"],
        out_dir=options["out"],
        work_dir=options["work_dir"],
        subset_size=options["subset_size"],
        subsets=[s.strip() for s in options["subsets"].split(",") if s.strip()],
        seed=options["seed"],
        max_steps=options["max_steps"],
        train_args=train_args,
        bf_settings=bf,
        limit=options["limit"],
        samples=options["samples"],
        format_name=options["format_name"],
        system=options["system"],
        engine=options["engine"],
        engine_options=engine_kwargs,
    )
    print_table(result)


@study_group.command("interventions")
@engine_options
@click.option(
    "--benchmarks", required=True, help="Comma list: aime24, math500, gpqa_diamond, rows.jsonl, NAME=PATH."
)
@click.option("--budgets", required=True, help="Thinking budgets of every row, e.g. 512,1024,2048,4096.")
@click.option(
    "--interventions",
    default=None,
    help="Comma list of intervention specs (NAME or NAME:KEY=VALUE:...; default: early_stop, wrap_up, "
    "alphaone, dynasor with their defaults); `s1eval methods` lists them.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option("--max-answer-tokens", type=int, default=1024, show_default=True)
@click.option("--extensions", type=int, default=0, show_default=True, help="BF extensions in every row.")
@click.option("--temperature", type=float, default=None, help="Sampling temperature (default: greedy).")
@click.option("--top-p", type=float, default=None)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="results/interventions",
    show_default=True,
)
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
def interventions_command(**options: Any) -> None:
    """Plain BF against each thinking intervention (Qwen3's early stop, a wrap-up hint with grace tokens,
    AlphaOne's Wait schedule, Dynasor's probes) on the same questions and budgets: Control, Scaling,
    Performance, tokens per correct answer and paired differences to BF. Each row is a resumable run under
    WORK_DIR/runs/<row>/<benchmark>."""
    from s1eval.control.interventions import parse_intervention
    from s1eval.control.methods import parse_budgets
    from s1eval.errors import ConfigError
    from s1eval.studies.interventions import DEFAULT_INTERVENTIONS, run_interventions_study

    budgets = parse_budgets(options["budgets"]) or []
    if not all(isinstance(b, int) and b > 0 for b in budgets):
        raise ConfigError(
            f"--budgets takes positive numbers of thinking tokens, e.g. 512,1024; got {options['budgets']!r}"
        )
    specs = [s for s in (options["interventions"] or "").split(",") if s.strip()] or list(
        DEFAULT_INTERVENTIONS
    )
    for spec in specs:  # a typo is a one-line error before the model loads
        parse_intervention(spec)
    engine = engine_from_options(options)
    result = run_interventions_study(
        engine,
        options["benchmarks"],
        budgets=budgets,
        interventions=specs,
        max_answer_tokens=options["max_answer_tokens"],
        num_extensions=options["extensions"],
        out_dir=options["out"],
        work_dir=options["work_dir"],
        limit=options["limit"],
        seed=options["seed"],
        sampling=_sampling(options),
        format_name=options["format_name"],
        system=options["system"],
    )
    click.echo(result.markdown.read_text(encoding="utf-8"))
    click.echo(f"study written to {result.out_dir} (report.md, summary.csv, by_budget.csv, plots)", err=True)
