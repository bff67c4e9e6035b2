"""s1eval's solvers on tasks built the way inspect_evals builds them, and Inspect's own generate options.

- A multiple-choice task from Inspect's pieces only (`Sample.choices`, `multiple_choice()`, `choice()`) run with
  `--solver s1eval/budget_forcing`: the model sees the options and `choice()` scores the letter it names.
- `--max-tokens` caps the answer phase of the s1eval solvers.
Both through the real `inspect eval` in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

MC_TASK = """
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import choice
from inspect_ai.solver import multiple_choice


@task
def pick():
    samples = [
        Sample(id="even", input="Which number is even?", choices=["3", "4", "5", "7"], target="B"),
        Sample(id="odd", input="Which number is odd?", choices=["2", "4", "5", "8"], target="C"),
    ]
    return Task(dataset=MemoryDataset(samples), solver=multiple_choice(), scorer=choice())
"""


def _inspect(tmp_path: Path, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "INSPECT_DISPLAY": "none",
        "PWD": str(REPO),
    }
    return subprocess.run(
        [str(BIN / "inspect"), "eval", *args, "--log-dir", str(tmp_path / "logs")],
        cwd=cwd,
        env=env | {"PWD": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _log(tmp_path: Path):
    (path,) = sorted((tmp_path / "logs").glob("*.eval"))
    log = read_eval_log(str(path), resolve_attachments=True)
    assert log.status == "success", log.error
    return log


def test_inspect_multiple_choice_pieces_under_the_s1eval_solver_score_the_named_letter(
    tiny_model_path, tmp_path
):
    task_file = tmp_path / "pick.py"
    task_file.write_text(MC_TASK)
    proc = _inspect(
        tmp_path,
        task_file.name,  # Inspect takes task files relative to the working directory
        "--solver",
        "s1eval/budget_forcing",
        "-S",
        "max_thinking_tokens=16",
        "--model",
        "s1fake/tiny",
        "-M",
        f"tokenizer={tiny_model_path}",
        "-M",
        "answer=The answer is B.",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = _log(tmp_path)
    scores = {s.id: next(iter(s.scores.values())).value for s in log.samples}
    assert scores == {"even": "C", "odd": "I"}  # the fake model always names B: right once, wrong once
    for sample in log.samples:
        assert sample.choices and sample.metadata["s1eval"]["answer"] == "The answer is B."


def test_inspect_max_tokens_caps_the_answer_phase(tiny_model_path, tmp_path):
    proc = _inspect(
        tmp_path,
        "tasks/aime24.py",
        "--model",
        f"s1hf/{tiny_model_path}",
        "-T",
        "max_thinking_tokens=4",
        "--max-tokens",
        "3",
        "--limit",
        "2",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = _log(tmp_path)
    for sample in log.samples:
        ledger = sample.metadata["ledger"]
        assert ledger["answer_tokens"] <= 3, ledger


def test_every_engine_round_is_a_model_event_and_the_system_prompt_a_message(tiny_model_path, tmp_path):
    # the fake model ends its thinking at once; one forced "Wait" gives three rounds: think, think, answer
    proc = _inspect(
        tmp_path,
        "tasks/aime24.py",
        "--model",
        "s1fake/tiny",
        "-M",
        f"tokenizer={tiny_model_path}",
        "-M",
        "thinking=3 plus 4 is 7",
        "-M",
        "answer=The answer is 7.",  # (a -M value is YAML: no colon)
        "-T",
        "max_thinking_tokens=64",
        "-T",
        "num_extensions=1",
        "--limit",
        "1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sample,) = _log(tmp_path).samples
    ledger = sample.metadata["ledger"]
    assert ledger["extensions"] == 1
    events = [e for e in sample.events if e.event == "model"]
    assert len(events) == len(ledger["rounds"]) == 3
    for event, rnd in zip(events, ledger["rounds"], strict=True):
        assert event.output.usage.output_tokens >= rnd["generated"]  # + the stop token, when one was kept
        assert event.output.metadata["s1eval_round"] == events.index(event)
        assert event.input[0].role == "system" and event.input[1].role == "user"
    assert len(events[0].input) == 2  # the first round sees the prompt only
    assert "Wait" in events[1].input[-1].text  # the forced extension, as the assistant text so far
    assert events[2].input[-1].text.rstrip().endswith("<|im_start|>answer")  # the forced end of thinking
    assert events[2].output.completion.startswith("The answer is 7.")
    assert sample.messages[0].role == "system"  # the default system prompt, used, is shown
    assert sample.messages[0].text == events[0].input[0].text


def test_model_events_show_each_rounds_own_prompt_for_a_tcc_sweep(tiny_model_path, tmp_path):
    # TCC states the budget in the prompt, so the two budgets' rounds had two different user messages
    proc = _inspect(
        tmp_path,
        "tasks/aime24.py",
        "--model",
        "s1fake/tiny",
        "-M",
        f"tokenizer={tiny_model_path}",
        "-T",
        "method=tcc",
        "-T",
        "budgets=8,16",
        "--limit",
        "1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sample,) = _log(tmp_path).samples
    events = [e for e in sample.events if e.event == "model"]
    assert events
    users = [next(m for m in e.input if m.role == "user").text for e in events]
    assert all("<|im_start|>" not in u for u in users)  # every prompt was read back into its messages
    stated = {b for u in users for b in (8, 16) if f"Think for up to {b} tokens." in u}
    assert stated == {8, 16}, users  # each budget's rounds show the budget their prompt stated
