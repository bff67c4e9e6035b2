"""The demo's note (results/demo/README.md) and its terminal leaderboard, written from the run's own numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1eval.report.tables import LEADERBOARD_COLUMNS, leaderboard_rows, rows_markdown

TERMINAL_COLUMNS = ["Model", "Method", "Control (%)", "Scaling", "Performance (%)", "|A|"]


def leaderboard_markdown(report: Any) -> str:
    return rows_markdown(LEADERBOARD_COLUMNS, leaderboard_rows(report.leaderboard), "No samples.")


def terminal_leaderboard(leaderboard: Any) -> str:
    """A plain fixed-width table of the leaderboard's main columns (leaderboard: the written frame)."""
    rows = [[r["cells"][c][0] for c in TERMINAL_COLUMNS] for r in leaderboard_rows(leaderboard)]
    widths = [max(len(c), *(len(str(r[i])) for r in rows)) for i, c in enumerate(TERMINAL_COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(TERMINAL_COLUMNS, widths, strict=True))
    body = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def wait_table(summary: dict[str, Any]) -> str:
    budget = max(summary["config"]["budgets"])
    lines = [
        "| model | Waits | short problems (%) | long problems (%) |",
        "|---|---|---|---|",
    ]
    for model, per in summary["wait_effect"].items():
        for k, v in per.items():
            s, lo = v["short"], v["long"]
            lines.append(
                f"| {model} | {k} | {s['accuracy']} ({s['correct']}/{s['n']}) | {lo['accuracy']} ({lo['correct']}/{lo['n']}) |"
            )
    return (
        f"Accuracy at budget {budget} by number of forced extensions ('Wait'):\n\n" + "\n".join(lines) + "\n"
    )


def write_note(out: Path, summary: dict[str, Any], report: Any) -> Path:
    cfg = summary["config"]
    plots = sorted(p.name for p in out.glob("scaling_*.png"))
    found = summary["findings"]
    lines = [
        "# Demo: test-time scaling of a tiny model, from curation to leaderboard",
        "",
        "Written by `python -m examples.demo --out results/demo` (`make demo`); every number below comes from this run's run "
        'directories. Task: *modular counter* ("Start at 3. Add 4 mod 10, 9 times."), solved step by step '
        'in the thinking ("3 9:+4=7 8:+4=1 ..."); traces of long problems (more than 4 steps) in the pool '
        'often stop early and answer a partial value, or stop, say "Wait" and finish.',
        "",
        f"- Pool: {summary['pool']['rows']} rows ({', '.join(f'{k} {v}' for k, v in summary['pool']['planted'].items())} "
        f"planted), {summary['pool']['domains']} domains; curated into {', '.join(cfg['subsets'])} "
        f"({cfg['subset_size']} rows each; see [curation.md](curation.md)).",
        "- Models: a 2-layer Qwen2-style model trained from scratch by `s1eval.training` (cpu_tiny recipe) on each subset"
        + (
            f" (reused from an earlier run: {', '.join(summary['reused_models'])})"
            if summary["reused_models"]
            else ""
        )
        + ": "
        + "; ".join(
            f"{k}: {v['global_step']} steps, final loss {_num(v['last_logged_loss'])}"
            for k, v in summary["training"].items()
        )
        + ".",
        f"- Test: {cfg['test_size']} held-out questions (2-10 steps), greedy decoding; budgets {list(cfg['budgets'])}.",
        "",
        "## Leaderboard",
        "",
        leaderboard_markdown(report),
        "Models named `s1k +kxWait` are the s1k model under BF with k forced extensions. Full tables: "
        "[report.md](report.md), [index.html](index.html), [leaderboard.csv](leaderboard.csv), "
        "[budgets.csv](budgets.csv).",
        "",
        *[f"![scaling]({p})\n" for p in plots],
        "## Wait on long problems",
        "",
        wait_table(summary),
        "## The paper's findings on this demo",
        "",
        "Each finding is a paired comparison over the same questions; it holds only when the whole 95% interval "
        "of the difference lies above 0 (the standard of the studies below; each interval on its own, with no "
        "correction for making several checks). " + _summary(found),
        "",
        *[f"- {f['sentence']}" for f in found],
        "",
        *studies_section(summary),
        *rl_section(summary),
    ]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _summary(found: list[dict[str, Any]]) -> str:
    count = {s: sum(f["status"] == s for f in found) for s in ("shown", "contradicted", "not shown")}
    return (
        f"Of {len(found)} checks, {count['shown']} hold, {count['contradicted']} do not hold and "
        f"{count['not shown']} are not shown by the intervals."
    )


def studies_section(summary: dict[str, Any]) -> list[str]:
    """The paper's two studies at the demo's scale: links and each finding with its interval."""
    studies = summary.get("studies")
    if not studies:
        return []
    titles = {
        "extrapolation": "Extrapolation strings (paper Table 4)",
        "ablation": "Data ablation (paper Table 2)",
        "interventions": "Thinking interventions on the BF core (beyond the paper): plain BF against Qwen3's "
        "early stop, a wrap-up hint, AlphaOne's Wait schedule and Dynasor's probes",
    }
    lines = ["## The paper's studies on this demo", ""]
    for name, study in studies.items():
        lines += [f"**{titles.get(name, name)}**: [{study['report']}]({study['report']})", ""]
        lines += [f"- {f['sentence']}" for f in study["findings"]]
        lines.append("")
        if name == "interventions":
            lines += [interventions_caveat(study.get("forced_text_tokens", {})), ""]
    return lines


def interventions_caveat(tokens: dict[str, int]) -> str:
    counts = ", ".join(f"{name} {n}" for name, n in tokens.items())
    return (
        "What this table does not show: the demo model was trained on counter traces only and has never seen "
        "English, so Qwen3's sentence, the wrap-up hint and Dynasor's probe prompt are out-of-distribution text "
        f"to it (tokens in its tokenizer: {counts}); these rows measure how a model that was not trained with an "
        "intervention copes with its forced text, on one synthetic task with greedy decoding, not how the "
        "interventions behave on a reasoning model. The token columns count what each one costs either way."
    )


def rl_section(summary: dict[str, Any]) -> list[str]:
    """SFT vs SFT+GRPO under BF (examples/demo/rl.py): the link and each paired check."""
    rl = summary.get("rl")
    if not rl:
        return []
    cfg, t = summary["config"], rl["training"]
    lines = [
        "## RL after SFT (beyond the paper)",
        "",
        f"GRPO on budget-forced rollouts ({cfg['rl_budget']} thinking tokens, {cfg['rl_extensions']} forced "
        f"Wait(s)), {t['global_step']} steps from the s1k model, reward = the scorer's verdict (mean "
        f"{_num(t['first_logged_reward'])} at the first log, {_num(t['last_logged_reward'])} at the last): "
        f"[{rl['report']}]({rl['report']})",
        "",
        *[f"- {f['sentence']}" for f in rl["findings"]],
        "",
    ]
    return lines


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"
