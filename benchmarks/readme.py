"""Write README.md's speed section from benchmarks/results/*.json (the last step of `make bench`).

Everything between the `speed:begin` / `speed:end` markers is replaced; a benchmark whose JSON is missing is
said to be missing, never filled in by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
BEGIN, END = "<!-- speed:begin (benchmarks/readme.py) -->", "<!-- speed:end -->"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _missing(name: str) -> str:
    return f"- `{name}`: not run yet (`python -m benchmarks {name}`).\n"


def decode_section(d: dict | None) -> str:
    if d is None:
        return _missing("decode")
    lines = [
        f"**Plain greedy decoding**, `model.generate` time / hf engine time (above 1: the engine is faster), "
        f"{d['models'][next(iter(d['models']))]['cells'][0]['new_tokens_per_row']} new tokens per row, median of "
        f"{_repeat_range(d)} interleaved repeats (more for short cells):\n",
        "| model | batch | prompt 64 | prompt 1,024 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, model in d["models"].items():
        by = {(c["batch"], c["prompt_tokens"]): c["generate_over_engine_time"] for c in model["cells"]}
        for batch in sorted({c["batch"] for c in model["cells"]}):
            size = f"{name} ({model['parameters'] / 1e6:.1f}M)"
            lines.append(f"| {size} | {batch} | {by.get((batch, 64), '-')} | {by.get((batch, 1024), '-')} |")
    return "\n".join(lines) + "\n"


def _repeat_range(d: dict) -> str:
    counts = [c.get("repeats", d["repeats"]) for m in d["models"].values() for c in m["cells"]]
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low} to {high}"


def bf_section(b: dict | None) -> str:
    if b is None:
        return _missing("bf")
    acc = b["accounting"]
    out = [
        f"- **No generated token is thrown away**: BF with 4 extensions generated {acc['tokens_generated']} tokens "
        f"and kept {acc['tokens_kept']} (ratio {acc['generated_over_kept']:.3f}); asking the full budget in every "
        f"round and cutting afterwards would have generated {acc['full_budget_per_round_policy_generated']} "
        f"({acc['full_budget_policy_over_kept']}x).",
        "",
        f"**BF with extensions against plain decoding of the same tokens per row** ({b['model']['name']} model, "
        f"{b['model']['parameters'] / 1e6:.1f}M, batch {b['batch']}, {b['prompt_tokens']:,}-token prompts; "
        "throughput = plain decoding time / BF time; against `model.generate`, and against the hf engine's own "
        "plain decode, which has the same KV cache as BF, so that column is what the forcing itself costs):",
        "",
        "| workload | extensions done per row | tokens per row | BF / `generate` | BF / engine plain |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, t in b["throughput"].items():
        out.append(
            f"| {name.replace('_', ' ')} | {', '.join(map(str, t['extensions_per_sample']))} | {t['tokens_per_row']} "
            f"| {t['bf_over_plain_throughput']} | {t['bf_over_engine_plain_throughput']} |"
        )
    out += [
        "",
        '"uniform" rows are copies of one prompt, so they do the same rounds; "mixed" rows end at different times '
        "and the batch's tail runs with fewer rows, while plain decoding is given equal-length rows.",
        "",
    ]
    ref = b.get("reference_loop")
    if ref:
        out += [
            f"**BF against the s1 reference loop** (the fork's loop on HF `generate`, re-prompting with the whole "
            f"text every round; {ref['model']['name']} model, {ref['model']['parameters'] / 1e6:.1f}M, batch "
            f"{b['batch']}, {ref['prompt_tokens']}-token prompts, {ref['max_thinking_tokens']} thinking tokens):",
            "",
            "| extensions asked | s1eval tokens | reference tokens | s1eval / reference time |",
            "| ---: | ---: | ---: | ---: |",
        ]
        for key, r in ref.items():
            if isinstance(r, dict) and "bf_over_reference_time" in r:
                out.append(
                    f"| {key.split('_')[0]} | {r['s1eval_generated_tokens']} | {r['reference_generated_tokens']} "
                    f"| {r['bf_over_reference_time']} |"
                )
        out.append("")
    sweep = b["anytime_sweep"]
    out.append(
        f"- **Anytime sweep**: {len(sweep['budgets'])} budgets ({', '.join(map(str, sweep['budgets']))}) from one "
        f"trajectory generate {sweep['token_ratio']}x the tokens of separate runs ({sweep['time_ratio']}x the "
        "time), answers equal to the separate runs under greedy decoding (a test)."
    )
    shape = b["cache_shape"]
    cells = "; ".join(
        f"{name.replace('_', ' ')} {s['peak_cells_over_floor']} ({s['compactions']} compactions)"
        for name, s in shape.items()
    )
    out.append(
        "- **KV cache cells per live token beyond left padding** (cache width over its widest live row, at the "
        f"widest point): {cells}."
    )
    return "\n".join(out) + "\n"


def memory_section(m: dict | None) -> str:
    if m is None:
        return _missing("memory")
    parts = "; ".join(
        f"{name.replace('_', ' ')} {w['peak_rss_mb']:.0f} MB ({w['workload_mb']:.0f} MB above the loaded model)"
        for name, w in m["workloads"].items()
    )
    return (
        f"- **Peak memory** ({m['model']} model, {m['prompts']} prompts of {m['prompt_tokens']} tokens, "
        f"{m['max_thinking_tokens']} thinking tokens, {m['num_extensions']} extensions, one process each): {parts}.\n"
    )


def lm_eval_section(e: dict | None) -> str:
    if e is None:
        return _missing("lm_eval_peer")
    med, tok = e["median_seconds"], e["generated_tokens"]
    return (
        f"- **`s1eval lm-eval --model s1_bf` against lm-eval's `--model hf`** ({e['task']}, {e['limit']} questions, "
        f"{e['model']} model): {med['s1eval_s1_bf']} s for {tok['s1eval_s1_bf']} tokens against "
        f"{med['lm_eval_hf']} s for {tok['lm_eval_hf']} tokens; time per generated token "
        f"{e['s1_bf_over_hf_time_per_token']}x hf's.\n"
    )


def other_sections() -> str:
    lines = []
    s = _load("scoring")
    if s:
        lines.append(
            f"- Scoring all {s['n']} MATH500 reference solutions: {s['seconds']} s ({s['math_verify_only_seconds']} s "
            f"when every pair goes through math_verify); round-trip rate {s['round_trip_rate']:.3f}."
        )
    m = _load("methods")
    if m:
        full = m["rejection_sampling"]["full_samples"]
        costs = " / ".join(f"{v['tokens_per_accepted_sample']:.0f}" for v in full.values())
        lines.append(
            f"- Rejection sampling on the tiny model: {costs} generated tokens per accepted sample at budgets "
            f"{' / '.join(full)}."
        )
    c = _load("curation")
    if c:
        lines.append(
            f"- Curating a {c['rows']:,}-row pool with precomputed columns: {c['total_s']} s (limit: "
            f"{c['target_s']} s)."
        )
    o = _load("openai")
    if o:
        rates = ", ".join(
            f"{r['generated_tokens_per_s']:.0f} tokens/s with {r['max_concurrency']} in flight"
            for r in o["runs"]
        )
        lines.append(f"- The openai engine against one `{o['server']}` on 127.0.0.1: {rates}.")
    return "\n".join(lines) + ("\n" if lines else "")


def speed_section() -> str:
    return "\n".join(
        [
            "Figures from `make bench` on this project's 2-core CPU machine (`benchmarks/results/*.json`, written "
            "into this section by `benchmarks/readme.py`); random Qwen2 models built offline "
            "(`benchmarks/models.py`); timings are medians of interleaved repeats, compared as ratios within one "
            "run.",
            "",
            decode_section(_load("decode")),
            bf_section(_load("bf")),
            memory_section(_load("memory")) + lm_eval_section(_load("lm_eval")) + other_sections(),
        ]
    )


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + BEGIN + "\n" + speed_section() + END + tail)
    print("README.md speed section written")


if __name__ == "__main__":
    main()
