"""Comparison-method costs on the tiny model: what rejection sampling spends per accepted sample at each budget,
and maj@1..maj@16 from one set of 16 samples against 16 separate runs (N = 1..16).

A random model almost never emits s1's `<|im_start|>` delimiter by itself, so both use a format whose end
marker is the token the model samples most at temperature 1.0: sampled thinking then ends on its own after
a few dozen tokens, with a spread of lengths as a real model's has. Costs are generated tokens (the engine's
count) and wall seconds, from one run on one machine, compared as ratios within the run.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
QUESTIONS = [
    "What is 3+4?",
    "Add 1 and 2 and 3.",
    "Compute 12*7 step by step.",
    "What is 9 minus 5?",
    "Solve x + 2 = 5.",
    "What is half of 18?",
    "Multiply 6 by 7.",
    "What is 2 to the power 5?",
]


def _sampled_stop_format(engine, prompt: str):
    from s1eval.engines.base import GenerationRequest, SamplingParams
    from s1eval.formats import S1, single_token_id

    ids = engine.tokenizer.encode(prompt)
    hot = SamplingParams(temperature=1.0)
    outs = engine.generate([GenerationRequest(ids, 64, sampling=hot, seed=s) for s in range(8)])
    engine.release()
    for token, _ in Counter(t for o in outs for t in o.token_ids).most_common():
        text = engine.tokenizer.decode([token])
        if single_token_id(engine.tokenizer, text) == token and text.strip():
            return dataclasses.replace(S1, name="bench", end_marker=text)
    raise RuntimeError("no usable marker token")


def _measure(engine, fn):
    before, start = engine.stats["generated_tokens"], time.perf_counter()
    out = fn()
    return out, engine.stats["generated_tokens"] - before, time.perf_counter() - start


def rejection_costs(engine, fmt, budgets, max_tries: int, max_tokens: int) -> dict:
    from s1eval.control.rejection import RejectionSamplingConfig, run_rejection_sampling

    figures = {}
    seeds = list(range(100, 100 + len(QUESTIONS)))
    for early in (False, True):
        cfg = RejectionSamplingConfig(
            max_tries=max_tries, max_tokens=max_tokens, max_answer_tokens=4, early_reject=early
        )
        per_budget = {}
        for b in budgets:
            out, tokens, seconds = _measure(
                engine,
                lambda b=b, cfg=cfg: run_rejection_sampling(engine, fmt, QUESTIONS, [b], cfg, seeds=seeds),
            )
            ledgers = [r.ledger for r in out[b]]
            print(f"rs early_reject={early} budget={b}: {tokens} tokens, {seconds:.1f} s", file=sys.stderr)
            accepted = sum(bool(led.extra["accepted"]) for led in ledgers)
            per_budget[str(b)] = {
                "accepted": accepted,
                "samples": len(ledgers),
                "mean_tries": round(sum(led.extra["tries"] for led in ledgers) / len(ledgers), 2),
                "generated_tokens": tokens,
                "ledger_total_tokens": sum(led.extra["total_tokens"] for led in ledgers),
                "tokens_per_accepted_sample": round(tokens / accepted, 1) if accepted else None,
                "tokens_per_sample_kept": round(
                    sum(led.thinking_tokens + led.answer_tokens for led in ledgers) / len(ledgers), 1
                ),
                "over_budget_returned": sum(led.thinking_tokens > b for led in ledgers),
                "seconds": round(seconds, 3),
            }
        figures["early_reject" if early else "full_samples"] = per_budget
    return figures


def voting_costs(engine, fmt, big_n: int, cap: int) -> dict:
    from s1eval.control.voting import VoteConfig, run_vote

    seeds = list(range(200, 200 + len(QUESTIONS)))
    cfg = VoteConfig(n=big_n, max_thinking_tokens=cap, max_answer_tokens=4, kind="integer")
    ns = list(range(1, big_n + 1))
    one, one_tokens, one_s = _measure(engine, lambda: run_vote(engine, fmt, QUESTIONS, ns, cfg, seeds=seeds))
    separate_tokens, separate_s, identical = 0, 0.0, True
    for n in ns:
        out, tokens, seconds = _measure(
            engine,
            lambda n=n: run_vote(engine, fmt, QUESTIONS, [n], dataclasses.replace(cfg, n=n), seeds=seeds),
        )
        print(f"vote separate run N={n}: {tokens} tokens, {seconds:.1f} s", file=sys.stderr)
        separate_tokens += tokens
        separate_s += seconds
        identical &= all(
            a.ledger.to_dict() == b.ledger.to_dict() and a.output == b.output
            for a, b in zip(one[n], out[n], strict=True)
        )
    return {
        "questions": len(QUESTIONS),
        "n_max": big_n,
        "per_sample_cap": cap,
        "one_set_generated_tokens": one_tokens,
        "one_set_seconds": round(one_s, 3),
        "separate_runs_generated_tokens": separate_tokens,
        "separate_runs_seconds": round(separate_s, 3),
        "token_ratio_separate_over_one_set": round(separate_tokens / one_tokens, 2),
        "time_ratio_separate_over_one_set": round(separate_s / one_s, 2),
        "maj_at_n_identical": bool(identical),
        "mean_total_thinking_per_question": {
            str(n): round(sum(r.ledger.thinking_tokens for r in one[n]) / len(one[n]), 1)
            for n in (1, 2, 4, 8, 16)
        },
    }


def main() -> dict:
    import tempfile

    from s1eval.engines.hf import HFEngine
    from s1eval.formats import S1, build_prompt
    from s1eval.testing.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        engine = HFEngine(str(build_tiny_model(Path(tmp) / "model")), batch_size=16)
        fmt = _sampled_stop_format(engine, build_prompt(engine.tokenizer, S1, QUESTIONS[0]))
        figures: dict = {
            "benchmark": "methods",
            "model": "random tiny Qwen2 (hidden 64, 2 layers), hf engine, CPU, batch 16",
            "end_marker": fmt.end_marker,
            "temperature": 1.0,
        }
        figures["rejection_sampling"] = rejection_costs(engine, fmt, [8, 16, 32], max_tries=8, max_tokens=64)
        figures["voting"] = voting_costs(engine, fmt, big_n=16, cap=24)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "methods.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
