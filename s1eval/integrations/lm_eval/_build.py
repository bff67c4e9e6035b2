"""setuptools build step that ships `s1eval_lm_eval.pth` into site-packages (wheels and editable installs).

Used from pyproject.toml (`[tool.setuptools.cmdclass] build_py = ...`); setuptools loads this file by path at
build time, so it imports nothing but setuptools. A .pth file is only read from the top of site-packages:

- wheel: the file is written to the root of build_lib, which becomes the root of the wheel (purelib);
- editable (PEP 660): setuptools runs build_py in editable mode and puts only its own finder in the wheel,
  but writes whatever lands in `install.install_lib` (the unpacked editable wheel) as is, so the file goes
  there.

Installs that read no .pth files (PYTHONPATH, pip --target) use `s1eval lm-eval ...` instead.
"""

from __future__ import annotations

import os

from setuptools.command.build_py import build_py

PTH_NAME = "s1eval_lm_eval.pth"
PTH_LINE = (
    "import importlib.util; importlib.util.find_spec('s1eval') is not None and "
    "__import__('s1eval.integrations.lm_eval._hook', fromlist=['install']).install()\n"
)


class BuildPyWithPth(build_py):
    """build_py that also writes the lm-eval import hook's .pth file."""

    def run(self) -> None:
        super().run()
        target = self.build_lib
        if getattr(self, "editable_mode", False):
            install = self.distribution.get_command_obj("install")
            target = getattr(install, "install_lib", None) or target
        os.makedirs(target, exist_ok=True)
        path = os.path.join(target, PTH_NAME)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(PTH_LINE)
        self._pth_path = path

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            outputs.append(os.path.join(self.build_lib, PTH_NAME))
        return outputs
