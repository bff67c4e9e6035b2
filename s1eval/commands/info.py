"""`s1eval methods`: what can be run, with each method's settings and defaults."""

from __future__ import annotations

import dataclasses

import click


@click.command("methods")
def methods_command() -> None:
    """List control methods and their settings."""
    from s1eval.control.methods import get_method, method_names

    for name in method_names():
        method = get_method(name)
        click.echo(f"{name}  ({method.config_class.__name__})")
        for field in dataclasses.fields(method.config_class):
            default = (
                "required"
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
                else (field.default if field.default is not dataclasses.MISSING else field.default_factory())
            )
            click.echo(f"    {field.name} = {default!r}")
