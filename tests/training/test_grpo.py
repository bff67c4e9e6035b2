"""The GRPO recipe end to end on CPU: `s1eval train grpo_cpu_tiny` with real TRL and a real tiny model, checked
from its rollout log (budgets, seeds, rewards against the scorer, env_mask against the ledger), plus resume
and the one-line config errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from s1eval.control.seeds import sample_seed
from s1eval.errors import ConfigError
from s1eval.scoring import score_sample
from s1eval.training.cli import train_command
from s1eval.training.dispatch import train
from s1eval.training.recipe import CONFIG_DIR, SUMMARY_FILE
from s1eval.training.rewards import adherence_penalty, gold_answer
from s1eval.training.rollout import ROLLOUTS_FILE, completion_tokens, token_methods

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")
BUDGET, GROUP, BATCH, WEIGHT = 32, 4, 8, 0.5  # grpo_cpu_tiny.yaml


@pytest.fixture(scope="module")
def eager_model(tiny_model_path, tmp_path_factory):
    """The tiny model, nudged to write the end-of-thinking marker often, so rollouts end their thinking early
    (an extension is forced, thinking lengths vary, the adherence reward differs inside a group, GRPO has
    advantages to learn from); the plain random model always runs to the cap."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("eager")
    shutil.copytree(tiny_model_path, out, dirs_exist_ok=True)
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    ids = tok(
        "What is 3 + 4? Let me think step by step. First, add the numbers.", return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        direction = model.model(ids).last_hidden_state[0].mean(0)
        model.lm_head.weight[tok.convert_tokens_to_ids("<|im_start|>")] += 4.0 * direction / direction.norm()
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def run(eager_model, tmp_path_factory):
    """`s1eval train grpo_cpu_tiny --max-steps 2`, then `--resume --max-steps 3` from its checkpoint-2."""
    out = tmp_path_factory.mktemp("grpo") / "out"
    model = ["--model_name_or_path", str(eager_model)]
    runner = CliRunner()
    first = runner.invoke(
        train_command, ["grpo_cpu_tiny", "--max-steps", "2", "--output-dir", str(out), *model]
    )
    assert first.exit_code == 0, first.output[-3000:]
    rows_after_first = [json.loads(line) for line in (out / ROLLOUTS_FILE).read_text().splitlines()]
    summary = json.loads((out / SUMMARY_FILE).read_text())
    second = runner.invoke(
        train_command, ["grpo_cpu_tiny", "--max-steps", "3", "--output-dir", str(out), "--resume", *model]
    )
    assert second.exit_code == 0, second.output[-3000:]
    return {
        "out": out,
        "stdout": first.stdout,
        "rows": rows_after_first,
        "summary": summary,
        "resumed": json.loads((out / SUMMARY_FILE).read_text()),
        "resumed_rows": [json.loads(line) for line in (out / ROLLOUTS_FILE).read_text().splitlines()],
        "base": eager_model,
    }


def test_one_rollout_per_prompt_entry_in_groups_of_num_generations(run):
    rows, summary = run["rows"], run["summary"]
    assert summary["global_step"] == 2 and summary["generation_batch_size"] == BATCH
    assert summary["num_generations"] == GROUP
    assert len(rows) == 2 * BATCH == summary["rollouts_this_run"]  # steps x generation batch
    assert json.loads(run["stdout"].strip().splitlines()[-1])["global_step"] == 2
    for step in (1, 2):
        batch = [r for r in rows if r["step"] == step]
        assert len(batch) == BATCH
        # TRL's RepeatSampler repeats each prompt G times in a row: one completion per entry, G per question
        for g in range(0, BATCH, GROUP):
            group = batch[g : g + GROUP]
            assert len({r["id"] for r in group}) == 1 and len({r["prompt"] for r in group}) == 1
            assert [r["repeat"] for r in group] == [(step - 1) * GROUP + j for j in range(GROUP)]
            assert len({r["seed"] for r in group}) == GROUP  # the samples of a group differ
            for r in group:
                assert r["seed"] == sample_seed(0, r["id"], r["repeat"])


def test_thinking_stays_within_the_budget_and_the_rollouts_vary(run):
    rows = run["rows"]
    for r in rows:
        assert r["ledger"]["method"] == "bf" and r["ledger"]["budget"] == BUDGET
        assert r["ledger"]["thinking_tokens"] <= BUDGET
    assert any(r["ledger"]["extensions"] == 1 for r in rows)  # the "Wait" was forced somewhere
    assert len({r["ledger"]["thinking_tokens"] for r in rows}) > 1


def test_rewards_are_the_scorers_verdict_and_l1_adherence(run):
    lines = (CONFIG_DIR / "data" / "arith32.jsonl").read_text().splitlines()
    golds = {row["id"]: gold_answer(row["answer"], "integer") for row in map(json.loads, lines)}
    for r in run["rows"]:
        assert r["gold"] == golds[r["id"]]
        fresh = score_sample(r["answer"], r["thinking"], r["gold"], "integer", r["ledger"]["outcome"])
        assert r["rewards"]["correctness"] == (1.0 if fresh.correct else 0.0)
        assert (r["correct"], r["pred"], r["outcome"]) == (fresh.correct, fresh.pred, fresh.outcome)
        thinking = r["ledger"]["thinking_tokens"]
        assert r["rewards"]["budget_adherence"] == pytest.approx(-WEIGHT * abs(thinking - BUDGET) / BUDGET)
        assert r["rewards"]["budget_adherence"] == adherence_penalty(thinking, BUDGET, WEIGHT)
    summary = run["summary"]
    assert summary["rewards"] == ["correctness", "budget_adherence"]
    assert set(summary["last_logged_rewards"]) == {"correctness", "budget_adherence"}
    assert summary["last_logged_reward"] is not None and summary["first_logged_reward"] is not None


def test_env_mask_zeroes_exactly_the_forced_tokens(run, eager_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(eager_model)
    stops = {tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id}
    for r in run["rows"]:
        ids, mask, ledger = r["completion_ids"], r["env_mask"], r["ledger"]
        assert len(ids) == len(mask) and set(mask) <= {0, 1}
        # the end-of-thinking marker the model sampled (s1: the delimiter starts with it) is its own token
        last = [rd for rd in ledger["rounds"] if rd["phase"] == "think"][-1]
        sampled = int(last["stop"] == "delimiter" and last.get("forced", "").startswith("<|im_start|>"))
        assert mask.count(0) == ledger["forced_tokens"] - sampled
        # the masked runs, decoded, are the forced texts of the ledger's rounds, in order
        runs, current = [], []
        for token, m in zip(ids, mask, strict=True):
            if m == 0:
                current.append(token)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        forced = "".join(rd.get("forced", "") for rd in ledger["rounds"] if rd["phase"] == "think")
        masked = "".join(tok.decode(run_) for run_ in runs)
        assert masked == (forced.replace("<|im_start|>", "", 1) if sampled else forced)
        # the rest is what the model generated: thinking + answer (+ the answer's stop token it wrote)
        ended_on_stop = ids[-1] in stops and mask[-1] == 1
        assert mask.count(1) == ledger["thinking_tokens"] + ledger["answer_tokens"] + ended_on_stop + sampled
        assert tok.decode(r["prompt_ids"]) == r["prompt"]
        assert r["completion"] == tok.decode(ids)
    assert any(0 in r["env_mask"][: -ledger_tail(r)] for r in run["rows"])  # a "Wait" mid-completion


def ledger_tail(row: dict) -> int:
    """Tokens from the end of the thinking on (the delimiter, the prefix, the answer)."""
    last = [rd for rd in row["ledger"]["rounds"] if rd["phase"] == "think"][-1]
    return last["forced_tokens"] + row["ledger"]["answer_tokens"] + 1


def test_the_policy_moved_and_was_saved(run):
    from safetensors.torch import load_file

    base = load_file(str(Path(run["base"]) / "model.safetensors"))
    trained = load_file(str(run["out"] / "checkpoint-2" / "model.safetensors"))
    assert any(not torch.equal(base[k], trained[k]) for k in base)
    state = json.loads((run["out"] / "checkpoint-2" / "trainer_state.json").read_text())
    assert any(e.get("grad_norm", 0) > 0 for e in state["log_history"])


def test_resume_keeps_the_logged_steps_and_continues(run):
    resumed, rows = run["resumed"], run["resumed_rows"]
    assert Path(resumed["resumed_from"]).name == "checkpoint-2"
    assert resumed["global_step"] == 3 and resumed["steps_this_run"] == 1
    assert resumed["rollouts_this_run"] == BATCH
    assert rows[: 2 * BATCH] == run["rows"]
    assert [r["step"] for r in rows[2 * BATCH :]] == [3] * BATCH
    assert {r["repeat"] for r in rows[2 * BATCH :]} == {2 * GROUP + j for j in range(GROUP)}


def test_config_mistakes_are_one_line_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((CONFIG_DIR / "grpo_cpu_tiny.yaml").read_text().replace("trainer: grpo", "trainer: ppo"))
    with pytest.raises(ConfigError) as exc:
        train(bad, output_dir=tmp_path / "out")
    assert "unknown trainer 'ppo'" in str(exc.value) and "sft, grpo" in str(exc.value)
    for args, words in (
        (["--max_thinking_tokens", "0"], "max_thinking_tokens must be a positive"),
        (["--method", "vote"], "not run at a token budget"),
        (["--kind", "words"], "unknown answer kind"),
        (["--num_extensions", "-1"], "num_extensions"),
        (["--reward_weights", "1.0"], "reward_weights has 1 values for 2 rewards"),
        (["--num_generations", "3"], "divisible by num_generations"),
    ):
        with pytest.raises(ConfigError) as exc:
            train("grpo_cpu_tiny", args, output_dir=tmp_path / "out")
        assert words in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ConfigError, match="unknown settings thinking_field"):
        train("cpu_tiny", ["--trainer", "grpo"], output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before anything was built


def test_a_method_without_token_ids_is_refused_by_name(tiny_engine):
    from s1eval.control.methods import prepare_method

    prepared = prepare_method(
        tiny_engine, "vote", {"n": 2, "max_thinking_tokens": 8, "max_answer_tokens": 4}, "s1"
    )
    [result] = prepared.run(["What is 1 + 2?"], budgets=[2], seeds=[0])[2]
    with pytest.raises(ConfigError) as exc:
        completion_tokens(result, "vote")
    assert all(name in str(exc.value) for name in token_methods()) and "\n" not in str(exc.value)


def test_repeated_questions_keep_their_ids_and_conflicting_golds_are_refused():
    from datasets import Dataset

    from s1eval.errors import DataError
    from s1eval.training.rollout import QuestionBook

    rows = Dataset.from_list(
        [
            {"id": "a", "question": "What is 1 + 1?", "answer": "\\boxed{2}"},
            {"id": "b", "question": "What is 1 + 1?", "answer": "2"},
            {"id": "c", "question": "What is 2 + 2?", "answer": "Final Answer: 4"},
        ]
    )
    book = QuestionBook.from_rows(
        rows, question_field="question", answer_field="answer", id_field="id", kind="integer"
    )
    prompts = ["What is 1 + 1?"] * 4 + ["What is 2 + 2?"] * 4 + ["What is 1 + 1?"] * 4
    found = book.lookup(prompts, group=4)
    assert [q.id for q in found] == ["a"] * 4 + ["c"] * 4 + ["b"] * 4
    assert {q.gold for q in found} == {"2", "4"}
    conflicting = Dataset.from_list([{"question": "q", "answer": "1"}, {"question": "q", "answer": "2"}])
    with pytest.raises(DataError, match="same question with different answers"):
        QuestionBook.from_rows(
            conflicting, question_field="question", answer_field="answer", id_field="id", kind="integer"
        )


def test_the_gpu_config_parses_and_the_sft_recipe_refuses_a_grpo_config():
    from s1eval.training.grpo import parse_grpo_config
    from s1eval.training.recipe import parse_config

    recipe = parse_grpo_config("grpo_one_gpu_qwen2.5_1.5b", ["--use_cpu", "true"])
    t, s = recipe.training, recipe.script
    assert (t.num_generations, t.generation_batch_size, t.steps_per_generation) == (8, 32, 4)
    assert (s.method, s.max_thinking_tokens, s.kind, s.answer_field) == ("bf", 2048, "math", "solution")
    assert t.bf16 is True and t.beta == 0.0 and not t.use_vllm
    with pytest.raises(ConfigError, match="not the SFT recipe"):
        parse_config("grpo_cpu_tiny")
