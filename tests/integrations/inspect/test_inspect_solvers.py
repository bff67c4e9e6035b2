"""Every s1eval solver under Inspect's in-process `eval()` with the scripted s1fake provider; scorers, reducers."""

from __future__ import annotations

import json

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import get_model
from inspect_ai.solver._solver import solver_create

from s1eval.integrations.inspect import answer, engine_batcher
from tasks.math500 import math500

FAKE = {"thinking": "First idea.| Second idea.| Third idea.", "answer": "So the answer is \\boxed{42}."}


def _eval(tasks, tmp_path, **kwargs):
    logs = eval(
        tasks,
        model="s1fake/scripted",
        model_args=FAKE,
        log_dir=str(tmp_path / "logs"),
        display="none",
        **kwargs,
    )
    for log in logs:
        assert log.status == "success", log.error
    return logs


def _rows(tmp_path):
    path = tmp_path / "custom.jsonl"
    rows = [
        {"id": "q42a", "question": "What is 6 * 7?", "answer": "42"},
        {"id": "q42b", "question": "What is 40 + 2?", "answer": "42"},
        {"id": "q7", "question": "What is 3 + 4?", "answer": "7"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.slow
def test_task_with_extensions_and_epochs_reduces_to_avg_and_maj_at_k(tmp_path):
    task = math500(data_path=str(_rows(tmp_path)), max_thinking_tokens=200, num_extensions=1, epochs=2)
    (log,) = _eval(task, tmp_path)
    assert len(log.samples) == 6  # 3 questions x 2 epochs
    for sample in log.samples:
        ledger = sample.metadata["ledger"]
        assert ledger["extensions"] == 1 and ledger["outcome"] == "answered" and not ledger["capped"]
        assert [r["stop"] for r in ledger["rounds"]] == ["delimiter", "delimiter", "eos"]
        assert ledger["rounds"][0]["forced"] == "Wait"
        reasoning = "".join(c.reasoning for c in sample.output.message.content if c.type == "reasoning")
        assert reasoning == "First idea.Wait Second idea."
        score = sample.scores["math_answer"]
        assert score.answer == "42" and score.value == ("C" if sample.target == "42" else "I")
    # reducers register under the package namespace, like every other s1eval name in Inspect
    by_reducer = {s.reducer.removeprefix("s1eval/"): s.metrics for s in log.results.scores if s.reducer}
    assert set(by_reducer) == {"avg_at_k", "maj_at_k"}
    assert all(s.reducer.startswith("s1eval/") for s in log.results.scores if s.reducer)
    assert by_reducer["avg_at_k"]["accuracy"].value == pytest.approx(2 / 3)
    assert by_reducer["maj_at_k"]["accuracy"].value == pytest.approx(2 / 3)
    reductions = {r.reducer.removeprefix("s1eval/"): r for r in log.reductions}
    maj = {s.sample_id: s for s in reductions["maj_at_k"].samples}
    assert maj["q7"].answer == "42" and maj["q7"].value == 0.0
    assert maj["q42a"].metadata["votes"] == ["42", "42"]


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("budget_forcing", {"max_thinking_tokens": 64}, "bf"),
        ("tcc", {"max_thinking_tokens": 64}, "tcc"),
        ("scc", {"max_thinking_tokens": 64}, "scc"),
        ("ccc", {}, "ccc"),
        ("rejection_sampling", {"max_thinking_tokens": 64, "max_tries": 2}, "rs"),
        ("majority_vote", {"n": 3}, "vote"),
    ],
)
def test_every_method_solver_runs_through_inspect(name, args, method, tmp_path):
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42", metadata={"kind": "math"})],
        solver=solver_create(f"s1eval/{name}", **args),
        scorer=answer(),
    )
    (log,) = _eval(task, tmp_path)
    (sample,) = log.samples
    ledger = sample.metadata["ledger"]
    assert ledger["method"] == method
    assert ledger["outcome"] in ("answered", "forced")
    assert sample.scores["answer"].value == "C" and sample.scores["answer"].metadata["ledger"] == ledger
    assert [step.solver for step in log.plan.steps] == [f"s1eval/{name}"]


def test_an_intervention_is_a_solver_argument_and_lands_in_the_ledger(tmp_path):
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42", metadata={"kind": "math"})],
        solver=solver_create("s1eval/budget_forcing", max_thinking_tokens=6, intervention="early_stop"),
        scorer=answer(),
    )
    (log,) = _eval(task, tmp_path)
    ledger = log.samples[0].metadata["ledger"]
    assert ledger["intervention"] == "early_stop" and ledger["capped"]
    cap = [r for r in ledger["rounds"] if r.get("stop") == "budget"][0]
    assert "Considering the limited time by the user" in cap["forced"]


def test_the_budget_defaults_to_reasoning_tokens(tmp_path):
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42", metadata={"kind": "math"})],
        solver=solver_create("s1eval/budget_forcing"),
        scorer=answer(),
    )
    (log,) = _eval(task, tmp_path, reasoning_tokens=5)
    ledger = log.samples[0].metadata["ledger"]
    assert ledger["budget"] == 5 and ledger["thinking_tokens"] == 5 and ledger["capped"]


def test_without_a_budget_the_error_says_how_to_give_one(tmp_path):
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42", metadata={"kind": "math"})],
        solver=solver_create("s1eval/budget_forcing"),
        scorer=answer(),
    )
    (log,) = eval(task, model="s1fake/scripted", log_dir=str(tmp_path), display="none")
    assert log.status == "error"
    # bf's default is auto, which needs a context length the scripted engine does not report
    assert "does not report" in log.error.message and "max_thinking_tokens=4000" in log.error.message


def test_a_provider_that_cannot_continue_a_message_is_refused_with_the_fix(tmp_path):
    assert engine_batcher(get_model("mockllm/model", memoize=False)) is None  # not an s1 provider
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42")],
        solver=solver_create("s1eval/budget_forcing", max_thinking_tokens=8),
        scorer=answer(),
    )
    (log,) = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "error"
    message = log.error.message
    assert "mockllm returns canned text" in message and "s1hf/" in message and "vllm/" in message, message
