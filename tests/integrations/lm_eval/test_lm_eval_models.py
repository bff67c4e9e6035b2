"""The s1_* lm-eval models on a tiny real model: requests in, answer text + ledger out, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from lm_eval.api.instance import Instance  # noqa: E402

from s1eval.errors import ConfigError  # noqa: E402
from s1eval.integrations.lm_eval.models import S1BudgetForcingLM  # noqa: E402
from s1eval.integrations.lm_eval.register import register  # noqa: E402

OWN_DOC = {"id": "q1", "question": "What is 3+4?", "answer": "7", "kind": "math", "source": "s1eval:math500"}
STOCK_DOC = {"Problem": "What is 3+4?", "Answer": 7}


def request(context: str, gen_kwargs: dict, doc: dict | None = None, idx: int = 0) -> Instance:
    return Instance("generate_until", doc or STOCK_DOC, (context, gen_kwargs), idx, ("t", idx, 1))


@pytest.fixture(scope="module")
def lm(tiny_model_path):
    return S1BudgetForcingLM(
        pretrained=str(tiny_model_path),
        max_thinking_tokens=16,
        max_answer_tokens=8,
        batch_size=4,
        device="cpu",
    )


def test_generate_until_returns_the_answer_and_a_ledger_within_budget(lm):
    reqs = [
        request(f"Question: {i}+1?\nAnswer:", {"until": ["Question:"], "do_sample": False}) for i in range(3)
    ]
    out = lm.generate_until(reqs)
    assert len(out) == 3
    for text in out:
        ledger = text.ledger
        assert ledger["method"] == "bf" and ledger["budget"] == 16
        assert ledger["thinking_tokens"] <= 16 and ledger["answer_tokens"] <= 8
        assert text == text.answer and "Question:" not in text  # a stock task scores the answer phase only
        assert lm.fmt.think_end not in text


def test_gen_kwargs_override_the_budget_and_cap_the_answer(lm):
    (text,) = lm.generate_until([request("2+2?", {"until": [], "max_thinking_tokens": 6, "max_gen_toks": 3})])
    assert text.ledger["budget"] == 6 and text.ledger["thinking_tokens"] <= 6
    assert text.ledger["answer_tokens"] <= 3


def test_own_tasks_get_the_whole_output_for_the_samples_log(lm):
    (text,) = lm.generate_until([request("What is 3+4?", {"until": ["<|im_end|>"]}, doc=OWN_DOC)])
    assert text == text.output and text.output.startswith(text.thinking) and lm.fmt.think_end in text


def test_chat_template_renders_the_methods_prompt_and_keeps_the_system(lm):
    prompt = lm.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "1+1?"}]
    )
    assert "Be brief." in prompt and prompt.endswith(lm.fmt.think_start)
    assert lm.chat.parts(prompt) == ("Be brief.", "1+1?")
    (text,) = lm.generate_until([request(prompt, {"until": []})])
    assert text.ledger["thinking_tokens"] <= 16
    assert lm.tokenizer_name and lm.chat_template()


def test_a_message_list_context_is_read_as_its_parts(lm):
    # lm-eval's main branch hands chat histories to models as message lists, not rendered strings
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "1+1?\nAnswer:"}]
    assert lm.chat.parts(history) == ("Be brief.", "1+1?")
    (text,) = lm.generate_until([request(history, {"until": []})])
    (from_string,) = lm.generate_until([request(lm.apply_chat_template(history), {"until": []})])
    assert text.output == from_string.output and text.ledger == from_string.ledger


def test_loglikelihood_requests_get_a_clear_error(lm):
    with pytest.raises(ConfigError, match="only generates text"):
        lm.loglikelihood([])


def test_results_config_names_method_settings_and_budget(lm):
    info = lm.get_model_info()["s1"]
    assert info["method"] == "bf" and info["budget"] == 16 and info["settings"]["max_answer_tokens"] == 8
    assert info["engine"]["engine"] == "hf"
    json.dumps(info)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_thinking_tokens": 0}, "max_thinking_tokens must be a positive integer"),
        ({"max_thinking_tokens": 8, "max_thinking_tokns": 4}, "unknown model arg(s) max_thinking_tokns"),
    ],
)
def test_bad_settings_fail_before_the_model_loads(kwargs, needle):
    with pytest.raises(ConfigError) as info:
        S1BudgetForcingLM(pretrained="/nonexistent/model", **kwargs)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_every_registered_method_runs_through_lm_eval(tiny_model_path):
    from lm_eval.api.registry import get_model

    added = register()
    assert "s1_bf" in added or get_model("s1_bf") is S1BudgetForcingLM
    tcc = get_model("s1_tcc").create_from_arg_string(
        f"pretrained={tiny_model_path},max_thinking_tokens=8,max_tokens=12,max_answer_tokens=4",
        {"batch_size": 2, "device": None},
    )
    (text,) = tcc.generate_until([request("1+1?", {"until": []})])
    assert text.ledger["method"] == "tcc"


@pytest.mark.slow
def test_simple_evaluate_runs_own_and_stock_tasks(tiny_model_path, tmp_path):
    """s1_math500 and the built-in aime24 config (only its dataset swapped for local rows) via simple_evaluate."""
    import lm_eval
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    from s1eval.integrations.lm_eval.patches import tasks_dir

    register()
    from s1eval.data.shipped import shipped_path

    rows = [json.loads(line) for line in shipped_path("aime24").read_text().splitlines()[:2]]
    local = tmp_path / "aime24.jsonl"
    local.write_text(
        "".join(json.dumps({"Problem": r["problem"], "Answer": int(r["answer"])}) + "\n" for r in rows)
    )
    stock = load_yaml(Path(lm_eval.__file__).parent / "tasks" / "aime" / "aime24.yaml", resolve_func=True)
    stock = {**stock, "dataset_path": "json", "dataset_kwargs": {"data_files": {"train": str(local)}}}

    results = lm_eval.simple_evaluate(
        model="s1_bf",
        model_args=f"pretrained={tiny_model_path},max_thinking_tokens=12,max_answer_tokens=6",
        tasks=["s1_math500", stock],
        limit=2,
        log_samples=True,
        task_manager=TaskManager(include_defaults=False, include_path=str(tasks_dir())),
        bootstrap_iters=0,
    )
    assert results["config"]["s1"]["method"] == "bf" and results["config"]["s1"]["budget"] == 12
    for task in ("s1_math500", "aime24"):
        assert "exact_match,none" in results["results"][task]
        assert results["results"][task]["s1_ledger,none"] == 1.0
        samples = results["samples"][task]
        assert len(samples) == 2
        for sample in samples:
            ledger = sample["s1_ledger"]
            assert ledger["budget"] == 12 and ledger["thinking_tokens"] <= 12 and ledger["answer_tokens"] <= 6
    for sample in results["samples"][
        "aime24"
    ]:  # a stock task logs the answer; the thinking is kept beside it
        assert (
            sample["s1_ledger"]["thinking"] and sample["s1_ledger"]["thinking"] not in sample["resps"][0][0]
        )
    aime_prompt = results["samples"]["aime24"][0]["arguments"][0][0]
    assert aime_prompt.endswith("Answer:")  # lm-eval's own context; the wrapper drops the cue itself
    assert "outcome_truncated,none" in results["results"]["s1_math500"]
