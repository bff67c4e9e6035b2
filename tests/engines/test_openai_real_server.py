"""A real `transformers serve` on 127.0.0.1: budget forcing through the openai engine equals the hf engine, and
a run whose server is killed mid-way resumes from its run store with nothing lost or duplicated."""

from __future__ import annotations

import threading
import time

import pytest
from serve_helpers import ServeProcess, build_text_safe_model

from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.control.methods import get_method
from s1eval.engines.base import EngineError, GenerationRequest
from s1eval.engines.hf import HFEngine
from s1eval.engines.openai import OpenAIEngine
from s1eval.formats.base import S1
from s1eval.formats.prompting import build_prompt
from s1eval.runs.store import RunStore, sample_key

pytestmark = pytest.mark.slow

QUESTIONS = [
    f"What is {a} + {b}?" for a, b in [(3, 4), (1, 2), (5, 6), (7, 8), (2, 9), (10, 3), (4, 4), (6, 1)]
]
CONFIG = BudgetForcingConfig(max_thinking_tokens=24, num_extensions=2, max_answer_tokens=12)
BUDGETS = [12, 24]


@pytest.fixture(scope="module")
def safe_model(tmp_path_factory):
    return build_text_safe_model(tmp_path_factory.mktemp("text-safe-tiny"))


@pytest.fixture(scope="module")
def reference(safe_model):
    hf = HFEngine(str(safe_model), batch_size=8)
    out = get_method("bf").run(hf, S1, QUESTIONS, CONFIG, budgets=BUDGETS)
    return {b: [(r.output, r.ledger.to_dict()) for r in rs] for b, rs in out.items()}


def _run(engine: OpenAIEngine, store: RunStore) -> int:
    """A minimal resumable runner (one question per step, as `s1eval eval` does with its chunks)."""
    done = store.done()
    ran = 0
    for i, question in enumerate(QUESTIONS):
        prompt = build_prompt(engine.tokenizer, S1, question)
        keys = {
            b: sample_key(engine.model_id, engine.describe(), prompt, "bf", {"n": 2}, b, None)
            for b in BUDGETS
        }
        if all(k in done for k in keys.values()):
            continue
        res = get_method("bf").run(engine, S1, [question], CONFIG, budgets=BUDGETS)
        rows = [
            {
                "key": keys[b],
                "id": str(i),
                "budget": b,
                "output": res[b][0].output,
                "ledger": res[b][0].ledger.to_dict(),
            }
            for b in BUDGETS
        ]
        for row in rows:
            row["outcome"] = row["ledger"]["outcome"]
        store.append(rows)
        ran += 1
    return ran


def test_transformers_serve_matches_hf_and_resumes_after_a_kill(safe_model, reference, tmp_path):
    log = tmp_path / "serve.log"
    store = RunStore(tmp_path / "run")
    with ServeProcess(safe_model) as server:
        server.start(log)
        engine = OpenAIEngine(
            str(safe_model), server.base_url, max_concurrency=4, max_retries=2, backoff=0.05
        )
        assert engine.server == "transformers" and not engine.prompt_as_ids

        # 1. the whole batch at once: same answers and ledgers as the hf engine under greedy decoding
        out = get_method("bf").run(engine, S1, QUESTIONS, CONFIG, budgets=BUDGETS)
        got = {b: [(r.output, r.ledger.to_dict()) for r in rs] for b, rs in out.items()}
        assert got == reference
        assert engine.stats["token_count_mismatches"] == 0

        # bad input against the real server: a wrong model name, vLLM-only options it does not have
        ping = [GenerationRequest(context_ids=engine.tokenizer.encode("Hi"), max_new_tokens=2)]
        wrong = OpenAIEngine("no-such-model", server.base_url, tokenizer=str(safe_model), max_retries=0)
        with pytest.raises(EngineError, match=r"does not serve 'no-such-model'.*pass model one of"):
            wrong.generate(ping)
        as_vllm = OpenAIEngine(str(safe_model), server.base_url, server="vllm", max_retries=0)
        with pytest.raises(EngineError, match=r"rejected the request options.*server=transformers"):
            as_vllm.generate(ping)

        # 2. a stored run, its server killed once a few samples are written
        def kill_when_started() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if store.samples_path.exists() and len(store.samples_path.read_bytes().splitlines()) >= 4:
                    server.kill()
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_when_started)
        killer.start()
        with pytest.raises(EngineError, match="cannot reach the server|server kept failing"):
            _run(engine, store)
        killer.join()
    partial = len(store.records())
    assert 4 <= partial < 2 * len(QUESTIONS)

    # 3. a restart on another port resumes: only the missing questions run, none twice
    with ServeProcess(safe_model) as server:
        server.start(log)
        engine = OpenAIEngine(str(safe_model), server.base_url, max_concurrency=4)
        ran = _run(engine, store)
    records = store.records()
    assert ran == len(QUESTIONS) - partial // 2
    keys = [r["key"] for r in records]
    assert len(keys) == len(set(keys)) == len(QUESTIONS) * len(BUDGETS)
    for b in BUDGETS:
        rows = sorted((r for r in records if r["budget"] == b), key=lambda r: int(r["id"]))
        assert [(r["output"], r["ledger"]) for r in rows] == [tuple(x) for x in reference[b]]
