"""The extrapolation study (the paper's Table 4): which string to append when budget forcing suppresses the
end of thinking.

One model, a set of benchmarks, and one row per strategy: no extrapolation, then N extensions (2 in the
paper) with the empty string (ignore the delimiter only), "Alternatively", "Hmm", "Wait", and the cycle
Wait -> Hmm -> Alternatively. Every strategy has the same thinking budget, answer limit, sampling and seeds,
so a row differs from "no extrapolation" only in what happens when the model stops thinking on its own. Each
cell is a resumable run under `<work>/runs/<strategy>/<benchmark>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1eval.control.budget_forcing import EXTENSION_PRESETS
from s1eval.control.methods import prepare_method, validate_method
from s1eval.data import data_hash
from s1eval.engines.base import Engine
from s1eval.errors import ConfigError, require_positive
from s1eval.runs.evaluate import RunSpec
from s1eval.studies.common import (
    Benchmarks,
    StudyResult,
    cell_dir,
    display_path,
    load_benchmarks,
    run_cell,
    study_engine,
)
from s1eval.studies.findings import extrapolation_findings
from s1eval.studies.render import StudyPage, benchmark_meta, write_study
from s1eval.studies.tables import PAPER_EXTRAPOLATION, study_table

BASELINE = "no extrapolation"


@dataclass(frozen=True)
class Strategy:
    """One row: how many times the end of thinking is suppressed and which strings are appended."""

    key: str  # the run folder name
    label: str  # the table row
    num_extensions: int
    extension_strings: tuple[str, ...] = ("Wait",)

    def settings(self) -> dict[str, Any]:
        return {"num_extensions": self.num_extensions, "extension_strings": self.extension_strings}


STRATEGY_PRESETS: dict[str, str] = {
    "none": "none",
    "alternatively": "Alternatively",
    "hmm": "Hmm",
    "wait": "Wait",
    "cycle": "cycle",
}
"""Preset name -> how its row is labelled ("2x none" ignores the end-of-thinking delimiter only)."""


def default_strategies(extensions: int = 2, presets: Sequence[str] | None = None) -> list[Strategy]:
    """No extrapolation, then `extensions` extensions with each preset (default: all five, in the paper's
    order: none, Alternatively, Hmm, Wait, then the cycle)."""
    require_positive("extensions", extensions, "The paper extends twice (2).")
    chosen = list(STRATEGY_PRESETS) if presets is None else [p.strip().lower() for p in presets if p.strip()]
    unknown = [p for p in chosen if p not in STRATEGY_PRESETS]
    if unknown:
        raise ConfigError(f"unknown strategies {unknown}; use some of: {', '.join(STRATEGY_PRESETS)}")
    out = [Strategy("no_extrapolation", BASELINE, 0)]
    for preset in chosen:
        label = f"{extensions}x {STRATEGY_PRESETS[preset]}"
        out.append(Strategy(f"{extensions}x_{preset}", label, extensions, EXTENSION_PRESETS[preset]))
    return out


def run_extrapolation_study(
    model: str | Engine,
    benchmarks: Benchmarks,
    *,
    max_thinking_tokens: int,
    max_answer_tokens: int = 1024,
    out_dir: str | Path = "results/extrapolation",
    work_dir: str | Path | None = None,
    extensions: int = 2,
    strategies: Sequence[Strategy] | None = None,
    limit: int | None = None,
    samples: int = 1,
    seed: int = 0,
    sampling: Mapping[str, Any] | None = None,
    format_name: str | None = "auto",
    system: str | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    resamples: int = 10_000,
    progress: bool = True,
) -> StudyResult:
    """Run (or resume) every strategy on every benchmark and write the study table to `out_dir`.

    model: a hub id or local path (loaded with `engine` and `engine_options`) or an Engine to use as is.
    benchmarks: 'aime24,math500', a list of names / .jsonl paths / NAME=PATH, or {name: [Problem, ...]}.
    work_dir: where the runs go (default: `out_dir`), as `<work_dir>/runs/<strategy>/<benchmark>`.
    sampling: SamplingParams fields (temperature, top_p, ...) shared by every strategy.
    Returns the table (rows: strategies; columns: (benchmark, metric)), the run folders and the files.
    """
    require_positive("samples", samples, "Use 1 for one sample per question.")
    strategies = list(strategies) if strategies is not None else default_strategies(extensions)
    labels = [s.label for s in strategies]
    if len(set(labels)) != len(labels) or len({s.key for s in strategies}) != len(strategies):
        raise ConfigError(f"strategy names must be unique, got {labels}")
    if BASELINE not in labels:
        raise ConfigError(f"the study compares every strategy with {BASELINE!r}; keep that row")
    base = {
        "max_thinking_tokens": max_thinking_tokens,
        "max_answer_tokens": max_answer_tokens,
        **(sampling or {}),
    }
    for s in strategies:  # every setting is checked before a model is loaded
        validate_method("bf", base | s.settings())
    problems = load_benchmarks(benchmarks, limit=limit, seed=seed)
    out = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else out

    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    runs: dict[tuple[str, str], Path] = {}
    with study_engine(model, engine, engine_options) as eng:
        for s in strategies:
            prepared = prepare_method(eng, "bf", base | s.settings(), format_name)
            for bench, rows in problems.items():
                run_dir = cell_dir(work, s.key, bench)
                spec = RunSpec(benchmark=bench, samples=samples, seed=seed, system=system, label=s.label)
                cells[(s.label, bench)] = run_cell(prepared, rows, run_dir, spec, progress=progress)
                runs[(s.label, bench)] = run_dir

    table = study_table(
        cells, labels, list(problems), BASELINE, index_name="strategy", resamples=resamples, seed=0
    )
    findings = extrapolation_findings(table, row=f"{extensions}x Wait")
    hashes = {b: data_hash(p) for b, p in problems.items()}
    page = StudyPage(
        slug="extrapolation",
        title=f"Extrapolation study: {eng.model_id}",
        row_header="Strategy",
        meta={
            "Model": eng.model_id,
            "Benchmarks": benchmark_meta(problems, hashes),
            "Budget forcing": f"max thinking tokens {max_thinking_tokens}, max answer tokens {max_answer_tokens}, "
            f"sampling {dict(sampling or {}) or 'greedy'}, {samples} sample(s) per question, seed {seed}",
            "Strategies": "; ".join(
                f"{s.label}: {s.num_extensions} extension(s)"
                + (f" with {' -> '.join(repr(x) for x in s.extension_strings)}" if s.num_extensions else "")
                for s in strategies
            ),
            "Runs": f"{display_path(work / 'runs', out)}/<strategy>/<benchmark> (s1eval report reads them)",
            "Intervals": f"95%: Wilson for one sample per question, else bootstrap over questions; differences: "
            f"paired bootstrap over shared questions ({resamples} resamples, seed 0)",
        },
        notes=[
            "Accuracy in percent. diff: this row minus 'no extrapolation' in accuracy points on the same "
            "questions, with its 95% interval and two-sided p-value. Thinking tokens: mean generated thinking "
            "tokens per sample (forced extension strings not counted). An 'Nx' row suppresses the end of "
            "thinking up to N times; the cycle appends Wait, Hmm, Alternatively in turn, so at 2x it uses Wait "
            "then Hmm.",
        ],
        paper=PAPER_EXTRAPOLATION,
        paper_caption="The paper's numbers, not ours (Muennighoff et al., 2025, Table 4: s1-32B)",
        findings_caption="The paper's finding on these runs: extrapolating with Wait >= no extrapolation",
        findings=findings,
        budget=max_thinking_tokens,
    )
    files = write_study(table, page, out)
    return StudyResult("extrapolation", table, out, runs, files, findings, {"strategies": strategies})
