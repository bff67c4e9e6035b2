"""`s1eval lm-eval ...`: lm-eval's own command line with s1eval registered first.

For installs where Python reads no .pth file from s1eval (PYTHONPATH, pip --target, some embedded setups),
so `lm_eval --model s1_bf` would not know the name. Every argument goes to lm-eval unchanged; s1eval's task
directory is added with --include_path unless one is given. Also runnable as
`python -m s1eval.integrations.lm_eval.cli ...`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

SUBCOMMANDS_WITH_INCLUDE = ("run", "ls", "validate")


def lm_eval_argv(args: Sequence[str], include_path: str) -> list[str]:
    """lm-eval's argv (without the program name), with s1eval's task directory included."""
    argv = list(args)
    if not argv or argv[0] in ("-h", "--help"):
        return argv
    sub = argv[0] if not argv[0].startswith("-") else "run"
    if sub not in SUBCOMMANDS_WITH_INCLUDE:
        return argv
    if any(a == "--include_path" or a.startswith("--include_path=") for a in argv):
        return argv  # the user's own path; the import hook still adds s1eval's tasks next to it
    return [*argv, "--include_path", include_path]


def run_lm_eval(args: Sequence[str]) -> None:
    """Register s1eval with lm-eval, then run lm-eval's CLI on `args`."""
    from s1eval.integrations.lm_eval.patches import tasks_dir
    from s1eval.integrations.lm_eval.register import register

    register()
    from lm_eval.__main__ import cli_evaluate

    saved = sys.argv
    sys.argv = ["lm-eval", *lm_eval_argv(args, str(tasks_dir()))]
    try:
        cli_evaluate()
    finally:
        sys.argv = saved


@click.command(
    name="lm-eval",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def lm_eval_command(args: tuple[str, ...]) -> None:
    """Run lm-eval with s1eval's models (s1_bf, ...) and tasks (s1_aime24, ...): same arguments as `lm_eval`.

    Example: s1eval lm-eval --model s1_bf --model_args pretrained=simplescaling/s1.1-32B,max_thinking_tokens=8000
    --tasks s1_aime24 --log_samples --output_path out/
    """
    from s1eval.errors import S1EvalError, render_error

    try:
        run_lm_eval(args)
    except S1EvalError as exc:  # spelled as lm-eval's options, not s1eval's
        click.echo(render_error(exc, "lm_eval"), err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    from s1eval.cli import main

    sys.exit(main(["lm-eval", *sys.argv[1:]]))
