"""The opt-in .pth file that lets the bare `lm_eval` command of lm-eval 0.4.13 know s1eval's models and tasks.

lm-eval 0.4.13 reads no plugin entry points, so `lm_eval --model s1_bf` only works when s1eval registered
first in that process. `s1eval lm-eval ...` does it without touching the environment. A user who wants the
bare command writes `s1eval_lm_eval.pth` into the environment's site-packages with
`s1eval lm-eval-hook install` (and takes it out with `... remove`): Python then runs one line at every start
that puts `_hook.LmEvalHookFinder` on `sys.meta_path`, which registers s1eval when lm-eval's registry loads.
Nothing is installed by `pip install s1eval`; lm-eval releases that read the `lm_eval.models` entry points
(declared in pyproject.toml) need no hook for the model names.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

from s1eval.errors import ConfigError

PTH_NAME = "s1eval_lm_eval.pth"
PTH_LINE = (
    "import importlib.util; importlib.util.find_spec('s1eval') is not None and "
    "__import__('s1eval.integrations.lm_eval._hook', fromlist=['install']).install()\n"
)


def site_packages() -> Path:
    """The running environment's site-packages (where Python reads .pth files at start)."""
    return Path(sysconfig.get_paths()["purelib"])


def hook_path(target: Path | None = None) -> Path:
    return (target or site_packages()) / PTH_NAME


def install_hook(target: Path | None = None) -> Path:
    """Write the .pth file (idempotent); returns its path."""
    path = hook_path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PTH_LINE, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path} ({exc.strerror or exc}); give a folder you can write to as its target "
            "(s1eval lm-eval-hook install -h), "
            "or run `s1eval lm-eval` (the same arguments as lm_eval), which needs no hook"
        ) from exc
    return path


def remove_hook(target: Path | None = None) -> Path | None:
    """Delete the .pth file; returns its path, or None when there was none."""
    path = hook_path(target)
    if not path.exists():
        return None
    try:
        path.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot remove {path} ({exc.strerror or exc}); delete it by hand") from exc
    return path


def read_at_start(folder: Path) -> bool:
    """Whether this Python processes .pth files in `folder` at start (one of its site directories)."""
    import site

    dirs = [
        *site.getsitepackages(),
        site.getusersitepackages() if site.ENABLE_USER_SITE else None,
        str(site_packages()),
    ]
    here = folder.resolve()
    return any(d and Path(d).resolve() == here for d in dirs)


def hook_installed(target: Path | None = None) -> bool:
    path = hook_path(target)
    return path.is_file() and path.read_text(encoding="utf-8") == PTH_LINE
