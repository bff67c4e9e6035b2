"""The method registry is the one place that knows a method; every front end is made from it or agrees with it.

Checked: lm-eval's model names, classes and the pyproject entry points; Inspect's solvers (registered under the
s1eval namespace); the CLI's --method choices; `s1eval methods`; the report's labels and order. And no module
outside the registry entries hand-lists method names (a list of three or more of them is a copy to keep in sync).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import tomllib

from s1eval.control.methods import method_names, registered_methods
from s1eval.integrations.lm_eval.naming import lm_eval_name

REPO = Path(__file__).resolve().parents[1]
MODELS = "s1eval.integrations.lm_eval.models"


def test_registry_entries_are_complete():
    infos = registered_methods()
    assert [m.name for m in infos][:1] == ["bf"] and sorted(m.name for m in infos) == method_names()
    for info in infos:
        assert info.display and info.summary and info.lm_eval_class.startswith("S1"), info
        assert info.x_unit in ("tokens", "class", "samples")
    by_name = {m.name: m for m in infos}
    assert by_name["bf"].sweep_sets_cap and not by_name["tcc+bf"].sweep_sets_cap
    assert by_name["vote"].samples_by_default and by_name["rs"].samples_by_default
    assert not by_name["bf"].samples_by_default


def test_lm_eval_models_and_entry_points_come_from_the_registry():
    from s1eval.integrations.lm_eval import models
    from s1eval.integrations.lm_eval.register import model_names

    expected = {lm_eval_name(m.name): f"{MODELS}:{m.lm_eval_class}" for m in registered_methods()}
    assert model_names() == expected
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["lm_eval.models"] == expected
    for info in registered_methods():
        cls = getattr(models, info.lm_eval_class)
        assert cls.METHOD == info.name and cls.__name__ == info.lm_eval_class and cls.__module__ == MODELS
        assert models.MODEL_CLASSES[info.name] is cls


def test_inspect_solvers_come_from_the_registry():
    from inspect_ai._util.registry import registry_info

    from s1eval.integrations.inspect import solvers

    named = {m.name: m.inspect_solver for m in registered_methods() if m.inspect_solver}
    assert set(solvers.SOLVERS) == set(named)
    for method, name in named.items():
        factory = solvers.SOLVERS[method]
        assert getattr(solvers, name) is factory
        assert registry_info(factory).name == f"s1eval/{name}"


def test_cli_choices_methods_listing_and_report_labels_agree():
    from s1eval.commands.evaluate import eval_command
    from s1eval.commands.generate import generate_command
    from s1eval.report.tables import method_name

    for command in (eval_command, generate_command):
        (option,) = [p for p in command.params if p.name == "method"]
        assert isinstance(option.type, click.Choice) and list(option.type.choices) == [
            m.name for m in registered_methods()
        ]
    listing = subprocess.run(
        [sys.executable, "-m", "s1eval.cli", "methods"], capture_output=True, text=True, timeout=120
    ).stdout
    for info in registered_methods():
        assert f"{info.name}  ({info.display}:" in listing and f"--model {lm_eval_name(info.name)}" in listing
        assert method_name(info.name) == info.display


def _string_lists(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            yield (
                node,
                [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)],
            )
        elif isinstance(node, ast.Dict):
            yield (
                node,
                [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)],
            )


def test_no_module_hand_lists_method_names():
    names = set(method_names())
    copies = []
    for path in sorted((REPO / "s1eval").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("s1eval/control/"):  # the registry entries themselves
            continue
        for node, strings in _string_lists(ast.parse(path.read_text())):
            if len(names.intersection(strings)) >= 3:
                copies.append(f"{rel}:{node.lineno}")
    assert not copies, copies


def test_a_plugin_method_registers_with_default_names():
    from dataclasses import dataclass

    from s1eval.control import methods
    from s1eval.control.methods import RegisteredMethod, method_info, register_method

    @dataclass(frozen=True)
    class EchoConfig:
        """Echo: a test method."""

        max_thinking_tokens: int = 8

    @dataclass(frozen=True)
    class Echo(RegisteredMethod):
        name: str = "echo+x"
        config_class: type = EchoConfig

    try:
        register_method(Echo())
        info = method_info("echo+x")
        assert (info.display, info.summary, info.lm_eval_class) == (
            "ECHO+X",
            "Echo: a test method.",
            "S1LM_echo_x",
        )
    finally:
        methods._REGISTRY.pop("echo+x", None)
        methods._INFO.pop("echo+x", None)
