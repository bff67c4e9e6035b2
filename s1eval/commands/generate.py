"""`s1eval generate`: run a control method over a JSONL file of prompts, resumably."""

from __future__ import annotations

import json
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
from s1eval.control.seeds import sample_seed
from s1eval.errors import ConfigError, DataError
from s1eval.jsonl import JsonlWriter, read_jsonl
from s1eval.runs.identity import identity_key, require_same_identity, run_identity
from s1eval.runs.paths import require_writable_file
from s1eval.runs.store import atomic_write_text


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """Rows {"id", "prompt"}; a malformed line is a one-line error that names it."""
    if not path.exists():
        raise DataError(
            f'input file {path} does not exist; give a JSONL file with one {{"id", "prompt"}} per line'
        )
    rows = []
    seen: set[str] = set()
    for lineno, row in read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
            raise DataError(f"{path} line {lineno}: each row needs a non-empty string field 'prompt'")
        rid = str(row.get("id", lineno))
        if rid in seen:
            raise DataError(f"{path} line {lineno}: duplicate id {rid!r}; ids must be unique")
        seen.add(rid)
        rows.append({"id": rid, "prompt": row["prompt"]})
    if not rows:
        raise DataError(f"{path} holds no prompts")
    return rows


def run_manifest_path(output_path: Path) -> Path:
    """Where `generate` records the identity of the run in --output (beside it: the JSONL holds only rows)."""
    return output_path.with_name(output_path.name + ".run.json")


def check_output(output_path: Path, identity: dict[str, Any], overwrite: bool) -> None:
    """Refuse an output that holds another run; --overwrite starts it afresh."""
    sidecar = run_manifest_path(output_path)
    if overwrite:
        for path in (output_path, sidecar):
            if path.exists():
                path.unlink()
        return
    if sidecar.exists():
        recorded = json.loads(sidecar.read_text(encoding="utf-8")).get("identity") or {}
        require_same_identity(str(output_path), recorded, identity, OUTPUT_FIX)
    elif output_path.exists() and output_path.stat().st_size > 0:
        raise ConfigError(
            f"{output_path} holds rows of a run whose settings are not recorded ({sidecar.name} is missing); "
            f"{OUTPUT_FIX}"
        )


OUTPUT_FIX = "give another --output, or --overwrite to replace it"


@click.command("generate")
@engine_options
@method_options
@click.option(
    "--input", "input_path", required=True, type=click.Path(path_type=Path), help="JSONL of {id, prompt}."
)
@click.option(
    "--output", "output_path", required=True, type=click.Path(path_type=Path), help="JSONL to append to."
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Prompts per flush to the output.",
)
@click.option("--overwrite", is_flag=True, help="Replace --output if it holds another run (default: refuse).")
def generate_command(
    input_path: Path, output_path: Path, chunk_size: int, overwrite: bool, **options: Any
) -> None:
    """Run a control method over prompts. Rerunning the same command skips the rows already in --output."""
    from tqdm.auto import tqdm

    from s1eval.control.methods import prepare_method

    choice = method_from_options(options)  # settings and budgets first: no file is read for a typo
    rows = read_prompts(input_path)
    if input_path.resolve() == output_path.resolve():
        raise ConfigError(f"--output {output_path} is the --input file; write the results to another file")
    require_writable_file(output_path, "--output")
    engine = engine_from_options(options)
    prepared = prepare_method(engine, choice.name, choice.settings, options["format_name"], choice.budgets)
    budgets = prepared.budgets(choice.budgets)
    prepared.check_context(
        [r["prompt"] for r in rows], budgets, options.get("system"), names=[r["id"] for r in rows]
    )
    sweep = choice.budgets is not None
    identity = run_identity(prepared, seed=options["seed"])
    check_output(output_path, identity, overwrite)
    atomic_write_text(
        run_manifest_path(output_path),
        json.dumps({"identity": identity, "identity_key": identity_key(identity)}, indent=2) + "\n",
    )

    done = (
        {
            (r.get("id"), r.get("budget") if sweep else None)
            for _, r in read_jsonl(output_path, skip_torn_tail=True)
        }
        if output_path.exists()
        else set()
    )
    todo = [r for r in rows if any((r["id"], b if sweep else None) not in done for b in budgets)]
    if len(todo) < len(rows):
        click.echo(
            f"resuming: {len(rows) - len(todo)} of {len(rows)} prompts already in {output_path}", err=True
        )
    written: list[dict[str, Any]] = []
    with (
        JsonlWriter(output_path) as writer,
        tqdm(total=len(todo), desc=f"{choice.name}", unit="prompt") as bar,
    ):
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            results = prepared.run(
                [r["prompt"] for r in chunk],
                budgets=budgets,
                seeds=[sample_seed(options["seed"], r["id"]) for r in chunk],
                system=options.get("system"),
                progress=bar.update,
            )
            out = []
            for budget in budgets:
                for row, res in zip(chunk, results[budget], strict=True):
                    if (row["id"], budget if sweep else None) in done:
                        continue
                    record = {"id": row["id"], "prompt": row["prompt"]}
                    if sweep:
                        record["budget"] = budget
                    record |= {"output": res.output, "answer": res.answer, "ledger": res.ledger.to_dict()}
                    out.append(record)
            out.sort(key=lambda r: (str(r["id"]), json.dumps(r.get("budget"))))
            writer.write_many(out)
            written += out
    click.echo(f"wrote {output_path}", err=True)
    check_failures(written, rerun="rerun the same command to retry them")
