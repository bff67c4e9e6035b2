"""`s1eval generate`: run a control method over a JSONL file of prompts, resumably."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from s1eval.commands.options import engine_from_options, engine_options, method_from_options, method_options
from s1eval.errors import DataError
from s1eval.runs.jsonl import JsonlWriter, read_jsonl


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
    "--chunk-size", type=int, default=64, show_default=True, help="Prompts per flush to the output."
)
def generate_command(input_path: Path, output_path: Path, chunk_size: int, **options: Any) -> None:
    """Run a control method over prompts. Rerunning the same command skips the ids already in --output."""
    from tqdm.auto import tqdm

    from s1eval.control.methods import prepare_method, validate_method

    rows = read_prompts(input_path)
    choice = method_from_options(options)
    validate_method(choice.name, choice.settings)
    engine = engine_from_options(options)
    prepared = prepare_method(engine, choice.name, choice.settings, options["format_name"])
    budgets = prepared.budgets(choice.budgets)
    sweep = choice.budgets is not None

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
    seeds = {r["id"]: options["seed"] + i for i, r in enumerate(rows)}
    with (
        JsonlWriter(output_path) as writer,
        tqdm(total=len(todo), desc=f"{choice.name}", unit="prompt") as bar,
    ):
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            results = prepared.run(
                [r["prompt"] for r in chunk],
                budgets=budgets,
                seeds=[seeds[r["id"]] for r in chunk],
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
            writer.write_many(sorted(out, key=lambda r: (str(r["id"]), json.dumps(r.get("budget")))))
    click.echo(f"wrote {output_path}", err=True)
