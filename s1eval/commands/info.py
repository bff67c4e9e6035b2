"""`s1eval methods`: what can be run, with each method's settings and defaults."""

from __future__ import annotations

import dataclasses

import click


@click.command("methods")
def methods_command() -> None:
    """List control methods and their settings."""
    from s1eval.control.budget_forcing import ForcingSettings
    from s1eval.control.methods import registered_methods
    from s1eval.integrations.lm_eval.naming import lm_eval_name

    for info in registered_methods():
        solver = (
            f"s1eval/{info.inspect_solver}"
            if info.inspect_solver
            else f"s1eval/control -S method={info.name}"
        )
        click.echo(f"{info.name}  ({info.display}: {info.summary})")
        click.echo(
            f"    x-axis: {info.x_unit}; lm-eval: --model {lm_eval_name(info.name)}; Inspect: --solver {solver}"
        )
        fields = dataclasses.fields(info.config_class)
        shared = {f.name for f in dataclasses.fields(ForcingSettings)}
        for field in [f for f in fields if f.name not in shared] + [f for f in fields if f.name in shared]:
            default = (
                "required"
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
                else (field.default if field.default is not dataclasses.MISSING else field.default_factory())
            )
            click.echo(f"    {field.name} = {default!r}")
    from s1eval.control.interventions import INTERVENTIONS

    click.echo("\ninterventions (bf: intervention=NAME[:KEY=VALUE...]; --intervention in eval/generate)")
    for name, cls in INTERVENTIONS.items():
        doc = (cls.__doc__ or name).strip().splitlines()[0]
        click.echo(f"{name}  ({doc})")
        for field in dataclasses.fields(cls):
            click.echo(f"    {field.name} = {field.default!r}")
