"""The same solver through s1openai against a vLLM-shaped server on 127.0.0.1 gives what s1hf gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import get_model

from s1eval.integrations.inspect import answer, budget_forcing

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engines"))
from fake_server import FakeVLLMServer  # noqa: E402  (the engines' real-HTTP test server)

QUESTIONS = ["What is 3 + 4?", "Compute 2*6."]


def _task() -> Task:
    return Task(
        dataset=[
            Sample(id=str(i), input=q, target="7", metadata={"kind": "math"}) for i, q in enumerate(QUESTIONS)
        ],
        solver=budget_forcing(max_thinking_tokens=20, num_extensions=1, max_answer_tokens=8),
        scorer=answer(),
    )


@pytest.mark.slow
def test_s1openai_runs_the_solver_through_the_openai_engine(tiny_engine, tiny_model_path, tmp_path):
    hf_model = get_model(f"s1hf/{tiny_model_path}", memoize=False)
    (hf_log,) = eval(_task(), model=hf_model, log_dir=str(tmp_path / "hf"), display="none")
    with FakeVLLMServer(tiny_engine, "tiny") as server:
        model = get_model(
            "s1openai/tiny", base_url=server.base_url, memoize=False, tokenizer=str(tiny_model_path)
        )
        (log,) = eval(_task(), model=model, log_dir=str(tmp_path / "openai"), display="none")
        assert server.completions > 0
    assert log.status == hf_log.status == "success"
    assert type(model.api.engine).__name__ == "OpenAIEngine"
    want = {s.id: (s.metadata["ledger"], s.output.message.text) for s in hf_log.samples}
    got = {s.id: (s.metadata["ledger"], s.output.message.text) for s in log.samples}
    assert got == want
