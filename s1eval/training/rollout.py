"""Budget-forced rollouts for TRL's `GRPOTrainer`: its `rollout_func`, drawn by an s1eval control method.

TRL hands `rollout_func(prompts, trainer)` the prompt column of the generation batch, each prompt already
repeated `num_generations` times by its `RepeatSampler` (`_generate_and_score_completions` reads
`x["prompt"]` for every sampled row and passes the list on unchanged), so one completion comes back per entry.
The function runs the method (budget forcing by default) on the trainer's own model through `HFEngine`, the
engine every evaluation uses, so the policy is trained on exactly the text budget forcing makes at test time:
its thinking is capped at the budget, extension strings are appended where the model stopped early, and the
end-of-thinking delimiter and answer prefix are forced. `env_mask` keeps those forced tokens out of the loss
(TRL multiplies it into the completion mask): the model is trained on what it generated, in the context the
method made.

Each sample's seed is `s1eval.control.seeds.sample_seed(seed, question_id, global_step * G + j)` (j: its place
in its group of G), so the samples of a group differ and a rerun draws the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from s1eval.control.base import ControlResult
from s1eval.control.seeds import sample_seed
from s1eval.errors import ConfigError, DataError
from s1eval.jsonl import append_jsonl, cut_torn_tail, read_jsonl
from s1eval.scoring import ScoredSample

from .rewards import gold_answer

ROLLOUTS_FILE = "rollouts.jsonl"


def token_methods() -> list[str]:
    """Methods run at a token budget (the registry's x unit): those whose results carry the exact token ids GRPO
    trains on (all built on the thinking controller)."""
    from s1eval.control.methods import registered_methods

    return [info.name for info in registered_methods() if info.x_unit == "tokens"]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: str


class QuestionBook:
    """The training questions by their text: TRL gives the rollout function the prompt column only, so the
    question id (for the seed) and the gold answer are looked up here.

    Rows that ask the same question word for word keep their own ids: when one batch holds several groups
    of that question, the k-th group takes the k-th row's id, so their seeds differ."""

    def __init__(self, questions: Sequence[Question]):
        self.by_text: dict[str, list[Question]] = {}
        for q in questions:
            same = self.by_text.setdefault(q.text, [])
            if same and same[0].gold != q.gold:
                raise DataError(
                    f"rows {same[0].id!r} and {q.id!r} ask the same question with different answers "
                    f"({same[0].gold!r}, {q.gold!r}); fix or drop one"
                )
            if all(q.id != other.id for other in same):
                same.append(q)

    @classmethod
    def from_rows(
        cls, rows: Any, *, question_field: str, answer_field: str, id_field: str, kind: str
    ) -> QuestionBook:
        columns = list(rows.column_names)
        for name, column in (("question_field", question_field), ("answer_field", answer_field)):
            if column not in columns:
                raise DataError(
                    f"training data has no column {column!r} (columns: {', '.join(columns)}); set {name}"
                )
        has_id = id_field in columns
        return cls(
            [
                Question(
                    id=str(row[id_field]) if has_id else str(row[question_field]),
                    text=str(row[question_field]),
                    gold=gold_answer(row[answer_field], kind),
                )
                for row in rows
            ]
        )

    def __len__(self) -> int:
        return sum(len(same) for same in self.by_text.values())

    def lookup(self, prompts: Sequence[Any], group: int) -> list[Question]:
        """The question of each prompt of a whole generation batch (groups of `group` repeats)."""
        groups: dict[str, list[int]] = {}
        out = []
        for i, prompt in enumerate(prompts):
            text = str(prompt)
            same = self.by_text.get(text)
            if same is None:
                raise DataError(
                    f"the trainer asked for a prompt that is not a training question: {text[:80]!r}"
                )
            seen = groups.setdefault(text, [])
            if i // group not in seen:
                seen.append(i // group)
            out.append(same[seen.index(i // group) % len(same)])
        return out

    def dataset(self, texts: Sequence[str]) -> Any:
        """TRL's training set: one `prompt` per row (the question text; the method builds the chat prompt)."""
        from datasets import Dataset

        return Dataset.from_dict({"prompt": list(texts)})


@dataclass
class RolloutSpec:
    """What one rollout call runs: the method, its settings and budget, the format, the answer kind."""

    method: str
    budget: int
    settings: dict[str, Any]
    """Method settings without the sampling ones (those come from the trainer's GRPOConfig at each call)."""
    thinking_format: str
    system: str | None
    kind: str
    batch_size: int | None = None


def sampling_settings(args: Any) -> dict[str, Any]:
    """GRPOConfig's sampling as method settings: TRL scores the tokens at the same temperature."""
    if getattr(args, "min_p", None) is not None:
        raise ConfigError("min_p is not a setting s1eval's engines take; leave it unset (use top_p / top_k)")
    out: dict[str, Any] = {"temperature": float(args.temperature), "top_p": float(args.top_p)}
    if args.top_k:
        out["top_k"] = int(args.top_k)
    if args.repetition_penalty != 1.0:
        out["repetition_penalty"] = float(args.repetition_penalty)
    return out


class BudgetForcedRollout:
    """TRL's `rollout_func`: `(prompts, trainer) -> {prompt_ids, completion_ids, logprobs, env_mask, ...}`."""

    def __init__(self, book: QuestionBook, spec: RolloutSpec, log_: RolloutLog | None = None):
        self.book = book
        self.spec = spec
        self.log = log_

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        training = trainer.model.training
        group = trainer.num_generations if training else trainer.num_generations_eval
        step = trainer.state.global_step
        first = trainer.accelerator.process_index * len(prompts)  # this process's place in the batch
        batch = list(prompts)
        # a group may straddle two processes: number the groups in the whole generation batch
        if trainer.accelerator.num_processes > 1:
            from accelerate.utils import gather_object

            batch = gather_object(batch)
        questions = self.book.lookup(batch, group)[first : first + len(prompts)]
        repeats = [step * group + (first + i) % group for i in range(len(prompts))]
        seeds = [sample_seed(trainer.args.seed, q.id, r) for q, r in zip(questions, repeats, strict=True)]
        results = self.generate(trainer, [q.text for q in questions], seeds)
        tokenizer = trainer.processing_class
        filler = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
        prompt_ids, completion_ids, env_mask = [], [], []
        for res in results:
            ids, mask = completion_tokens(res, self.spec.method)
            if not ids:  # an engine error before any token: one masked token keeps TRL's shapes valid
                ids, mask = [filler], [0]
            prompt_ids.append(list(res.extra["prompt_ids"]))
            completion_ids.append(ids)
            env_mask.append(mask)
        out = {
            "prompt_ids": prompt_ids,
            "completion_ids": completion_ids,
            "logprobs": None,
            "env_mask": env_mask,
            "ledger": [r.ledger.to_dict() for r in results],
            "s1_answer": [r.answer for r in results],
            "s1_thinking": [r.thinking for r in results],
            "gold": [q.gold for q in questions],
            "kind": [self.spec.kind] * len(results),
            "s1_id": [q.id for q in questions],
            "s1_seed": seeds,
        }
        if self.log is not None:
            self.log.begin(
                step=step + 1,
                mode="train" if training else "eval",
                questions=questions,
                repeats=repeats,
                results=results,
                out=out,
                decode=lambda ids: tokenizer.decode(ids, skip_special_tokens=False),
            )
        return out

    def generate(self, trainer: Any, questions: list[str], seeds: list[int]) -> list[ControlResult]:
        """Run the method on the trainer's model (unwrapped, eval mode, no grad) and return one result each."""
        import torch
        from trl.models import unwrap_model_for_generation

        from s1eval.control.methods import prepare_method
        from s1eval.engines.hf import HFEngine

        spec, args = self.spec, trainer.args
        settings = {**spec.settings, **sampling_settings(args)}
        with (
            unwrap_model_for_generation(
                trainer.model_wrapped,
                trainer.accelerator,
                gather_deepspeed3_params=args.ds3_gather_for_generation,
                gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs,
            ) as model,
            torch.no_grad(),
        ):
            was_training = model.training
            model.eval()
            try:
                engine = HFEngine(
                    model=model,
                    tokenizer=trainer.processing_class,
                    batch_size=spec.batch_size or len(questions),
                )
                prepared = prepare_method(engine, spec.method, settings, spec.thinking_format, [spec.budget])
                by_budget = prepared.run(questions, budgets=[spec.budget], seeds=seeds, system=spec.system)
            finally:
                model.train(was_training)
        return by_budget[spec.budget]


def completion_tokens(res: ControlResult, method: str) -> tuple[list[int], list[int]]:
    """A result's completion ids and their mask (1 generated, 0 forced); a method that keeps no ids is refused."""
    extra = res.extra or {}
    if "completion_ids" not in extra or "completion_mask" not in extra or "prompt_ids" not in extra:
        raise ConfigError(
            f"method {method!r} does not report the token ids of its samples, which GRPO trains on; "
            f"use one of: {', '.join(token_methods())}"
        )
    ids, mask = list(extra["completion_ids"]), list(extra["completion_mask"])
    if len(ids) != len(mask):
        raise AssertionError(f"{method}: {len(ids)} completion ids but {len(mask)} mask entries")
    return ids, mask


# --------------------------------------------------------------------------- the rollout log
class RolloutLog:
    """`rollouts.jsonl`: one row per rollout (step, question, prompt, completion, ledger, rewards, verdict).

    The rollout function opens a batch (`begin`), the reward functions add their values (`add_rewards`,
    `add_verdicts`), and the batch is appended when the optimiser step ends (or the next batch opens)."""

    def __init__(self, path: str | Path, *, token_ids: bool = False):
        self.path = Path(path)
        self.token_ids = token_ids
        self.rows: list[dict[str, Any]] = []
        self.rewards: dict[str, list[float]] = {}
        self.verdicts: list[ScoredSample] | None = None
        self.written = 0
        self.generated_tokens = 0
        self.probe_tokens = 0  # generated by probes (an intervention's forks, outside the completion ids)
        self.forced_tokens = 0

    def start(self, resumed_step: int | None) -> None:
        """A fresh run starts an empty log; a resumed one keeps the rows of the steps its checkpoint holds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resumed_step is None or not self.path.exists():
            self.path.write_text("", encoding="utf-8")
            return
        cut_torn_tail(self.path)
        kept = [row for _, row in read_jsonl(self.path) if row.get("step", 0) <= resumed_step]
        self.path.write_text("", encoding="utf-8")
        append_jsonl(self.path, kept)

    def begin(
        self,
        *,
        step: int,
        mode: str,
        questions: Sequence[Question],
        repeats: Sequence[int],
        results: Sequence[ControlResult],
        out: dict[str, Any],
        decode: Callable[[list[int]], str],
    ) -> None:
        self.flush()
        for i, (q, res) in enumerate(zip(questions, results, strict=True)):
            ids, mask = out["completion_ids"][i], out["env_mask"][i]
            self.generated_tokens += sum(mask)
            self.probe_tokens += res.ledger.probe_tokens
            self.forced_tokens += len(mask) - sum(mask)
            row: dict[str, Any] = {
                "step": step,
                "mode": mode,
                "id": q.id,
                "repeat": repeats[i],
                "seed": out["s1_seed"][i],
                "prompt": res.prompt,
                "completion": decode(ids),
                "thinking": res.thinking,
                "answer": res.answer,
                "gold": q.gold,
                "kind": out["kind"][i],
                "ledger": out["ledger"][i],
            }
            if self.token_ids:
                row |= {"prompt_ids": out["prompt_ids"][i], "completion_ids": ids, "env_mask": mask}
            self.rows.append(row)

    def add_rewards(self, name: str, values: Sequence[float]) -> None:
        self.rewards[name] = [float(v) if v is not None else None for v in values]

    def add_verdicts(self, scored: list[ScoredSample]) -> None:
        self.verdicts = scored

    def flush(self) -> None:
        if not self.rows:
            return
        for i, row in enumerate(self.rows):
            row["rewards"] = {name: values[i] for name, values in self.rewards.items()}
            if self.verdicts is not None:
                s = self.verdicts[i]
                row |= {"correct": s.correct, "pred": s.pred, "outcome": s.outcome, "reason": s.reason}
        self.written += append_jsonl(self.path, self.rows)
        self.rows, self.rewards, self.verdicts = [], {}, None


class RecordedReward:
    """A reward function that also hands its values to the rollout log (TRL logs it by `__name__`)."""

    def __init__(self, func: Callable[..., list[float]], name: str, log_: RolloutLog):
        self.func, self.__name__, self.log = func, name, log_

    def __call__(self, prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
        values = self.func(prompts, completions, **kwargs)
        self.log.add_rewards(self.__name__, values)
        return values


class FlushRolloutLog(TrainerCallback):
    """Appends the batch's rows once its rewards are in: at the end of each optimiser step and of training."""

    def __init__(self, log_: RolloutLog):
        self.log = log_

    def on_step_end(self, args, state, control, **kwargs):
        self.log.flush()

    def on_train_end(self, args, state, control, **kwargs):
        self.log.flush()


__all__ = [
    "ROLLOUTS_FILE",
    "token_methods",
    "BudgetForcedRollout",
    "completion_tokens",
    "FlushRolloutLog",
    "Question",
    "QuestionBook",
    "RecordedReward",
    "RolloutLog",
    "RolloutSpec",
    "sampling_settings",
]
