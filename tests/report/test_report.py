"""`s1eval report`: the files it writes, their determinism, and the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from s1eval.report.build import write_report
from s1eval.report.cli import report_command


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_report_writes_every_artefact(mixed_runs, tmp_path: Path):
    report = write_report(mixed_runs, tmp_path / "out", title="Demo", resamples=500)
    names = set(_files(tmp_path / "out"))
    assert {"report.md", "index.html", "leaderboard.csv", "budgets.csv"} <= names
    assert {"scaling_aime24.png", "scaling_aime24.svg"} <= names
    md = (tmp_path / "out" / "report.md").read_text()
    for heading in ("# Demo", "## Leaderboard", "## Budgets", "## Scaling plots", "Paired comparisons"):
        assert heading in md
    assert "| Control (%) | Scaling | Performance (%) | \\|A\\| |" in md
    # rows: (s1k: BF, TCC+BF, CCC, RS) + (1k-random: BF)
    assert len(report.leaderboard) == 5
    assert set(report.leaderboard["variant"]) == {"s1k", "1k-random"}
    bf = report.leaderboard[(report.leaderboard["method"] == "bf") & (report.leaderboard["variant"] == "s1k")]
    assert bf["scaling"].iloc[0] > 0
    rs = report.leaderboard[report.leaderboard["method"] == "rs"]
    assert rs["scaling"].iloc[0] < 0


def test_report_is_byte_identical_for_the_same_inputs(mixed_runs, tmp_path: Path):
    write_report(mixed_runs, tmp_path / "a", resamples=500)
    write_report(mixed_runs, tmp_path / "b", resamples=500)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_html_is_self_contained(mixed_runs, tmp_path: Path):
    write_report(mixed_runs, tmp_path / "out", resamples=500)
    page = (tmp_path / "out" / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "data:image/png;base64," in page
    assert page.count('<table class="sortable">') >= 3
    for field in ("Models", "Data hashes", "Settings", "s1eval version of this report", "Scaling unit"):
        assert field in page
    assert str(tmp_path) not in page  # no machine-specific paths


def test_empty_run_gives_an_empty_report(tmp_path: Path):
    from .conftest import write_s1eval_run

    run = write_s1eval_run(tmp_path / "runs", "bf", budgets=())
    report = write_report([run], tmp_path / "out", resamples=200)
    assert report.leaderboard.empty
    assert "No samples" in (tmp_path / "out" / "report.md").read_text()
    assert "No samples" in (tmp_path / "out" / "index.html").read_text()


def test_cli_prints_the_leaderboard_and_writes_files(mixed_runs, tmp_path: Path):
    out = tmp_path / "results" / "demo"
    args = [*map(str, mixed_runs), "--out", str(out), "--title", "CLI demo", "--resamples", "200"]
    result = CliRunner(env={"COLUMNS": "250"}).invoke(report_command, args)
    assert result.exit_code == 0, result.output
    assert "Leaderboard: aime24" in result.output
    assert "TCC+BF" in result.output
    assert (out / "index.html").is_file()


def test_cli_reports_data_errors_in_one_line(tmp_path: Path, capsys):
    from s1eval.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # a failed report leaves no empty folder behind


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "s1eval.report", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "RUN_DIRS" in proc.stdout and "--scaling-unit" in proc.stdout
