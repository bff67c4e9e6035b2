"""The portable path: s1eval solvers on Inspect's own providers (vllm/, openai-api/) through `generate()`.

vLLM cannot run here, so the server is `FakeVLLMServer` (tests/engines/fake_server.py), shaped like
`vllm serve`'s chat API (`continue_final_message`, `stop_token_ids`, `min_tokens`,
`include_stop_str_in_output`), in front of either the scripted engine (whose text round-trips through the
tokenizer, so the portable path must match the s1 provider exactly) or the real tiny model. Inspect's own
`vllm` and `openai-api` providers talk to it over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import ModelEvent, read_eval_log
from inspect_ai.solver._solver import solver_create

from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.formats import S1
from s1eval.integrations.inspect import answer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engines"))
from fake_server import FakeVLLMServer  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
THINKING = "First I add six sevens.|Then I check the sum again."
PORTABLE_FIELDS = (
    "token_counts",
    "provider",
    "provider_rounds",
    "provider_input_tokens",
    "provider_output_tokens",
)


def _task(**solver_args) -> Task:
    samples = [
        Sample(id="mul", input="What is 6 * 7?", target="42", metadata={"kind": "math"}),
        Sample(id="add", input="What is 40 + 2?", target="42", metadata={"kind": "math"}),
    ]
    return Task(
        dataset=samples, solver=solver_create("s1eval/budget_forcing", **solver_args), scorer=answer()
    )


def _run(task: Task, model: str, tmp_path: Path, **kwargs):
    (log,) = eval(task, model=model, log_dir=str(tmp_path / "logs"), display="none", **kwargs)
    assert log.status == "success", log.error
    return {s.id: s for s in log.samples}


@pytest.fixture(scope="module")
def scripted_server(tiny_model_path):
    # one server for the module: Inspect keeps a provider per model name and base URL for the process
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))
    segments = THINKING.split("|")
    script = ThinkingScript(S1, segments, "The answer is \\boxed{42}.")

    def stateless(context: str, _calls: int) -> str:
        # a server sees no sequence identity: the round is how many segments the context already holds
        return script(context, sum(segment in context for segment in segments))

    with FakeVLLMServer(FakeEngine(tokenizer, stateless), "tiny") as server:
        yield server


@pytest.mark.parametrize("extensions", [0, 1])
def test_vllm_provider_matches_the_s1_provider_round_for_round(
    scripted_server, tiny_model_path, tmp_path, extensions
):
    args = {"max_thinking_tokens": 40, "num_extensions": extensions, "max_answer_tokens": 24}
    first_body = len(scripted_server.bodies)
    portable = _run(
        _task(**args, tokenizer=str(tiny_model_path)),
        "vllm/tiny",
        tmp_path,
        model_base_url=scripted_server.base_url,
    )
    fast = _run(
        _task(**args),
        "s1fake/tiny",
        tmp_path,
        model_args={"tokenizer": str(tiny_model_path), "thinking": THINKING},
    )
    for sid, sample in portable.items():
        ledger = dict(sample.metadata["ledger"])
        extra = {k: ledger.pop(k) for k in PORTABLE_FIELDS}
        assert ledger == fast[sid].metadata["ledger"]  # the same forcing, the same counts
        assert sample.output.completion == fast[sid].output.completion
        assert sample.metadata["s1eval"]["answer"] == fast[sid].metadata["s1eval"]["answer"]
        assert extra["token_counts"] == "retokenized" and extra["provider"] == "vllm"
        rounds = ledger["rounds"]
        assert extra["provider_rounds"] == len(rounds) == 2 + extensions
        assert ledger["extensions"] == extensions
        # Inspect's own model events, one per round, each continuing the assistant message so far
        events = [e for e in sample.events if isinstance(e, ModelEvent)]
        assert len(events) == len(rounds)
        for event in events:
            assert event.input[-1].role == "assistant" and event.input[-1].text.startswith(S1.think_start)
            assert event.config.max_tokens is not None and event.output.usage is not None
        answer_prefill = events[-1].input[-1].text  # the answer round continues thinking + its end delimiter
        assert answer_prefill.endswith(S1.think_end) and ("Wait" in answer_prefill) == (extensions > 0)
        assert sum(e.output.usage.output_tokens for e in events) == extra["provider_output_tokens"]
    bodies = scripted_server.bodies[first_body:]
    assert all(b["continue_final_message"] and not b["add_generation_prompt"] for b in bodies)
    assert any(b["min_tokens"] > 0 for b in bodies) == (extensions > 0)  # the end of thinking suppressed


def test_every_request_fits_the_models_context(scripted_server, tiny_model_path, tmp_path):
    # tcc's thinking round asks for its 32768-token safety limit; a server refuses prompt + max_tokens beyond
    # max_model_len, so the engine clamps each request to the context (4096 for the tiny model)
    first_body = len(scripted_server.bodies)
    task = Task(
        dataset=[Sample(id="q", input="What is 6 * 7?", target="42", metadata={"kind": "math"})],
        solver=solver_create("s1eval/tcc", max_thinking_tokens=16, tokenizer=str(tiny_model_path)),
        scorer=answer(),
    )
    _run(task, "vllm/tiny", tmp_path, model_base_url=scripted_server.base_url)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_path))
    bodies = scripted_server.bodies[first_body:]
    assert bodies
    for body in bodies:
        prompt = tok.apply_chat_template(
            body["messages"], tokenize=False, add_generation_prompt=False, continue_final_message=True
        )
        assert len(tok.encode(prompt, add_special_tokens=False)) + body["max_tokens"] <= 4096


def test_openai_api_provider_against_a_vllm_server(scripted_server, tiny_model_path, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKEVLLM_BASE_URL", scripted_server.base_url)
    monkeypatch.setenv("FAKEVLLM_API_KEY", "unused")
    samples = _run(
        _task(max_thinking_tokens=40, num_extensions=1, tokenizer=str(tiny_model_path)),
        "openai-api/fakevllm/tiny",
        tmp_path,
    )
    for sample in samples.values():
        assert sample.metadata["ledger"]["provider"] == "openai-api"
        assert sample.metadata["ledger"]["extensions"] == 1
        assert "42" in sample.metadata["s1eval"]["answer"]
        assert next(iter(sample.scores.values())).value == "C"


def test_the_real_tiny_model_through_the_vllm_provider_stays_within_budget(
    tiny_engine, tiny_model_path, tmp_path
):
    with FakeVLLMServer(tiny_engine, "tiny") as server:
        samples = _run(
            _task(
                max_thinking_tokens=16, num_extensions=1, max_answer_tokens=8, tokenizer=str(tiny_model_path)
            ),
            "vllm/tiny",
            tmp_path,
            model_base_url=server.base_url,
        )
    for sample in samples.values():
        ledger = sample.metadata["ledger"]
        assert ledger["token_counts"] == "retokenized"
        # the budget is the provider's max_tokens: what it generated per round is within it, whatever the
        # retokenized count of a random model's byte soup comes to
        events = [e for e in sample.events if isinstance(e, ModelEvent)]
        think = events[: len(events) - 1]
        assert sum(e.output.usage.output_tokens for e in think) <= 16 + len(
            think
        )  # + each round's stop token
        assert ledger["provider_output_tokens"] == sum(e.output.usage.output_tokens for e in events)


def _inspect_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "INSPECT_DISPLAY": "none"}
    return subprocess.run(
        [str(BIN / "inspect"), "eval", "tasks/aime24.py", *args, "--log-dir", str(tmp_path / "logs")],
        cwd=REPO,
        env=env | {"PWD": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_inspect_eval_command_on_the_vllm_provider(scripted_server, tiny_model_path, tmp_path):
    proc = _inspect_cli(
        tmp_path,
        "--model", "vllm/tiny", "--model-base-url", scripted_server.base_url,
        "-T", "limit=2", "-T", "max_thinking_tokens=40", "-T", "num_extensions=1",
        "-T", f"tokenizer={tiny_model_path}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "success" and len(log.samples) == 2
    for sample in log.samples:
        ledger = sample.metadata["ledger"]
        assert ledger["token_counts"] == "retokenized" and ledger["extensions"] == 1
        assert len([e for e in sample.events if isinstance(e, ModelEvent)]) == ledger["provider_rounds"] == 3


@pytest.mark.slow
def test_inspect_hf_provider_is_refused_in_one_line_naming_the_fix(tiny_model_path, tmp_path):
    proc = _inspect_cli(
        tmp_path, "--model", f"hf/{tiny_model_path}", "-T", "limit=1", "-T", "max_thinking_tokens=8"
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    (path,) = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "error"  # the eval's error, as Inspect shows it: one line, no traceback in it
    line = log.error.message
    assert "\n" not in line and "Traceback" not in line
    assert (
        "cannot drive" in line
        and "add_generation_prompt=True" in line
        and "s1hf/" in line
        and "vllm/" in line
    )
