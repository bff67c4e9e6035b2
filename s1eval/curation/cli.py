"""``s1eval curate CONFIG`` (and ``python -m s1eval.curation CONFIG``): run the pipeline from a YAML config."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from s1eval.errors import S1EvalError

from .config import SUBSET_ALIASES, load_config


@click.command("curate")
@click.argument("config")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: out_dir from the config).",
)
@click.option(
    "--subset",
    "subsets",
    multiple=True,
    type=click.Choice(sorted(SUBSET_ALIASES)),
    help="Build only this subset (repeatable; default: the config's subsets.names).",
)
@click.option("--seed", type=int, default=None, help="Override the config's seed.")
@click.option("--limit", type=int, default=None, help="Use only the first N pool rows (a quick look).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def curate_command(
    config: str,
    out_dir: Path | None,
    subsets: tuple[str, ...],
    seed: int | None,
    limit: int | None,
    quiet: bool,
) -> None:
    """Curate a question pool into s1K-style subsets (s1k, random, diverse, longest, full) with a report.

    CONFIG is a YAML file or a shipped name: s1k (the paper's s1K), s1k-1.1, local (a small sample pool).
    """
    from .pipeline import run

    try:
        cfg = load_config(config)
        if seed is not None:
            cfg.seed = seed
        if limit is not None:
            cfg.pool.limit = limit
        out = out_dir if out_dir is not None else Path(cfg.out_dir)
        result = run(cfg, out_dir=out, subset_names=list(subsets) or None, progress=not quiet)
    except S1EvalError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    skipped = str(result.report.get("difficulty", {}).get("solve_filter", ""))
    if skipped.startswith("skipped"):
        click.echo(f"warning: difficulty filter {skipped}; nothing was removed as too easy", err=True)
    if not quiet:
        for s in result.report["stages"]:
            click.echo(f"{s['stage']:>13}: {s['in']} -> {s['out']} (removed {s['removed']})")
        for name, v in result.report["subsets"].items():
            click.echo(
                f"{'subset ' + name:>13}: {v['rows']} rows, {v['domains']} domains, {v['sources']} sources"
            )
        click.echo(f"wrote {out} in {result.timings.get('total', 0):.1f}s")
