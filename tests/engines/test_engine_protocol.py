"""The Engine protocol's optional members come from EngineBase; an engine without them gets a one-line error."""

from __future__ import annotations

import pytest

from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing
from s1eval.engines import EngineBase
from s1eval.engines.fake import FakeEngine, ThinkingScript
from s1eval.errors import ConfigError
from s1eval.formats import S1


class OldStyleEngine:
    """generate + describe only: what an engine written before drive/release/close joined the protocol has."""

    name = "mine"
    model_id = "mine"

    def __init__(self, inner: FakeEngine):
        self.inner, self.tokenizer = inner, inner.tokenizer

    def describe(self) -> dict:
        return {"engine": "mine"}

    def generate(self, requests):
        return self.inner.generate(requests)


class NewStyleEngine(EngineBase, OldStyleEngine):
    pass


def _fake(tiny_tokenizer) -> FakeEngine:
    return FakeEngine(tiny_tokenizer, ThinkingScript(S1, ["3 4 7"], answer="Final Answer: 7"))


def test_an_engine_without_the_protocol_members_is_told_to_subclass_engine_base(tiny_tokenizer):
    with pytest.raises(ConfigError, match="subclass s1eval.engines.EngineBase") as err:
        run_budget_forcing(OldStyleEngine(_fake(tiny_tokenizer)), S1, ["3+4?"], BudgetForcingConfig(8))
    assert "drive" in str(err.value) and "\n" not in str(err.value)


def test_engine_base_gives_the_defaults_and_the_same_result(tiny_tokenizer):
    config = BudgetForcingConfig(max_thinking_tokens=8)
    ours = run_budget_forcing(NewStyleEngine(_fake(tiny_tokenizer)), S1, ["3+4?"], config)
    theirs = run_budget_forcing(_fake(tiny_tokenizer), S1, ["3+4?"], config)
    assert [r.output for r in ours] == [r.output for r in theirs]
    assert [r.ledger.to_dict() for r in ours] == [r.ledger.to_dict() for r in theirs]
