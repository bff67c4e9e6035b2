"""README.md's and results/README.md's demo sections are what `python -m examples.demo.readme` writes from the
committed results/demo (so neither can quote a number the run does not hold)."""

from __future__ import annotations

import pytest

from examples.demo.readme import REPO, TARGETS, expected


@pytest.mark.parametrize("path", list(TARGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_the_demo_section_quotes_the_committed_run(path):
    assert path.read_text(encoding="utf-8") == expected(path, REPO / "results" / "demo"), (
        "run: python -m examples.demo.readme"
    )
