"""The lm-eval adapter's pure parts: argument splitting, prompts, stop strings, argv, ledger aggregation, hook."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.errors import ConfigError
from s1eval.integrations.lm_eval.args import split_gen_kwargs, split_model_args
from s1eval.integrations.lm_eval.cli import lm_eval_argv
from s1eval.integrations.lm_eval.naming import lm_eval_name
from s1eval.integrations.lm_eval.patches import tasks_dir, with_tasks_dir
from s1eval.integrations.lm_eval.prompts import cut_at_stops, question_from_context, split_history
from s1eval.integrations.lm_eval.response import S1Response, in_budget_share


def split(**kwargs):
    return split_model_args(kwargs, BudgetForcingConfig, "bf", "s1_bf")


def test_model_args_go_to_wrapper_engine_and_method():
    args = split(
        pretrained="m",
        max_thinking_tokens=8000,
        num_extensions=2,
        extension_string="Wait",
        dtype="bfloat16",
        batch_size="auto",
        max_batch_size=4,
        device="cpu",
        seed=3,
        temperature=0.6,
    )
    assert args.pretrained == "m" and args.engine == "hf" and args.seed == 3
    assert args.engine_options == {"batch_size": 4, "device": "cpu", "dtype": "bfloat16"}
    assert args.settings == {
        "max_thinking_tokens": 8000,
        "num_extensions": 2,
        "extension_string": "Wait",
        "temperature": 0.6,
    }


def test_unknown_model_arg_is_one_line_naming_the_valid_keys():
    with pytest.raises(ConfigError) as info:
        split(pretrained="m", max_thinking_tokns=10)
    message = str(info.value)
    assert "\n" not in message
    assert "max_thinking_tokns" in message and "max_thinking_tokens" in message and "pretrained" in message


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_thinking_tokens": 1}, "pretrained="),
        ({"pretrained": "m", "engine": "tpu"}, "engine='tpu'"),
        ({"pretrained": "m", "batch_size": 0}, "batch_size"),
        ({"pretrained": "m", "return_text": "all"}, "return_text"),
    ],
)
def test_bad_wrapper_args_are_refused(kwargs, needle):
    with pytest.raises(ConfigError) as info:
        split(**kwargs)
    assert needle in str(info.value)


def test_gen_kwargs_map_to_answer_limits_sampling_and_overrides():
    gen = split_gen_kwargs(
        {
            "until": "Question:",
            "max_gen_toks": 64,
            "do_sample": True,
            "temperature": 0.7,
            "max_thinking_tokens": 50,
        },
        BudgetForcingConfig,
        "s1_bf",
    )
    assert gen.until == ("Question:",) and gen.max_gen_toks == 64 and gen.do_sample is True
    assert gen.overrides == {"temperature": 0.7, "max_thinking_tokens": 50}


def test_base_model_answer_cue_is_dropped_from_the_user_message():
    assert question_from_context("Question: 1+1?\nAnswer:") == "Question: 1+1?"
    assert question_from_context("What is 2+2?") == "What is 2+2?"
    assert question_from_context("Answer:") == "Answer:"  # nothing else: kept as is


def test_chat_history_must_be_one_user_turn():
    assert split_history([{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}], "m") == (
        "S",
        "Q",
    )
    with pytest.raises(ConfigError, match="fewshot_as_multiturn"):
        split_history([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "m")


def test_until_cuts_the_answer_at_the_first_stop():
    assert cut_at_stops("42\nQuestion: next", ["Question:", "</s>"]) == "42\n"
    assert cut_at_stops("no stop here", ["Question:"]) == "no stop here"


def test_response_keeps_its_ledger_through_pickle():
    response = S1Response("ans", answer="ans", thinking="t", output="t|ans", ledger={"budget": 4})
    back = pickle.loads(pickle.dumps(response))
    assert back == "ans" and back.ledger == {"budget": 4} and back.thinking == "t"
    assert str(back) == "ans" and type(str(back)) is str


def test_in_budget_share_counts_ledgers_only():
    ledgers = [{"budget": 10, "thinking_tokens": 10}, {"budget": 10, "thinking_tokens": 11}, None]
    assert in_budget_share(ledgers) == 0.5
    assert in_budget_share([[{"budget": None, "thinking_tokens": 99}]]) == 1.0


def test_lm_eval_names():
    assert lm_eval_name("bf") == "s1_bf" and lm_eval_name("tcc+bf") == "s1_tcc_bf"


def test_wrapper_adds_the_task_directory_once():
    assert lm_eval_argv(["--model", "s1_bf"], "/t") == ["--model", "s1_bf", "--include_path", "/t"]
    assert lm_eval_argv(["ls", "tasks"], "/t") == ["ls", "tasks", "--include_path", "/t"]
    assert lm_eval_argv(["run", "--include_path", "/mine"], "/t") == ["run", "--include_path", "/mine"]
    assert lm_eval_argv(["--help"], "/t") == ["--help"]
    assert lm_eval_argv(["run"], "/t") == ["run"]  # alone: lm-eval prints its usage, not a traceback
    for mine in (["--include", "/mine"], ["--inc=/mine"], ["--include_path=/mine"]):  # argparse's prefixes
        assert lm_eval_argv(["validate", "--tasks", "x", *mine], "/t") == ["validate", "--tasks", "x", *mine]
    ours = str(tasks_dir())
    assert (tasks_dir() / "s1_math500.yaml").is_file()
    assert with_tasks_dir(None) == [ours]
    assert with_tasks_dir(["/x", ours]) == ["/x", ours]


HOOK_PROBE = """
import json, lm_eval.api.registry as r, lm_eval.tasks.manager as m, lm_eval.api.task as t
print(json.dumps({
    "hf": "hf" in r.model_registry,
    "s1": sorted(k for k in r.model_registry if k.startswith("s1_")),
    "tasks": getattr(m.TaskManager.__init__, "__s1eval_patched__", False),
    "ledgers": getattr(t.ConfigurableTask.process_results, "__s1eval_patched__", False),
}))
"""


def probe(python: Path | str = sys.executable, **env_extra: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **env_extra}
    out = subprocess.run(
        [str(python), "-c", HOOK_PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


UNTOUCHED = {"hf": False, "s1": [], "tasks": False, "ledgers": False}  # lm-eval loads built-ins lazily


@pytest.mark.slow
def test_lm_eval_is_untouched_unless_the_hook_is_installed(hooked_python):
    assert probe() == UNTOUCHED  # pip install s1eval alone: nothing runs at interpreter start
    on = probe(hooked_python)  # after `s1eval lm-eval-hook install` (the fixture runs the real command)
    assert on["hf"] and on["tasks"] and on["ledgers"]  # lm-eval's built-ins kept, s1eval's tasks added
    assert {"s1_bf", "s1_tcc", "s1_tcc_bf", "s1_vote"} <= set(on["s1"])
    assert probe(hooked_python, S1EVAL_NO_LM_EVAL_HOOK="1") == UNTOUCHED


def test_hook_command_installs_reports_and_removes_the_pth_file(tmp_path):
    from s1eval.cli import main
    from s1eval.integrations.lm_eval.hook_file import PTH_LINE, PTH_NAME

    def run(*args: str) -> int:
        try:
            return main(["lm-eval-hook", *args, "--target", str(tmp_path)]) or 0
        except SystemExit as exc:
            return int(exc.code or 0)

    assert run("status") == 1
    assert main(["lm-eval-hook"]) in (0, None)  # no subcommand: the help, not an error
    assert run("install") == 0 and (tmp_path / PTH_NAME).read_text() == PTH_LINE
    assert run("status") == 0
    assert run("remove") == 0 and not (tmp_path / PTH_NAME).exists()
    assert run("remove") == 0  # nothing to remove is not an error


def test_hook_install_says_so_when_python_would_not_read_the_folder(tmp_path, capsys):
    from s1eval.cli import main
    from s1eval.integrations.lm_eval.hook_file import read_at_start, site_packages

    assert read_at_start(site_packages()) and not read_at_start(tmp_path)
    assert main(["lm-eval-hook", "install", "--target", str(tmp_path)]) in (0, None)
    err = capsys.readouterr().err
    assert "does not read .pth files" in err and str(tmp_path) in err


def test_hook_install_where_it_cannot_write_is_one_line(tmp_path, capsys):
    from s1eval.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder below a file cannot be made, whoever runs the test
    assert main(["lm-eval-hook", "install", "--target", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "s1eval lm-eval" in err and "target" in err, err


def test_task_scoring_uses_answer_thinking_and_ledger():
    from s1eval.integrations.lm_eval.tasks.utils import process_results

    doc = {"id": "q", "question": "3+4?", "answer": "7", "kind": "math", "source": "s1eval:math500"}
    ledger = {"method": "bf", "budget": 8, "thinking_tokens": 8, "outcome": "forced"}
    right = S1Response(
        "t..." + "Final Answer: \\boxed{7}", answer="Final Answer: \\boxed{7}", thinking="t", ledger=ledger
    )
    metrics = process_results(doc, [right])
    assert metrics["exact_match"] == 1 and metrics["outcome_forced"] == 1 and metrics["thinking_tokens"] == 8
    assert metrics["s1_ledger"] is ledger
    plain = process_results(doc, ["The answer is \\boxed{8}"])  # a non-s1 model: no thinking, no ledger
    assert plain["exact_match"] == 0 and plain["outcome_answered"] == 1 and plain["s1_ledger"] is None


def test_gpqa_task_loads_the_users_csv_and_says_how_when_missing(tmp_path, monkeypatch):
    from s1eval.errors import DataError
    from s1eval.integrations.lm_eval.tasks.utils import load_gpqa_diamond

    csv = tmp_path / "gpqa_diamond.csv"
    header = "Record ID,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\n"
    csv.write_text(header + "r1,Which is a noble gas?,Neon,Iron,Carbon,Sodium\n")
    monkeypatch.setenv("S1EVAL_GPQA_PATH", str(csv))
    (row,) = load_gpqa_diamond(pretrained="ignored")["test"]
    assert row["kind"] == "gpqa" and row["answer"] in "ABCD" and f"{row['answer']}) Neon" in row["question"]
    monkeypatch.setenv("S1EVAL_GPQA_PATH", str(tmp_path / "missing.csv"))
    with pytest.raises(DataError, match="S1EVAL_GPQA_PATH"):
        load_gpqa_diamond()
