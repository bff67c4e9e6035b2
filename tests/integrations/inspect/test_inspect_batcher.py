"""The batcher: concurrent per-sample method runs share engine calls and give what one batched run gives."""

from __future__ import annotations

import anyio
import pytest

from s1eval.control.budget_forcing import BudgetForcingConfig
from s1eval.control.methods import get_method
from s1eval.engines.base import EngineBase, GenerationRequest
from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.formats import S1
from s1eval.integrations.inspect.batcher import EngineBatcher

QUESTIONS = ["What is 3 + 4?", "Compute 2*6.", "Add 1 and 2.", "What is 10 - 3?"]


async def _concurrent(batcher: EngineBatcher, questions, config, method="bf", stagger_s: float = 0.0):
    """Each question as its own task (like Inspect's samples), optionally starting at different times."""
    out: dict[int, object] = {}
    bf = get_method(method)

    async def one(i: int, q: str) -> None:
        await anyio.sleep(stagger_s * i)
        res = await batcher.run_sync(lambda engine: bf.run(engine, S1, [q], config))
        out[i] = res[config.max_thinking_tokens][0]

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for i, q in enumerate(questions):
                tg.start_soon(one, i, q)
    return [out[i] for i in range(len(questions))]


def _same(a, b) -> None:
    assert a.ledger.to_dict() == b.ledger.to_dict()
    assert (a.thinking, a.answer, a.output) == (b.thinking, b.answer, b.output)


@pytest.mark.slow
def test_concurrent_samples_share_calls_and_match_one_batched_run(tiny_engine):
    config = BudgetForcingConfig(max_thinking_tokens=24, num_extensions=1, max_answer_tokens=10)
    direct = get_method("bf").run(tiny_engine, S1, QUESTIONS, config)[24]
    batcher = EngineBatcher(tiny_engine)
    reused_before = tiny_engine.stats["reused_tokens"]
    via = anyio.run(_concurrent, batcher, QUESTIONS, config)
    for a, b in zip(via, direct, strict=True):
        _same(a, b)
        assert a.ledger.thinking_tokens <= 24
    assert batcher.stats["max_sessions_per_call"] == len(QUESTIONS)  # all samples in one call
    assert batcher.stats["calls"] == 2  # one thinking call, one answer call: exactly as a batched run
    assert tiny_engine.stats["reused_tokens"] > reused_before  # the answer phase continued the KV cache


@pytest.mark.slow
def test_samples_that_start_late_join_later_calls(tiny_engine):
    config = BudgetForcingConfig(max_thinking_tokens=16, max_answer_tokens=6)
    direct = get_method("bf").run(tiny_engine, S1, QUESTIONS, config)[16]
    batcher = EngineBatcher(tiny_engine, join_window_s=0.0)
    via = anyio.run(_concurrent, batcher, QUESTIONS, config, "bf", 0.15)
    for a, b in zip(via, direct, strict=True):
        _same(a, b)
    assert batcher.stats["calls"] > 2  # the first sample did not wait for the late ones


def test_extension_rounds_through_the_batcher_match_a_direct_run(tiny_tokenizer):
    def make() -> FakeEngine:
        return FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["First idea.", " Second idea.", " Third."]))

    config = BudgetForcingConfig(max_thinking_tokens=200, num_extensions=2, max_answer_tokens=30)
    direct = get_method("bf").run(make(), S1, QUESTIONS, config)[200]
    engine = make()
    batcher = EngineBatcher(engine)
    via = anyio.run(_concurrent, batcher, QUESTIONS, config)
    for a, b in zip(via, direct, strict=True):
        _same(a, b)
        assert a.ledger.extensions == 2 and a.ledger.outcome == "answered"
    # three thinking rounds and one answer round, every sample in every call
    assert batcher.stats["calls"] == 4 and batcher.stats["max_sessions_per_call"] == 4


class _Broken(EngineBase):
    name = "broken"
    model_id = "broken"
    max_batch_size = None

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def describe(self) -> dict:
        return {"engine": "broken"}

    def generate(self, requests):
        raise RuntimeError("backend exploded")


def test_an_engine_failure_reaches_every_waiting_sample_and_nothing_hangs(tiny_tokenizer):
    batcher = EngineBatcher(_Broken(tiny_tokenizer))
    errors: list[str] = []
    config = BudgetForcingConfig(max_thinking_tokens=8)

    async def main() -> None:
        async def one(q: str) -> None:
            try:
                await batcher.run_sync(lambda engine: get_method("bf").run(engine, S1, [q], config))
            except RuntimeError as exc:
                errors.append(str(exc))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for q in QUESTIONS:
                    tg.start_soon(one, q)

    anyio.run(main)
    assert errors == ["backend exploded"] * len(QUESTIONS)


def test_a_sample_cancelled_while_waiting_leaves_the_batcher_working(tiny_tokenizer):
    engine = FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["Thinking."]))
    batcher = EngineBatcher(engine, join_window_s=0.0)
    request = GenerationRequest(context_ids=tiny_tokenizer.encode("<|im_start|>user\nhi"), max_new_tokens=5)
    log: list[str] = []

    async def main() -> None:
        slow, cancelled = batcher.open(), batcher.open()
        await batcher.submit(slow, [request])  # first call: slow is now live and between steps
        try:
            with anyio.fail_after(0.2):  # waits on slow, which has not submitted its next step
                await batcher.submit(cancelled, [request])
        except TimeoutError:
            log.append("cancelled")
        with anyio.fail_after(10):  # slow's next step must run although the cancelled one never will
            results = await batcher.submit(slow, [request])
        log.append(f"slow got {len(results)}")
        await batcher.close(slow)

    anyio.run(main)
    assert log == ["cancelled", "slow got 1"]
    assert batcher.stats["calls"] == 2
