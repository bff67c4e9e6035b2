"""Budget forcing: token accounting, BF against plain decoding and against the s1 reference loop, the anytime
sweep, and the KV cache's shape.

Every timing is a median of interleaved repeats (`benchmarks/timing.py`, each repeat in the JSON), compared
as a ratio within one run. A random model never emits s1's `<|im_start|>` delimiter by itself, so the
extension measurements use a format whose end marker is the token the model emits most often: natural stops
(and so extensions) happen.

Peers (`benchmarks/peers.py`): `hf_generate` is `model.generate` of the same number of tokens per row
(`hf_engine_plain`, the hf engine's own plain decode of them);
`s1_reference_loop` is the s1 fork's loop on HF `generate` (every round re-prompts with the whole text).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BATCH, PROMPT_TOKENS = 8, 1024


def prompts_for(tokenizer, n: int, prompt_tokens: int) -> list[str]:
    from s1eval.formats import S1, build_prompt

    filler = " ".join(f"{i} plus {i + 1} is {2 * i + 1}." for i in range(2000))
    prompts = []
    for row in range(n):
        ids = tokenizer.encode(f"Problem {row}: " + filler)[:prompt_tokens]
        prompts.append(build_prompt(tokenizer, S1, tokenizer.decode(ids)))
    return prompts


def frequent_marker_format(engine, prompts):
    from s1eval.engines.base import GenerationRequest
    from s1eval.formats import S1, single_token_id

    outs = engine.generate([GenerationRequest(engine.tokenizer.encode(p), 64) for p in prompts])
    engine.release()
    counts = Counter(t for o in outs for t in o.token_ids[2:])
    for token, _ in counts.most_common():
        text = engine.tokenizer.decode([token])
        if single_token_id(engine.tokenizer, text) == token:
            return dataclasses.replace(S1, name="bench", end_marker=text)
    raise RuntimeError("no usable marker token")


def accounting(engine, fmt, prompts) -> dict:
    """Tokens the engine generated against tokens the samples kept (BF with 4 extensions)."""
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing

    cfg = BudgetForcingConfig(max_thinking_tokens=256, num_extensions=4, max_answer_tokens=16)
    before = engine.stats["generated_tokens"]
    results = run_budget_forcing(engine, fmt, prompts, cfg)
    generated = engine.stats["generated_tokens"] - before
    kept = sum(r.ledger.thinking_tokens + r.ledger.answer_tokens for r in results)
    full_budget = sum(r.ledger.answer_tokens for r in results)
    for r in results:  # a policy that asks the whole budget every round and cuts afterwards
        rounds = [x for x in r.ledger.rounds if x.phase == "think"]
        full_budget += sum(x.generated for x in rounds[:-1])
        full_budget += cfg.max_thinking_tokens if rounds[-1].stop == "budget" else rounds[-1].generated
    return {
        "extensions_per_sample": [r.ledger.extensions for r in results],
        "tokens_generated": generated,
        "tokens_kept": kept,
        "generated_over_kept": round(generated / kept, 4),
        "full_budget_per_round_policy_generated": full_budget,
        "full_budget_policy_over_kept": round(full_budget / kept, 3),
    }


def against_plain_decode(engine, fmt, prompts, waiting, repeats: int) -> dict:
    """BF with extensions against plain decoding of the same tokens per row: "uniform", one batch of copies
    of one prompt (every row does the same rounds); "mixed", twice as many different prompts as batch rows
    (rows end at different times and take the next prompt: continuous batching), against batches of
    equal-length rows. Two plain baselines: `model.generate` (what a user runs) and the hf engine's own
    plain decode (the same KV cache as BF, so that ratio is what the forcing itself costs)."""
    from benchmarks.timing import interleaved, ratio
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing

    figures = {}
    for rounds in (4, 16):
        cfg = BudgetForcingConfig(max_thinking_tokens=1536, num_extensions=rounds, max_answer_tokens=1)
        probe = run_budget_forcing(engine, fmt, prompts, cfg)
        busiest = max(range(len(probe)), key=lambda i: (probe[i].ledger.extensions, -i))
        for workload, rows in (("uniform", [prompts[busiest]] * len(prompts)), ("mixed", waiting)):
            results = run_budget_forcing(engine, fmt, rows, cfg)
            per_row = round(
                sum(r.ledger.thinking_tokens + r.ledger.answer_tokens for r in results) / len(rows)
            )
            contexts = [engine.tokenizer.encode(p, add_special_tokens=False) for p in rows]
            timing = interleaved(
                {
                    "s1eval_bf": lambda rows=rows, cfg=cfg: run_budget_forcing(engine, fmt, rows, cfg),
                    "hf_generate": lambda c=contexts, n=per_row: _generate_batches(engine, c, n),
                    "hf_engine_plain": lambda c=contexts, n=per_row: _engine_plain(engine, c, n),
                },
                repeats,
            )
            timing.pop("last")
            figures[f"{rounds}_extensions_{workload}"] = {
                "extensions_per_sample": [r.ledger.extensions for r in results],
                "tokens_per_row": per_row,
                **timing,
                "bf_over_plain_throughput": ratio(timing, "hf_generate", "s1eval_bf"),
                "bf_over_engine_plain_throughput": ratio(timing, "hf_engine_plain", "s1eval_bf"),
            }
    return figures


def _generate_batches(engine, contexts: list[list[int]], new_tokens: int) -> int:
    from benchmarks.peers import plain_generate

    step = engine.max_batch_size
    return sum(
        plain_generate(engine.model, engine.tokenizer, contexts[i : i + step], new_tokens)
        for i in range(0, len(contexts), step)
    )


def _engine_plain(engine, contexts: list[list[int]], new_tokens: int) -> int:
    """The hf engine's plain decode: no stop token, so exactly `new_tokens` per row, batches of its size."""
    from s1eval.engines.base import GenerationRequest

    out = engine.generate([GenerationRequest(list(c), new_tokens) for c in contexts])
    engine.release()
    assert all(len(o.token_ids) == new_tokens for o in out)
    return sum(len(o.token_ids) for o in out)


def against_reference_loop(engine, fmt, prompts, repeats: int) -> dict:
    """BF with 2 / 4 / 16 extensions against the s1 reference loop on HF generate, same settings."""
    from benchmarks.peers import s1_reference_loop
    from benchmarks.timing import interleaved, ratio
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing

    figures = {}
    for extensions in (2, 4, 16):
        cfg = BudgetForcingConfig(max_thinking_tokens=512, num_extensions=extensions, max_answer_tokens=16)
        before = engine.stats["generated_tokens"]
        ours = run_budget_forcing(engine, fmt, prompts, cfg)
        ours_tokens = engine.stats["generated_tokens"] - before
        reference = s1_reference_loop(engine.model, engine.tokenizer, fmt, prompts, 512, extensions, 16)
        timing = interleaved(
            {
                "s1eval_bf": lambda cfg=cfg: run_budget_forcing(engine, fmt, prompts, cfg),
                "s1_reference_loop": lambda n=extensions: s1_reference_loop(
                    engine.model, engine.tokenizer, fmt, prompts, 512, n, 16
                ),
            },
            repeats,
        )
        timing.pop("last")
        figures[f"{extensions}_extensions"] = {
            "extensions_per_sample": [r.ledger.extensions for r in ours],
            "s1eval_generated_tokens": ours_tokens,
            "reference_generated_tokens": reference["generated_tokens"],
            **timing,
            "bf_over_reference_time": ratio(timing, "s1eval_bf", "s1_reference_loop"),
        }
    return figures


def sweep_against_separate(engine, prompts, repeats: int) -> dict:
    from benchmarks.timing import interleaved, ratio
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing, run_budget_sweep
    from s1eval.formats import S1

    budgets = [32, 64, 128, 256, 512]
    cfg = BudgetForcingConfig(max_thinking_tokens=max(budgets), max_answer_tokens=8)

    def tokens(fn) -> int:
        before = engine.stats["generated_tokens"]
        fn()
        return engine.stats["generated_tokens"] - before

    def sweep() -> None:
        run_budget_sweep(engine, S1, prompts, budgets, cfg)

    def separate() -> None:
        for b in budgets:
            run_budget_forcing(engine, S1, prompts, cfg.with_budget(b))

    sweep_tokens, separate_tokens = tokens(sweep), tokens(separate)
    timing = interleaved({"sweep": sweep, "separate_runs": separate}, repeats)
    timing.pop("last")
    return {
        "budgets": budgets,
        "sweep_generated_tokens": sweep_tokens,
        "separate_generated_tokens": separate_tokens,
        "token_ratio": round(sweep_tokens / separate_tokens, 3),
        **timing,
        "time_ratio": ratio(timing, "sweep", "separate_runs"),
    }


def cache_shape(engine, fmt, prompts) -> dict:
    """Cache cells per live token at the widest point of each workload: over the left-padding floor (the
    widest live row) and over all live tokens (left padding included)."""
    from s1eval.control.budget_forcing import BudgetForcingConfig, run_budget_forcing, run_budget_sweep

    budgets = [32, 64, 128, 256, 512]
    workloads = {
        "bf_16_extensions": lambda: run_budget_forcing(
            engine,
            fmt,
            prompts,
            BudgetForcingConfig(max_thinking_tokens=512, num_extensions=16, max_answer_tokens=8),
        ),
        "sweep_5_budgets": lambda: run_budget_sweep(
            engine, fmt, prompts, budgets, BudgetForcingConfig(max_thinking_tokens=512, max_answer_tokens=8)
        ),
        "sweep_5_budgets_16_extensions": lambda: run_budget_sweep(
            engine,
            fmt,
            prompts,
            budgets,
            BudgetForcingConfig(max_thinking_tokens=512, num_extensions=16, max_answer_tokens=8),
        ),
    }
    figures = {}
    for name, run in workloads.items():
        for key in ("compactions", "peak_cache_cells", "peak_cells_per_live", "peak_cells_over_floor"):
            engine.stats[key] = 0
        run()
        engine.release()
        figures[name] = {
            key: engine.stats[key]
            for key in ("compactions", "peak_cache_cells", "peak_cells_per_live", "peak_cells_over_floor")
        }
    return figures


def main() -> dict:
    from benchmarks.models import MODELS, build, parameters
    from s1eval.engines.hf import HFEngine

    repeats = int(os.environ.get("S1EVAL_BENCH_REPEATS", "3"))
    with tempfile.TemporaryDirectory() as tmp:
        engine = HFEngine(str(build("small", Path(tmp))), batch_size=BATCH)
        prompts = prompts_for(engine.tokenizer, BATCH, PROMPT_TOKENS)
        fmt = frequent_marker_format(engine, prompts)
        figures: dict = {
            "model": {"name": "small", **MODELS["small"], "parameters": parameters(engine.model)},
            "batch": BATCH,
            "prompt_tokens": PROMPT_TOKENS,
            "repeats": repeats,
        }
        figures["accounting"] = accounting(engine, fmt, prompts)
        print("accounting", figures["accounting"]["generated_over_kept"], flush=True)
        waiting = prompts_for(engine.tokenizer, 2 * BATCH, PROMPT_TOKENS)
        figures["throughput"] = against_plain_decode(engine, fmt, prompts, waiting, repeats)
        print(
            "throughput",
            {k: v["bf_over_plain_throughput"] for k, v in figures["throughput"].items()},
            flush=True,
        )
        figures["anytime_sweep"] = sweep_against_separate(engine, prompts, repeats)
        print("sweep", figures["anytime_sweep"]["time_ratio"], flush=True)
        figures["cache_shape"] = cache_shape(engine, fmt, prompts)
        print("cache", figures["cache_shape"], flush=True)

        medium = HFEngine(str(build("medium", Path(tmp))), batch_size=BATCH)
        short = prompts_for(medium.tokenizer, BATCH, 256)
        figures["reference_loop"] = {
            "model": {"name": "medium", **MODELS["medium"], "parameters": parameters(medium.model)},
            "prompt_tokens": 256,
            "max_thinking_tokens": 512,
            **against_reference_loop(medium, frequent_marker_format(medium, short), short, repeats),
        }
        print(
            "reference",
            {
                k: v["bf_over_reference_time"]
                for k, v in figures["reference_loop"].items()
                if isinstance(v, dict) and "bf_over_reference_time" in v
            },
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bf.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
