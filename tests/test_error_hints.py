"""Every hint in an error names an option that exists in the front end where it is printed.

Messages name settings with `s1eval.errors.option(...)`, spelled per front end by `render_error`. This walks
every spelling and checks it parses where it is printed: s1eval's click commands, lm-eval's CLI flags and
`--model_args` keys, Inspect's CLI flags, task `-T` parameters and provider `-M` options. It also walks the
source: every `option()` names a listed setting, and a literal `--flag` in an error message of a front end's
own code is that front end's flag.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import click
import pytest

from s1eval.errors import FRONT_ENDS, OPTION_SPELLINGS, option, render_message, spell

REPO = Path(__file__).resolve().parents[1]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")


def s1eval_cli_flags() -> set[str]:
    from s1eval.cli import SUBCOMMANDS, cli

    flags: set[str] = set()
    ctx = click.Context(cli)
    for name in SUBCOMMANDS:
        command = cli.get_command(ctx, name)
        stack = [command]
        while stack:
            cmd = stack.pop()
            if isinstance(cmd, click.Group):
                stack.extend(cmd.commands.values())
            for param in getattr(cmd, "params", []):
                flags.update(o for o in param.opts if o.startswith("--"))
    return flags


def lm_eval_cli_flags() -> set[str]:
    import lm_eval._cli.run as run

    source = Path(run.__file__).read_text()
    return set(re.findall(r'"(--[a-z_]+)"', source))


def lm_eval_model_arg_keys() -> set[str]:
    from s1eval.control.methods import SAMPLING_KEYS, SETTING_ALIASES, get_method, method_names
    from s1eval.integrations.lm_eval.args import (
        ENGINE_MODULES,
        WRAPPER_KEYS,
        engine_class,
        engine_option_names,
    )

    keys = set(WRAPPER_KEYS) | SAMPLING_KEYS | set(SETTING_ALIASES)
    for name in method_names():
        keys |= {f.name for f in dataclasses.fields(get_method(name).config_class)}
    for kind in ENGINE_MODULES:
        if kind != "vllm":  # not installable here; its options are checked by the vllm engine's tests
            keys |= engine_option_names(engine_class(kind))
    return keys


def inspect_cli_flags() -> set[str]:
    from inspect_ai._cli.eval import eval_command

    return {o for p in eval_command.params for o in p.opts if o.startswith("--")}


def inspect_task_params() -> set[str]:
    from s1eval.control.methods import SAMPLING_KEYS, get_method, method_names

    params: set[str] = set()
    for path in (REPO / "tasks").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "task" for d in node.decorator_list
            ):
                params |= {a.arg for a in node.args.args + node.args.kwonlyargs}
    for name in method_names():  # -T passes any other method setting through **settings
        params |= {f.name for f in dataclasses.fields(get_method(name).config_class)}
    return params | SAMPLING_KEYS


def inspect_model_args() -> set[str]:
    from s1eval.engines.hf import HFEngine
    from s1eval.engines.openai import OpenAIEngine

    names = {"format", "join_window_s"}
    for cls in (HFEngine, OpenAIEngine):
        names |= set(inspect.signature(cls.__init__).parameters) - {"self", "model"}
    return names


def test_every_spelling_parses_in_its_front_end():
    cli, lm_flags, lm_keys = s1eval_cli_flags(), lm_eval_cli_flags(), lm_eval_model_arg_keys()
    in_flags, in_task, in_model = inspect_cli_flags(), inspect_task_params(), inspect_model_args()
    bad = []
    for name, spellings in OPTION_SPELLINGS.items():
        assert set(spellings) == set(FRONT_ENDS) - {"python"}, name
        for front_end, template in spellings.items():
            if template is None:  # the plain name would be printed: a hint no front end parses
                bad.append(f"{front_end}: {name} has no spelling")
                continue
            text = spell(name, front_end, "X")
            if front_end == "cli":
                ok = text.split()[0] in cli
            elif front_end == "lm_eval":
                if text.endswith(" in --model_args"):
                    ok = text.split("=")[0] in lm_keys
                else:
                    ok = text.split()[0] in lm_flags
            else:
                if text.startswith("-T "):
                    ok = text[3:].split("=")[0] in in_task
                elif text.startswith("-M "):
                    ok = text[3:].split("=")[0] in in_model
                else:
                    ok = text.split()[0] in in_flags
            if not ok:
                bad.append(f"{front_end}: {text}")
    assert not bad, bad


def _error_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name.endswith(("Error", "Exception", "Failed")):
                yield node


def test_every_option_marker_is_spelled_and_front_end_code_names_its_own_flags():
    flags = {
        "cli": s1eval_cli_flags(),
        "lm_eval": lm_eval_cli_flags(),
        "inspect": inspect_cli_flags(),
    }
    unknown, wrong = [], []
    for path in sorted((REPO / "s1eval").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "option" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and first.value not in OPTION_SPELLINGS:
                    unknown.append(f"{path}:{node.lineno} {first.value}")
        rel = path.relative_to(REPO / "s1eval").as_posix()
        front = (
            "lm_eval"
            if "integrations/lm_eval" in rel
            else "inspect"
            if "integrations/inspect" in rel
            else None
        )
        shared = rel.startswith(("control/", "engines/", "formats/", "scoring/", "data/"))
        for call in _error_calls(tree):
            for const in ast.walk(call):
                if isinstance(const, ast.Constant) and isinstance(const.value, str):
                    text = const.value
                    named = (
                        "lm_eval" if re.search(r"lm[-_]eval ", text) else front
                    )  # "rerun lm-eval with --x"
                    for flag in FLAG.findall(text):
                        if shared:  # printed by every front end: must be an option() marker
                            wrong.append(f"{rel}:{call.lineno} literal {flag} in shared code")
                        elif flag not in flags[named or "cli"] and flag != "--model_args":
                            wrong.append(f"{rel}:{call.lineno} {flag} is not a {named or 'cli'} flag")
    assert not unknown, unknown
    assert not wrong, wrong


@pytest.mark.parametrize("front_end", ["cli", "lm_eval", "inspect"])
def test_a_marked_message_renders_on_one_line_in_each_front_end(front_end):
    text = f"lower {option('max_thinking_tokens', 512)}\nor {option('budgets')}"
    rendered = render_message(text, front_end)
    assert "\n" not in rendered and "«" not in rendered and "\x1f" not in rendered


def test_the_lm_eval_extra_has_a_name_every_pip_matches():
    """pip < 23.3 (Python 3.11's bundled 23.2) does not normalise "lm_eval" to the metadata's "lm-eval"."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("lm-eval") for dep in extras["lmeval"])
    assert "lmeval" in extras["all"][0]
    readme = (REPO / "README.md").read_text()
    assert "s1eval[hf,math,lm_eval]" not in readme and "lmeval]" in readme


def test_inspect_prints_brackets_in_an_error_as_text(monkeypatch):
    """Inspect's exception hook prints with rich: "[vllm]" in a hint must not be read as markup (or crash it)."""
    import io

    import inspect_ai._util.error as inspect_error
    from rich.console import Console

    from s1eval.errors import ConfigError
    from s1eval.integrations.inspect._errors import S1EvalInspectError

    for text in ("install it: pip install 's1eval[vllm]'", "a path like /data/[/x]"):
        buffer = io.StringIO()
        # rich.print as the hook calls it, on a console of our own (the global one may be quiet under other tests)
        monkeypatch.setattr(inspect_error, "print", Console(file=buffer, width=200).print)
        error = S1EvalInspectError(ConfigError(text))
        inspect_error.exception_hook()(type(error), error, None)
        assert text in buffer.getvalue()
