"""``python -m s1eval.training CONFIG [--output-dir DIR] [--max-steps N] [--resume] [SFTConfig overrides]``.

The form to give `accelerate launch -m s1eval.training ...` on several GPUs or nodes.
"""

from __future__ import annotations

import sys

import click

from s1eval.errors import S1EvalError

from .cli import train_command


def main(argv: list[str] | None = None) -> int:
    try:
        train_command.main(args=argv, prog_name="python -m s1eval.training", standalone_mode=False)
    except S1EvalError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
