"""Layers point one way: a module imports only from its own layer or the ones below (an AST check of s1eval/).

errors, jsonl                      the one error type; JSON Lines reading and writing
formats, engines, scoring, testing thinking formats; backends; answer extraction and outcome classes
control                            the methods, the ledger, the registry
data, metrics                      benchmarks; Control / Scaling / Performance and intervals
runs, curation, training           run identity, the run store, evaluate(); s1K curation; the SFT recipe
report                             leaderboards, tables, plots
commands, studies, integrations, cli   the front ends (they may use each other)
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "s1eval"
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "jsonl": 0,
    "formats": 1,
    "engines": 1,
    "scoring": 1,
    "testing": 1,
    "control": 2,
    "data": 3,
    "metrics": 3,
    "runs": 4,
    "curation": 4,
    "training": 4,
    "report": 5,
    "commands": 6,
    "studies": 6,
    "integrations": 6,
    "cli": 6,
    "__main__": 6,
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    return (
        parts[1] if parts[0] == "s1eval" and len(parts) > 1 else ("__init__" if module == "s1eval" else None)
    )


def upward_imports() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        here = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        assert here in LAYERS, f"s1eval/{rel}: give its package a layer in tests/test_layers.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                there = _part(target)
                if there is not None and there != here and LAYERS[there] > LAYERS[here]:
                    found.append(f"s1eval/{rel}:{node.lineno} ({here}) imports {target} ({there})")
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    assert not upward_imports(), "\n".join(upward_imports())
