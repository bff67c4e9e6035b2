"""Make lm-eval know s1eval: model names, task directory, stock-task ledgers, one-line CLI errors.

`register()` is what `s1eval lm-eval` and Python users call, and what the opt-in import hook (`_hook.py`,
`s1eval lm-eval-hook install`) runs when lm-eval loads its model registry. Only lm-eval's public registry
API is used for the names. Order matters in lm-eval 0.4.13:
`get_model` imports `lm_eval.models` (which registers every built-in model) only while the registry is
empty, so `lm_eval.models` is imported *before* any s1 name is added, or every built-in model would vanish.

Names are registered as lazy placeholders ("module:Class"), so nothing heavy (torch, transformers) is
imported until a run picks an s1 model.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

MODELS_MODULE = "s1eval.integrations.lm_eval.models"


def model_names() -> dict[str, str]:
    """lm-eval name -> lazy target ("module:Class") for every method in s1eval's registry."""
    from s1eval.control.methods import registered_methods
    from s1eval.integrations.lm_eval.naming import lm_eval_name

    return {lm_eval_name(m.name): f"{MODELS_MODULE}:{m.lm_eval_class}" for m in registered_methods()}


def register_models() -> list[str]:
    """Add the s1 model names to lm-eval's model registry (after its built-ins); returns the names added."""
    import lm_eval.models  # noqa: F401  (built-ins first: see the module docstring)
    from lm_eval.api.registry import model_registry

    added = []
    for name, target in model_names().items():
        if name not in model_registry:  # already there: an entry point, or an earlier register()
            model_registry.register(name, target=target)
            added.append(name)
    return added


def install_patches(tasks: bool = True) -> None:
    """Stock-task ledgers and (with `tasks`) task discovery, see patches.py; imports the modules they wrap."""
    import lm_eval.api.task

    from s1eval.integrations.lm_eval.patches import patch_process_results, patch_task_manager

    patch_process_results(lm_eval.api.task)
    if tasks:
        import lm_eval.tasks.manager

        patch_task_manager(lm_eval.tasks.manager)


def register(tasks: bool = True) -> list[str]:
    """Everything lm-eval needs to run s1eval's models and tasks; safe to call any number of times.

    `tasks=False` leaves `TaskManager` alone (the caller passes `include_path=patches.tasks_dir()` itself,
    as `s1eval lm-eval` does).
    """
    added = register_models()
    install_patches(tasks)
    install_cli_errors()
    return added


# --------------------------------------------------------------------------- one-line errors in the CLI
def _is_lm_eval_cli() -> bool:
    argv0 = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return argv0 in ("lm_eval", "lm-eval") or (argv0 == "__main__.py" and "lm_eval" in sys.argv[0])


def install_cli_errors(force: bool = False) -> None:
    """In the lm-eval command, print s1eval's user errors as one line (exit status 1) instead of a traceback.

    Only errors s1eval raises on purpose (S1EvalError, EngineError) are shortened; anything else keeps
    Python's usual report. Nothing changes in a program that merely imports lm_eval.
    """
    if not (force or _is_lm_eval_cli()) or getattr(sys.excepthook, "__s1eval__", False):
        return
    from s1eval.errors import render_error

    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if is_user_error(exc):
            prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "lm-eval"
            prog = "lm-eval" if prog == "__main__.py" else prog
            print(f"{prog}: {render_error(exc, 'lm_eval')}", file=sys.stderr)
            return
        previous(exc_type, exc, tb)

    hook.__s1eval__ = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def is_user_error(exc: BaseException) -> bool:
    from s1eval.engines.base import EngineError
    from s1eval.errors import S1EvalError

    return isinstance(exc, (S1EvalError, EngineError))
