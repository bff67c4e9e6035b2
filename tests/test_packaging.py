"""The wheel installs one top-level package, `s1eval`, carrying what its tasks, recipes and configs need.

`pip wheel --no-deps .` is built for real and unpacked; the unpacked package is then used from a folder outside
the checkout (first on sys.path, ahead of the editable install), the way `pip install s1eval` alone leaves it:
the shipped benchmarks, curation and training configs by name, the lm-eval task YAMLs, and Inspect's
`s1eval/<task>` names through the wheel's own entry points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("s1eval-*.whl")
    return path


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    root = (
        tmp_path_factory.mktemp("venv") / "site-packages"
    )  # Inspect names tasks of installed packages by path
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    return root


def test_the_only_top_level_package_is_s1eval(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    packages = {n.split("/")[0] for n in names if "/" in n and not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"s1eval"}
    # nothing beside it: no .pth file runs at interpreter start unless `s1eval lm-eval-hook install` (issue 20)
    loose = {n for n in names if "/" not in n}
    assert loose == set(), loose
    assert not [n for n in names if n.endswith(".pth")]
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(top_level).decode().split() == ["s1eval"]


def test_the_wheel_carries_the_data_the_package_needs(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for needed in (
        "s1eval/data/benchmarks/aime24.jsonl",
        "s1eval/data/benchmarks/math500.jsonl",
        "s1eval/data/benchmarks/checksums.sha256",
        "s1eval/data/benchmarks/README.md",  # provenance and licences travel with the data
        "s1eval/curation/configs/s1k.yaml",
        "s1eval/curation/configs/sample_pool.jsonl",
        "s1eval/training/configs/paper_s1_32b.yaml",
        "s1eval/training/configs/data/arith32.jsonl",
        "s1eval/training/accelerate/fsdp_full_shard.yaml",
        "s1eval/integrations/lm_eval/tasks/s1_aime24.yaml",
        "s1eval/integrations/lm_eval/tasks/utils.py",
        "s1eval/integrations/inspect/benchmarks/gpqa.py",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("s1eval/demo/", "examples/")) for n in names)  # the demo is an example


def test_the_checkout_links_point_into_the_package():
    for link, target in (
        ("tasks/gpqa.py", "s1eval/integrations/inspect/benchmarks/gpqa.py"),
        ("tasks/aime24.py", "s1eval/integrations/inspect/benchmarks/aime24.py"),
        ("tasks/math500.py", "s1eval/integrations/inspect/benchmarks/math500.py"),
        ("tasks/data", "s1eval/data/benchmarks"),
        ("tasks/lm_eval", "s1eval/integrations/lm_eval/tasks"),
        ("curation/configs", "s1eval/curation/configs"),
        ("training/configs", "s1eval/training/configs"),
        ("training/accelerate", "s1eval/training/accelerate"),
    ):
        assert (REPO / link).resolve() == (REPO / target).resolve(), link


PROBE = """
import json, s1eval
from s1eval.curation.config import load_config
from s1eval.data.shipped import shipped_path
from s1eval.integrations.lm_eval.patches import tasks_dir
from s1eval.training.recipe import resolve_config
from inspect_ai._util.registry import registry_lookup
from inspect_ai._eval.registry import task_create
import inspect_ai._util.entrypoints as ep

ep.ensure_entry_points()
print(json.dumps({
    "package": s1eval.__file__,
    "math500": str(shipped_path("math500")),
    "curation": load_config("local").base_dir,
    "training": str(resolve_config("paper_s1_32b")),
    "lm_eval_tasks": sorted(p.name for p in tasks_dir().glob("*.yaml")),
    "inspect_tasks": [
        name for name in ("s1eval/aime24", "s1eval/math500", "s1eval/gpqa_diamond")
        if registry_lookup("task", name) is not None
    ],
    "math500_samples": len(task_create("s1eval/math500", limit=3).dataset),
}))
"""


def test_an_installed_wheel_reaches_tasks_recipes_and_configs_by_name(unpacked, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(unpacked), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("package", "math500", "curation", "training"):
        assert str(unpacked) in got[key], (key, got[key])  # from the wheel, not from the checkout
    assert got["lm_eval_tasks"] == ["s1_aime24.yaml", "s1_gpqa_diamond.yaml", "s1_math500.yaml"]
    assert got["inspect_tasks"] == ["s1eval/aime24", "s1eval/math500", "s1eval/gpqa_diamond"]
    assert got["math500_samples"] == 3
