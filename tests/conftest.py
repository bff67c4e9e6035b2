"""Shared fixtures: a tiny real model built offline once per test session, and offline hub settings."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """Path of a random tiny Qwen2 model with the s1 chat template (built in a few seconds, no downloads)."""
    from s1eval.testing.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """The tiny model's tokenizer alone, for fake-engine tests."""
    from s1eval.testing.tiny_model import build_tokenizer

    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_path):
    """An hf engine over the tiny model (shared: engines are stateless between control calls)."""
    from s1eval.engines.hf import HFEngine

    return HFEngine(str(tiny_model_path), batch_size=8)


@pytest.fixture(scope="session")
def hooked_python(tmp_path_factory):
    """A Python whose environment has the opt-in lm-eval hook (`s1eval lm-eval-hook install`), as a user's
    would after running it; the test venv itself is left untouched.

    A throwaway venv whose site-packages reads this venv's (one `site.addsitedir` line, so its .pth files,
    the editable s1eval included, are processed too); the hook is installed into it by the real command,
    with no --target, so the default location is what is tested.
    """
    import site
    import subprocess
    import sys
    import sysconfig
    import venv
    from pathlib import Path

    root = tmp_path_factory.mktemp("hooked-venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    assert ours in site.getsitepackages() or ours in sys.path
    (Path(purelib) / "_s1eval_test_link.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from s1eval.cli import main; sys.exit(main(sys.argv[1:]))",
            "lm-eval-hook",
            "install",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return python
