"""`s1eval lm-eval ...`: lm-eval's own command line with s1eval registered first; `s1eval lm-eval-hook`.

lm-eval 0.4.13 reads no plugin entry points, so its bare `lm_eval --model s1_bf` does not know the name.
`s1eval lm-eval` registers the s1_* models through lm-eval's public registry in its own process and gives
lm-eval s1eval's task folder with `--include_path`; every other argument goes to lm-eval unchanged. Also
runnable as `python -m s1eval.integrations.lm_eval.cli ...`. `s1eval lm-eval-hook install` is the opt-in
for the bare command (see hook_file.py).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

SUBCOMMANDS_WITH_INCLUDE = ("run", "ls", "validate")


def lm_eval_argv(args: Sequence[str], include_path: str) -> list[str]:
    """lm-eval's argv (without the program name), with s1eval's task directory included."""
    argv = list(args)
    if not argv or argv[0] in ("-h", "--help"):
        return argv
    sub = argv[0] if not argv[0].startswith("-") else "run"
    if sub not in SUBCOMMANDS_WITH_INCLUDE or argv == [sub]:
        return argv  # another subcommand, or one alone (lm-eval then prints its own usage)
    if has_include_path(argv):
        return argv  # the user's own path: s1eval's tasks are added beside it (patches.patch_task_manager)
    return [*argv, "--include_path", include_path]


def has_include_path(argv: Sequence[str]) -> bool:
    """Whether the user gives lm-eval an include path: `--include_path`, or any prefix of it that lm-eval's
    parser accepts (`--include`, `--inc=DIR`; no other option of run / ls / validate begins with `--i`)."""
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if len(flag) > 3 and flag.startswith("--i") and "--include_path".startswith(flag):
            return True
    return False


def run_lm_eval(args: Sequence[str]) -> None:
    """Register s1eval with lm-eval, then run lm-eval's CLI on `args`."""
    from s1eval.integrations.lm_eval.patches import tasks_dir
    from s1eval.integrations.lm_eval.register import register

    register(tasks=has_include_path(args))
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


@click.group(name="lm-eval-hook", invoke_without_command=True)
@click.pass_context
def lm_eval_hook_group(ctx: click.Context) -> None:
    """The bare `lm_eval --model s1_bf --tasks s1_aime24` in this environment (lm-eval 0.4.13 reads no plugins).

    `install` writes one .pth file into site-packages: at every Python start it puts a small finder on
    sys.meta_path that registers s1eval's models and tasks when lm-eval loads its registry (nothing else is
    imported). `remove` takes it out. Without it, `s1eval lm-eval ...` takes the same arguments as `lm_eval`.
    S1EVAL_NO_LM_EVAL_HOOK=1 turns an installed hook off for one command.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


_TARGET = click.option(
    "--target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the .pth file (default: this environment's site-packages).",
)


@lm_eval_hook_group.command("install")
@_TARGET
def hook_install(target: Path | None) -> None:
    """Write the .pth file (the bare lm_eval then knows s1_* models and tasks)."""
    from s1eval.integrations.lm_eval.hook_file import install_hook, read_at_start

    path = install_hook(target)
    if read_at_start(path.parent):
        click.echo(f"installed {path}; `lm_eval --model s1_bf ...` now works in this environment")
    else:
        click.echo(
            f"installed {path}, but this Python does not read .pth files from {path.parent} at start (not one of "
            "its site-packages folders): the hook works only for a Python that has that folder as a site dir",
            err=True,
        )


@lm_eval_hook_group.command("remove")
@_TARGET
def hook_remove(target: Path | None) -> None:
    """Delete the .pth file."""
    from s1eval.integrations.lm_eval.hook_file import hook_path, remove_hook

    removed = remove_hook(target)
    click.echo(f"removed {removed}" if removed else f"no hook at {hook_path(target)}")


@lm_eval_hook_group.command("status")
@_TARGET
def hook_status(target: Path | None) -> None:
    """Say whether the hook is installed (exit status 0) or not (1)."""
    from s1eval.integrations.lm_eval.hook_file import hook_installed, hook_path, read_at_start

    path = hook_path(target)
    on = hook_installed(target)
    where = "" if read_at_start(path.parent) else " (a folder this Python does not read at start)"
    click.echo(f"{'installed' if on else 'not installed'}: {path}{where}")
    sys.exit(0 if on else 1)


if __name__ == "__main__":
    from s1eval.cli import main

    sys.exit(main(["lm-eval", *sys.argv[1:]]))
