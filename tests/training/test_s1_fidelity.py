"""The paper config trains on s1's text and s1's loss mask, token for token.

s1's training text comes from `data/tokenization.py` and its mask from `train/sft.py` (TRL 0.12's
`DataCollatorForCompletionOnlyLM`). Both are transcribed below, not imported, and compared with what our recipe
(`paper_s1_32b`, on a tiny offline model and tokenizer) hands to TRL and what TRL then tokenizes.
"""

from __future__ import annotations

import datasets
import pytest

from s1eval.errors import ConfigError, DataError
from s1eval.formats import S1, build_prompt
from s1eval.training.data import example_text, prefix_answer, to_prompt_completion, write_jsonl
from s1eval.training.recipe import build_dataset, build_trainer, parse_config

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

# --- transcribed from simplescaling/s1, data/tokenization.py, commit 77272c6 (process_cot_example) ---------
QUERY_TEMPLATE_NOANSWER = """{Question}""".strip()


def s1_process_cot_example(example: dict, tokenizer) -> dict:
    thinking_trajectory = example["thinking_trajectories"]
    question = example["question"]
    answer = example["attempt"]
    prompt = QUERY_TEMPLATE_NOANSWER.format(Question=question)
    answer = "Answer: " + answer if "Answer:" not in answer else answer
    text = tokenizer.apply_chat_template(
        [
            {"role": "user", "content": prompt},
            {
                "role": "assistant",
                "content": "<|im_start|>think\n"
                + "\n".join(thinking_trajectory).strip()
                + "\n<|im_start|>answer\n"
                + answer.strip(),
            },
        ],
        tokenize=False,
    )
    return dict(text=text)


# --- transcribed from simplescaling/s1, train/sft.py, commit 77272c6: the Qwen templates of the collator ----
INSTRUCTION_TEMPLATE = "<|im_start|>user"
RESPONSE_TEMPLATE = "<|im_start|>assistant\n"


def s1_labels(input_ids: list[int], tokenizer) -> list[int]:
    """trl 0.12.0 `DataCollatorForCompletionOnlyLM.torch_call`, instruction-template branch, one example.

    The pad-label masking of its parent collator is left out: s1's pad token (<|fim_pad|>) never occurs in the text.
    """
    response_token_ids = tokenizer.encode(RESPONSE_TEMPLATE, add_special_tokens=False)
    human_token_ids = tokenizer.encode(INSTRUCTION_TEMPLATE, add_special_tokens=False)
    labels = list(input_ids)
    response_token_ids_idxs = [
        idx + len(response_token_ids)
        for idx in range(len(labels))
        if labels[idx : idx + len(response_token_ids)] == response_token_ids
    ]
    human_token_ids_idxs = [
        idx for idx in range(len(labels)) if labels[idx : idx + len(human_token_ids)] == human_token_ids
    ]
    assert response_token_ids_idxs and human_token_ids_idxs
    if human_token_ids_idxs[0] > response_token_ids_idxs[0]:
        human_token_ids_idxs = [0] + human_token_ids_idxs
    for idx, (start, end) in enumerate(zip(human_token_ids_idxs, response_token_ids_idxs, strict=False)):
        if idx != 0:
            labels[start:end] = [-100] * (end - start)
        else:
            labels[:end] = [-100] * end
    if len(response_token_ids_idxs) < len(human_token_ids_idxs):
        labels[human_token_ids_idxs[-1] :] = [-100] * (len(labels) - human_token_ids_idxs[-1])
    return labels


# --- synthetic rows ------------------------------------------------------------------------------------------
S1K_11_ROWS = [  # s1K-1.1 columns: one trace string per row
    {  # no "Answer:": s1 prefixes the raw attempt, then strips (the attempt's leading spaces stay inside)
        "question": "What is 2 + 2?  ",
        "deepseek_thinking_trajectory": "  Let me add.\n2 + 2 = 4.\n\n",
        "deepseek_attempt": "  $\\boxed{4}$ \n",
        "solution": "4",
    },
    {  # "Answer:" in the middle: s1 adds nothing (a starts-with rule would add a second one)
        "question": "Find x if x - 3 = 4.",
        "deepseek_thinking_trajectory": "x = 7. Wait, check: 7 - 3 = 4. Yes.",
        "deepseek_attempt": "We add 3 to both sides.\n\nFinal Answer: $\\boxed{7}$",
        "solution": "7",
    },
    {
        "question": "q",
        "deepseek_thinking_trajectory": "t",
        "deepseek_attempt": "Answer: 5",
        "solution": "5",
    },
]
S1K_ROWS = [  # s1K columns, the ones tokenization.py reads: the trace is a list of parts
    {
        "question": "What is 3 + 4?",
        "thinking_trajectories": ["First, 3 + 4.", " That is 7. "],
        "attempt": "7",
    },
    {
        "question": "Is 7 prime?",
        "thinking_trajectories": ["Only 1 and 7 divide 7."],
        "attempt": "So yes. Answer: yes",
    },
]
FIELDS = {
    "s1K-1.1": ["--thinking_field", "deepseek_thinking_trajectory", "--answer_field", "deepseek_attempt"],
    "s1K": ["--thinking_field", "thinking_trajectories", "--answer_field", "attempt"],
}


def as_s1k(row: dict) -> dict:
    """The columns tokenization.py reads. An s1K-1.1 trace is one string: as a one-part list it joins unchanged
    (a bare string would be joined character by character)."""
    if "thinking_trajectories" in row:
        return row
    return {
        "question": row["question"],
        "thinking_trajectories": [row["deepseek_thinking_trajectory"]],
        "attempt": row["deepseek_attempt"],
    }


def paper_recipe(tmp_path, model: str, dataset: str, rows: list[dict]):
    data = write_jsonl(rows, tmp_path / f"{dataset}.jsonl")
    overrides = ["--model_name_or_path", model, "--dataset_name", str(data), "--output_dir", str(tmp_path)]
    cpu = ["--use_cpu", "true", "--bf16", "false", "--activation_checkpointing", "false"]
    return parse_config("paper_s1_32b", [*overrides, *FIELDS[dataset], *cpu])


CASES = [("s1K-1.1", S1K_11_ROWS), ("s1K", S1K_ROWS)]


@pytest.mark.parametrize(("dataset", "rows"), CASES, ids=[c[0] for c in CASES])
def test_paper_config_renders_rows_as_s1_tokenization(tiny_tokenizer, tmp_path, dataset, rows):
    tok = tiny_tokenizer
    recipe = paper_recipe(tmp_path, "tiny", dataset, rows)
    formatted = build_dataset(recipe, tok)
    for row, ex in zip(rows, formatted, strict=True):
        prompt, completion = example_text(tok, ex)
        assert prompt + completion == s1_process_cot_example(as_s1k(row), tok)["text"]
        assert prompt.endswith(RESPONSE_TEMPLATE) and completion.startswith("<|im_start|>think\n")
        assert completion.endswith("<|im_end|>\n")  # the template's end of turn, as in s1's text
        # inference still opens the thinking itself: its prompt is the training prompt + the first completion tokens
        assert build_prompt(tok, S1, row["question"]) == prompt + S1.think_start


@pytest.mark.parametrize(("dataset", "rows"), CASES, ids=[c[0] for c in CASES])
def test_paper_config_trains_on_s1_tokens_and_mask(tiny_model_path, tmp_path, dataset, rows):
    trainer = build_trainer(paper_recipe(tmp_path, str(tiny_model_path), dataset, rows))
    tok = trainer.processing_class
    assert trainer.args.average_tokens_across_devices is False  # every example weighs the same, as in s1
    for row, ex in zip(rows, trainer.train_dataset, strict=True):
        text = s1_process_cot_example(as_s1k(row), tok)["text"]
        ids, labels = ex["input_ids"], ex["labels"]
        assert ids == tok.encode(text, add_special_tokens=False)  # no extra end-of-sequence token
        assert labels == s1_labels(ids, tok)
        start = next(i for i, x in enumerate(labels) if x != -100)
        assert tok.decode(ids[start:]).startswith("<|im_start|>think\n")
        assert tok.decode(ids[:start]).endswith(RESPONSE_TEMPLATE)


def test_answer_prefix_rules():
    # s1's rule (contains) against the starts-with rule the other configs keep
    assert prefix_answer(" 4 ", "Answer: ", "contains") == "Answer:  4"
    assert prefix_answer("So. Final Answer: 4", "Answer: ", "contains") == "So. Final Answer: 4"
    assert prefix_answer("So. Final Answer: 4", "Answer: ", "starts_with") == "Answer: So. Final Answer: 4"
    assert prefix_answer(" Answer: 4", "Answer: ", "starts_with") == "Answer: 4"
    assert prefix_answer(" 4 ", "", "contains") == prefix_answer(" 4 ", "", "starts_with") == "4"


def test_bad_layout_options_are_one_line(tiny_tokenizer):
    rows = datasets.Dataset.from_list([{"question": "q", "thinking": "t", "answer": "a"}])
    with pytest.raises(ConfigError, match="loss_starts_at must be one of"):
        to_prompt_completion(rows, tiny_tokenizer, loss_starts_at="user")
    with pytest.raises(ConfigError, match="answer_prefix_skip must be one of"):
        to_prompt_completion(rows, tiny_tokenizer, answer_prefix_skip="ends_with")


def test_assistant_layout_refuses_a_template_that_drops_the_thinking():
    from s1eval.testing.tiny_model import build_tokenizer

    tok = build_tokenizer()  # an R1-distill-like template: the assistant turn keeps only the answer
    tok.chat_template = tok.chat_template.replace(
        "message['content']", "message['content'].split('<|im_start|>answer')[-1]"
    )
    rows = datasets.Dataset.from_list([{"question": "q", "thinking": "t", "answer": "a"}])
    with pytest.raises(DataError, match="does not render the assistant turn"):
        to_prompt_completion(rows, tok, loss_starts_at="assistant")
    assert to_prompt_completion(rows, tok)[0]["completion"] == "t\n<|im_start|>answer\na<|im_end|>"
