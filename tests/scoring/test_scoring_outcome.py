"""Every outcome class, from the ledger outcome and what the text holds."""

import pytest

from s1eval.errors import ConfigError
from s1eval.scoring import classify, score_sample
from s1eval.scoring import outcome as outcome_mod
from s1eval.scoring.classes import OUTCOMES
from s1eval.scoring.equivalence import Equivalence


def test_answered():
    s = score_sample("The final answer is $\\boxed{\\frac{1}{2}}$.", "thinking...", "0.5", "math")
    assert (s.pred, s.correct, s.outcome, s.source) == ("\\frac{1}{2}", True, "answered", "answer")


def test_answered_but_wrong_is_still_answered():
    s = score_sample("\\boxed{3}", "", "4", "aime")
    assert (s.correct, s.outcome) == (False, "answered")


def test_forced_is_kept():
    s = score_sample(" 204", "long thinking", "204", "aime", "forced")
    assert (s.pred, s.correct, s.outcome) == ("204", True, "forced")


def test_falls_back_to_the_end_of_the_thinking():
    s = score_sample("", "lots of work ... so the result is \\boxed{C}", "C", "gpqa", "forced")
    assert (s.pred, s.correct, s.source) == ("C", True, "thinking")


def test_truncated_without_answer_stays_truncated():
    s = score_sample("Let me compute the sum of all the", "we need to think", "5", "math", "truncated")
    assert (s.pred, s.correct, s.outcome) == (None, False, "truncated")


def test_truncated_with_answer_is_scored_and_stays_truncated():
    s = score_sample("\\boxed{5} and some more words that were cut", "", "5", "math", "truncated")
    assert (s.correct, s.outcome) == (True, "truncated")


def test_no_answer():
    s = score_sample("I am not sure how to do this problem.", "hmm, hard", "5", "math", "answered")
    assert (s.pred, s.correct, s.outcome) == (None, False, "no_answer")


def test_engine_error_is_kept_and_not_scored():
    s = score_sample("\\boxed{5}", "", "5", "math", "engine_error")
    assert (s.pred, s.correct, s.outcome) == (None, False, "engine_error")


def test_parser_timeout_is_extraction_failed():
    s = score_sample("\\boxed{9^{9^{9^{9}}}}", "", "3", "math", timeout_s=1)
    assert (s.correct, s.outcome) == (False, "extraction_failed")
    assert "timeout" in s.reason


def test_parser_crash_is_extraction_failed(monkeypatch):
    monkeypatch.setattr(outcome_mod, "check_equivalence", lambda *a, **k: Equivalence(False, "crash: boom"))
    s = score_sample("\\boxed{5}", "", "5", "math")
    assert (s.outcome, s.correct) == ("extraction_failed", False)


def test_extraction_crash_is_extraction_failed(monkeypatch):
    def explode(text, kind):
        raise RecursionError("too deep")

    monkeypatch.setattr(outcome_mod, "extract_answer", explode)
    s = score_sample("\\boxed{5}", "", "5", "math", "forced")
    assert (s.outcome, s.pred) == ("extraction_failed", None)


def test_every_outcome_class_is_reachable():
    seen = {
        score_sample("\\boxed{1}", "", "1", "math").outcome,
        score_sample("\\boxed{1}", "", "1", "math", "forced").outcome,
        score_sample("cut mid sentence and", "", "1", "math", "truncated").outcome,
        score_sample("no idea whatsoever", "", "1", "math").outcome,
        score_sample("\\boxed{9^{9^{9^{9}}}}", "", "1", "math", timeout_s=0.5).outcome,
        score_sample("", "", "1", "math", "engine_error").outcome,
    }
    assert seen == set(OUTCOMES)


def test_bad_inputs_are_config_errors():
    with pytest.raises(ValueError):
        classify("exploded", "1")
    with pytest.raises(ConfigError):
        score_sample("\\boxed{1}", "", "1", "poetry")


def test_to_dict():
    assert score_sample("\\boxed{1}", "", "1", "math").to_dict()["outcome"] == "answered"


def test_thinking_fallback_needs_a_marked_answer():
    working = "so far $x = 3$ and option (B) looks wrong, let me check $y$"
    s = score_sample("", working, "3", "math", "forced")
    assert (s.pred, s.outcome) == (None, "no_answer")
    s = score_sample("", working, "B", "gpqa", "forced")
    assert (s.pred, s.outcome) == (None, "no_answer")
    s = score_sample("", working + "\nso the answer is 3.", "3", "math", "forced")
    assert (s.pred, s.correct, s.source) == ("3", True, "thinking")
