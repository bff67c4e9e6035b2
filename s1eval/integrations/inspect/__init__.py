"""s1eval for Inspect: solvers for the control methods, model providers that expose s1eval engines, scorers.

```
inspect eval tasks/gpqa.py --model s1hf/simplescaling/s1.1-32B -T data_path=gpqa_diamond.csv \
    -T max_thinking_tokens=8000 -T num_extensions=2
```

Names (found through the `inspect_ai` entry point, no import needed): solvers `s1eval/budget_forcing`,
`s1eval/tcc`, `s1eval/scc`, `s1eval/ccc`, `s1eval/rejection_sampling`, `s1eval/majority_vote` and the generic
`s1eval/control`; providers `s1hf`, `s1vllm`, `s1openai`, `s1fake`; scorers `s1eval/answer`,
`s1eval/aime_answer`, `s1eval/math_answer`, `s1eval/gpqa_answer`; reducers `s1eval/avg_at_k`, `s1eval/maj_at_k`.
"""

from s1eval.integrations.inspect.batcher import BatchedEngine, EngineBatcher
from s1eval.integrations.inspect.providers import S1EngineAPI
from s1eval.integrations.inspect.scorers import (
    aime_answer,
    answer,
    avg_at_k,
    budget_accuracy,
    gpqa_answer,
    maj_at_k,
    math_answer,
    mean_thinking_tokens,
    outcome_shares,
)
from s1eval.integrations.inspect.solvers import SOLVERS, control, engine_batcher
from s1eval.integrations.inspect.tasks import benchmark_task, method_solver, problem_sample

_SOLVER_NAMES = {solver.__name__: solver for solver in SOLVERS.values()}  # budget_forcing, tcc, ...
globals().update(_SOLVER_NAMES)

__all__ = [
    "BatchedEngine",
    "EngineBatcher",
    "S1EngineAPI",
    "aime_answer",
    "answer",
    "avg_at_k",
    "benchmark_task",
    "budget_accuracy",
    "control",
    "engine_batcher",
    "gpqa_answer",
    "maj_at_k",
    "math_answer",
    "mean_thinking_tokens",
    "method_solver",
    "outcome_shares",
    "problem_sample",
    *_SOLVER_NAMES,
]
