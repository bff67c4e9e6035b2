"""s1eval's user errors the way Inspect shows its own: one line, no traceback (Inspect's PrerequisiteError)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from inspect_ai._util.error import PrerequisiteError

from s1eval.errors import S1EvalError, render_error


class S1EvalInspectError(PrerequisiteError, S1EvalError):
    """An S1EvalError raised where Inspect builds a task, solver or model: printed by Inspect as one line."""

    def __init__(self, exc: S1EvalError):
        S1EvalError.__init__(self, exc.raw_message())
        from rich.markup import escape

        self.line = render_error(exc, "inspect")
        self.message = escape(self.line)  # Inspect's hook prints it with rich: "[vllm]" is text, not markup
        self.exit_code = exc.exit_code

    def __str__(self) -> str:
        return self.line


@contextmanager
def inspect_user_errors() -> Iterator[None]:
    """Turn an S1EvalError into Inspect's one-line error, spelled with Inspect's options (-T, -M)."""
    try:
        yield
    except S1EvalInspectError:
        raise
    except S1EvalError as exc:
        raise S1EvalInspectError(exc) from None
