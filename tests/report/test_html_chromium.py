"""The report page in a real headless Chromium: it loads, its script runs, and the console stays silent."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from s1eval.report.build import write_report

CHROMIUM = os.environ.get("S1EVAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
    ),
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def run_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_lines(stderr: str) -> list[str]:
    """Chromium writes every console message of the page to stderr as ...:CONSOLE(...)] "text", source: ..."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_detection_catches_errors(tmp_path: Path):
    """The check below would see a broken page: a script error and a blocked network load both show up."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'script-src \'unsafe-inline\'"></head><body><img src="https://example.invalid/x.png">'
        "<script>notDefined();</script></body></html>"
    )
    proc = run_chromium(bad, tmp_path / "profile", "--dump-dom")
    lines = console_lines(proc.stderr)
    assert any("Uncaught ReferenceError" in line for line in lines), proc.stderr[-2000:]
    assert any("Content Security Policy" in line for line in lines)


def test_report_page_loads_without_console_messages(mixed_runs, tmp_path: Path):
    write_report(mixed_runs, tmp_path / "out", resamples=500)
    page = tmp_path / "out" / "index.html"
    proc = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_lines(proc.stderr) == []
    # the sort script ran to its end and marked the page (overview, leaderboard, budgets, paired, runs)
    assert 'data-sortable-tables="5"' in proc.stdout
    assert "Leaderboard: aime24" in proc.stdout


def test_report_page_screenshot(mixed_runs, tmp_path: Path):
    write_report(mixed_runs, tmp_path / "out", resamples=500)
    shot = Path(os.environ.get("S1EVAL_SCREENSHOT", tmp_path / "report.png"))
    proc = run_chromium(
        tmp_path / "out" / "index.html",
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1400,1900",
        f"--screenshot={shot}",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_lines(proc.stderr) == []
    assert shot.stat().st_size > 20_000  # a blank page is a few kB
