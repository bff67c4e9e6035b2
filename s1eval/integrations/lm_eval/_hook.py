"""The import hook that a .pth file installs at interpreter start: register s1eval when lm-eval loads.

lm-eval 0.4.13 reads no entry points for models, so `lm_eval --model s1_bf` needs the names registered in
the lm-eval process before the model is looked up. Starting Python runs the line in `s1eval_lm_eval.pth`,
which calls `install()`: it only puts a small finder on `sys.meta_path` (no lm_eval import, nothing heavy;
a no-op where lm_eval is absent). When a program later imports lm-eval's model registry, its task manager
or its task module, the finder lets the module load normally and then runs s1eval's registration for it.
A failure there is a warning, never a broken lm_eval import.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from types import ModuleType

# This module runs at every interpreter start: it imports only what Python has loaded already (no typing,
# no importlib.abc, which pulls in importlib.resources, tempfile, shutil, ...).


def _on_registry(module: ModuleType) -> None:
    from s1eval.integrations.lm_eval.register import install_cli_errors, register_models

    register_models()
    install_cli_errors()


def _on_task_manager(module: ModuleType) -> None:
    from s1eval.integrations.lm_eval.patches import patch_task_manager

    patch_task_manager(module)


def _on_task(module: ModuleType) -> None:
    from s1eval.integrations.lm_eval.patches import patch_process_results

    patch_process_results(module)


WATCHED = {
    "lm_eval.api.registry": _on_registry,
    "lm_eval.tasks.manager": _on_task_manager,
    "lm_eval.api.task": _on_task,
}


def _run(name: str, callback: Callable[[ModuleType], None], module: ModuleType) -> None:
    try:
        callback(module)
    except Exception as exc:  # never break `import lm_eval` over s1eval
        warnings.warn(f"s1eval could not hook into {name}: {type(exc).__name__}: {exc}", stacklevel=2)


class _PostImportLoader:
    """Runs the real loader, then the callback on the loaded module."""

    def __init__(self, loader: object, name: str, callback: Callable[[ModuleType], None]):
        self._loader = loader
        self._name = name
        self._callback = callback

    def create_module(self, spec: object) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # tools that inspect the loader see the usual one
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run(self._name, self._callback, module)

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)


class LmEvalHookFinder:
    """Finds nothing itself: wraps the loader of the watched lm-eval modules found by the other finders."""

    def __init__(self, watched: dict[str, Callable[[ModuleType], None]]):
        self.pending = dict(watched)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        callback = self.pending.get(fullname)
        if callback is None:
            return None
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None:
            return spec
        del self.pending[fullname]
        if not self.pending and self in sys.meta_path:
            sys.meta_path.remove(self)
        spec.loader = _PostImportLoader(spec.loader, fullname, callback)
        return spec


def install() -> None:
    """Called from the .pth line: watch for lm-eval (or hook it now if it is already imported).

    S1EVAL_NO_LM_EVAL_HOOK=1 turns it off (lm-eval then runs untouched; `s1eval lm-eval` still works).
    """
    if os.environ.get("S1EVAL_NO_LM_EVAL_HOOK", "").strip() not in ("", "0"):
        return
    if any(isinstance(f, LmEvalHookFinder) for f in sys.meta_path):
        return
    pending = {}
    for name, callback in WATCHED.items():
        module = sys.modules.get(name)
        if module is not None:
            _run(name, callback, module)
        else:
            pending[name] = callback
    if pending:
        sys.meta_path.insert(0, LmEvalHookFinder(pending))
