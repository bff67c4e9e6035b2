"""README.md's demo section, written from results/demo: `python -m examples.demo.readme` (`make demo` runs it).

The section between the markers is the committed run's leaderboard and every paired check the demo made (its
findings, the studies', the RL table's), each sentence as the run wrote it, so the README can never quote a
number that `results/demo/` does not hold. tests/demo/test_readme_section.py checks that it is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from s1eval.report.tables import LEADERBOARD_COLUMNS, leaderboard_rows, rows_markdown

BEGIN = "<!-- demo:begin (python -m examples.demo.readme) -->"
END = "<!-- demo:end -->"
REPO = Path(__file__).resolve().parents[2]


def section(results: Path, link: str = "results/demo") -> str:
    """The generated part of the README's demo section, from a demo's output folder."""
    summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    board = pd.read_csv(results / "leaderboard.csv")
    lines = [
        f"This is the committed run's leaderboard, from [`{link}/README.md`]({link}/README.md):",
        "",
        rows_markdown(LEADERBOARD_COLUMNS, leaderboard_rows(board), "No samples.").rstrip("\n"),
        "",
        *[f"![scaling]({link}/{p.name})" for p in sorted(results.glob("scaling_*.png"))],
        "",
        "Each check below is a paired comparison over the same questions, read off its 95% interval (one "
        "standard for the demo's findings and the studies: `s1eval.studies.findings`):",
        "",
        *[f"- {f['sentence']}" for f in summary["findings"]],
    ]
    for name, study in (summary.get("studies") or {}).items():
        lines += ["", f"[{name} study]({link}/{study['report']}):", ""]
        lines += [f"- {f['sentence']}" for f in study["findings"]]
    rl = summary.get("rl")
    if rl:
        lines += ["", f"[RL after SFT]({link}/{rl['report']}):", ""]
        lines += [f"- {f['sentence']}" for f in rl["findings"]]
    return "\n".join([BEGIN, *lines, END])


def results_section(results: Path) -> str:
    """The demo's entry in results/README.md: the leaderboard and links to every table of the run."""
    board = pd.read_csv(results / "leaderboard.csv")
    summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    tables = [f"[{name}](demo/{study['report']})" for name, study in (summary.get("studies") or {}).items()]
    if summary.get("rl"):
        tables.append(f"[RL after SFT](demo/{summary['rl']['report']})")
    lines = [
        "Written by `make demo`; model variants are the training subset, `+kxWait` is BF with k forced "
        "extensions. Tables on the same models: " + ", ".join(tables) + ".",
        "",
        rows_markdown(LEADERBOARD_COLUMNS, leaderboard_rows(board), "No samples.").rstrip("\n"),
    ]
    return "\n".join([BEGIN, *lines, END])


TARGETS = {REPO / "README.md": section, REPO / "results" / "README.md": results_section}
"""Each file with a demo section, and what writes it."""


def expected(path: Path, results: Path) -> str:
    """`path` with its demo section as `results` would write it."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + TARGETS[path](results) + text[end:]


def update(results: Path = REPO / "results" / "demo") -> list[Path]:
    """Rewrite every demo section from `results`; returns the files that changed."""
    changed = []
    for path in TARGETS:
        new = expected(path, results)
        if new != path.read_text(encoding="utf-8"):
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    results = Path(args[0]) if args else REPO / "results" / "demo"
    changed = update(results)
    names = ", ".join(str(p.relative_to(REPO)) for p in changed) or "nothing (already up to date)"
    print(f"demo sections rewritten from {results}: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
