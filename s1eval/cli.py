"""The `s1eval` command. Subcommands load lazily so `s1eval --help` is instant and an optional extra that is
not installed only affects its own subcommand."""

from __future__ import annotations

import importlib
import sys

import click

from s1eval import __version__
from s1eval.errors import S1EvalError, render_error

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "generate": (
        "s1eval.commands.generate:generate_command",
        "Run a control method over a JSONL of prompts.",
    ),
    "eval": (
        "s1eval.commands.evaluate:eval_command",
        "Evaluate a method on a benchmark into a resumable run.",
    ),
    "report": ("s1eval.report.cli:report_command", "Leaderboard, budget table and scaling plots from runs."),
    "curate": (
        "s1eval.curation.cli:curate_command",
        "Curate an s1K-style training set from a question pool.",
    ),
    "train": (
        "s1eval.training.cli:train_command",
        "Train with the TRL recipes: SFT into the thinking format, GRPO on budget-forced rollouts.",
    ),
    "study": (
        "s1eval.studies.cli:study_group",
        "The paper's studies: extrapolation strings, data ablations.",
    ),
    "lm-eval": (
        "s1eval.integrations.lm_eval.cli:lm_eval_command",
        "lm_eval with the s1_* models registered.",
    ),
    "lm-eval-hook": (
        "s1eval.integrations.lm_eval.cli:lm_eval_hook_group",
        "Opt in (or out) to the bare `lm_eval --model s1_*` command in this environment.",
    ),
    "methods": ("s1eval.commands.info:methods_command", "List control methods and their settings."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        target, help_text = SUBCOMMANDS[name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or module_name

            @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
            @click.argument("args", nargs=-1, type=click.UNPROCESSED)
            def unavailable(args: tuple[str, ...]) -> None:
                raise click.ClickException(
                    f"`s1eval {name}` needs the module {missing!r}; install it with pip install 's1eval[all]'"
                )

            return unavailable
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s1eval")
def cli() -> None:
    """s1eval: test-time scaling (budget forcing, TCC, SCC, CCC, RS, voting) for lm-eval and Inspect."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print as one line (no traceback) and exit with status 2."""
    try:
        cli.main(args=argv, prog_name="s1eval", standalone_mode=False)
    except S1EvalError as exc:
        click.echo(render_error(exc, "cli"), err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        import signal

        try:  # a second Ctrl-C while exiting ends the process at once, not in a traceback
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except ValueError:  # not the main thread
            pass
        click.echo("aborted; finished results are kept and a rerun resumes", err=True)
        return 130
    except click.UsageError as exc:  # a bad option value: one line, like every other user error
        where = exc.ctx.command_path if exc.ctx is not None else "s1eval"
        click.echo(f"error: {exc.format_message()} (see {where} --help)", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        import signal

        try:  # as for Abort: a second Ctrl-C while exiting must not print a traceback
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except ValueError:
            pass
        click.echo("interrupted; finished results are kept and a rerun resumes", err=True)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
