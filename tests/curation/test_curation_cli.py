from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import curation_synth as synth
import pytest
import yaml
from click.testing import CliRunner

from s1eval.curation.cli import curate_command

ROOT = Path(__file__).resolve().parents[2]


def _write_config(tmp_path, pool_path, **extra):
    cfg = {
        "seed": 3,
        "out_dir": str(tmp_path / "out"),
        "pool": {
            "path": str(pool_path),
            "columns": {"grades": {"qwen7b": "qwen7b_correct", "qwen32b": "qwen32b_correct"}},
        },
        "contamination": {"eval_sets": [{"name": k, "path": str(v)} for k, v in synth.EVAL_FILES.items()]},
        "subsets": {"n": 50},
        **extra,
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_python_m_curation_subprocess(tmp_path, pool_path):
    cfg = _write_config(tmp_path, pool_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "s1eval.curation", str(cfg), "--subset", "s1k", "--subset", "1k-random"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert {"s1k.jsonl", "random.jsonl", "report.json", "report.md"} <= {p.name for p in out.iterdir()}
    assert len((out / "s1k.jsonl").read_text().splitlines()) == 50
    assert "curate" in proc.stderr  # the progress bar
    assert "subset s1k: 50 rows" in proc.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("pool:\n  path: /no/such/pool.jsonl\n")
    proc = subprocess.run(
        [sys.executable, "-m", "s1eval.curation", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: pool file '/no/such/pool.jsonl' not found")


def test_click_command(tmp_path, pool_path):
    cfg = _write_config(tmp_path, pool_path)
    res = CliRunner().invoke(
        curate_command,
        [str(cfg), "--out", str(tmp_path / "o2"), "--subset", "longest", "--quiet", "--seed", "5"],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert list(rep["subsets"]) == ["longest"] and rep["seed"] == 5
    res = CliRunner().invoke(curate_command, [str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2
