"""The demo pipeline: task data -> curation -> SFT with the recipe -> every control method -> report.

Each stage uses the project's own parts (s1eval.curation.curate, s1eval.training.recipe.train, s1eval.runs.evaluate,
s1eval.report.write_report); this module only wires them together and computes the demo's summary from the
run directories. `prepare` (data, curation, trained models) is the hook that other studies reuse.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from examples.demo import pool as demo_pool
from examples.demo import task
from s1eval.data import Problem
from s1eval.studies.findings import Finding, paired_finding

CURATION_CONFIG = Path(__file__).with_name("curation.yaml")
TRAINING_CONFIG = "cpu_tiny"
Log = Callable[[str], None]


@dataclass
class DemoConfig:
    """Sizes and settings of one demo run; the defaults are the committed results/demo run."""

    out: Path = Path("results/demo")
    workdir: Path = Path("demo-work")
    seed: int = 0
    test_size: int = 200
    subset_size: int = 600
    subsets: tuple[str, ...] = ("s1k", "random")
    epochs: float = 20
    max_steps: int | None = None
    batch_size: int = 16
    learning_rate: float = 3e-3
    hidden_size: int = 128
    layers: int = 2
    budgets: tuple[int, ...] = (8, 16, 24, 32, 48, 64, 96)
    extensions: tuple[int, ...] = (1, 2, 3, 4)
    prompt_budgets: tuple[int, ...] = (16, 32, 96)
    rs_tries: int = 4
    vote_n: int = 8
    max_answer_tokens: int = 8
    max_tokens: int = 128
    """Thinking limit of the methods that do not cap (TCC, CCC, RS tries): ends a runaway sample."""
    eval_batch_size: int = 64
    resamples: int = 2000
    threads: int = 1
    parallel: int = 2
    """Models trained side by side (processes); the demo machine has two cores."""
    """torch threads: one is fastest for these tiny matrices, and far faster on shared cores."""
    reuse_models: bool = False
    """--quick: reuse trained models found in the work dir instead of training them again."""
    studies: bool = True
    """Also run the paper's two studies (extrapolation strings on the s1k model; the data ablation)."""
    ablation_subsets: tuple[str, ...] = ("s1k", "random", "diverse", "longest", "full")
    """Subsets the data-ablation study trains a model on (the leaderboard uses `subsets` of them)."""
    ablation_methods: tuple[str, ...] = ("bf", "bf+wait1")
    """Runs of the ablation models (the main model, the first subset, gets every method)."""
    interventions: tuple[str, ...] = (
        "early_stop",
        "wrap_up:grace=8",
        "alphaone:after=\\n",
        "dynasor:interval=16:probe_tokens=4",
    )
    """The interventions study's rows beside plain BF: each at its defaults except where this model's scale
    needs it (a grace and probe interval within the budgets; the demo tokenizer splits "\\n\\n" in two)."""
    rl: bool = True
    """Also train the s1k model further with GRPO on budget-forced rollouts and compare it with SFT alone."""
    rl_steps: int = 150
    rl_budget: int = 48
    """The thinking budget of every GRPO rollout: where extra Waits cost the SFT model accuracy."""
    rl_extensions: int = 2
    rl_generations: int = 8
    rl_batch: int = 16
    rl_learning_rate: float = 1e-4
    rl_beta: float = 0.04
    """The KL term towards the SFT model (TRL's beta): without it 300 steps at 3e-4 collapsed to 0% accuracy."""
    log: Log = field(default=print, repr=False)


@dataclass
class Prepared:
    """What the demo trained and tests on: the hook studies use (issue 13) to run their own sweeps."""

    models: dict[str, Path]
    """Subset name -> trained model directory (loadable by HFEngine / s1eval eval)."""
    problems: list[Problem]
    test_path: Path
    curation_dir: Path
    pool_summary: dict[str, Any]
    training: dict[str, dict[str, Any]]
    reused: list[str]
    format: str = "s1"
    system: str | None = None
    """The system prompt the models were trained with (None: the format's default)."""


# --------------------------------------------------------------------------- stages
def make_data(cfg: DemoConfig) -> tuple[list[Problem], Path, Path, dict[str, Any]]:
    """The held-out test set and the curation pool, written under the work dir."""
    pool_specs, test_specs = task.split_specs(cfg.test_size, cfg.seed)
    problems = task.test_problems(test_specs)
    data = cfg.workdir / "data"
    test_path = task.write_problems(problems, data / "test.jsonl")
    rows = demo_pool.build_pool(pool_specs, test_specs, seed=cfg.seed)
    pool_path = demo_pool.write_pool(rows, data / "pool.jsonl")
    return problems, test_path, pool_path, demo_pool.describe(rows)


def curation_config(cfg: DemoConfig, pool_path: Path, test_path: Path) -> Any:
    """The demo's curation config: curation.yaml with the pool, the test set to decontaminate against, sizes."""
    import yaml

    from s1eval.curation import config_from_dict

    data = yaml.safe_load(CURATION_CONFIG.read_text(encoding="utf-8"))
    data["seed"] = cfg.seed
    data["pool"]["path"] = str(pool_path)
    data["contamination"]["eval_sets"] = [
        {"name": f"{task.BENCHMARK}-test", "path": str(test_path), "field": "question"}
    ]
    data["subsets"]["n"] = cfg.subset_size
    data["subsets"]["names"] = list(trained_subsets(cfg))
    return config_from_dict(data, base_dir=CURATION_CONFIG.parent)


def trained_subsets(cfg: DemoConfig) -> tuple[str, ...]:
    """Every subset a model is trained on: the leaderboard's, plus the ablation study's when it runs."""
    return tuple(dict.fromkeys(cfg.subsets + (cfg.ablation_subsets if cfg.studies else ())))


def curate_subsets(cfg: DemoConfig, pool_path: Path, test_path: Path) -> tuple[dict[str, Path], Path, Any]:
    """Run the curation stages on the pool; return subset name -> training jsonl.

    The data-ablation study's own curation step writes them (same config and seed, so byte-identical), into
    the study's work dir: the study then finds the models trained here and does not train them again.
    """
    from s1eval.studies.ablation import curate_subsets as study_curate

    out = ablation_workdir(cfg) / "data"
    names = trained_subsets(cfg)
    files, info = study_curate(
        curation_config(cfg, pool_path, test_path),
        out,
        subset_size=cfg.subset_size,
        seed=cfg.seed,
        subsets=names,
    )
    return files, out, info


def ablation_workdir(cfg: DemoConfig) -> Path:
    return cfg.workdir / "ablation"


def build_base(cfg: DemoConfig) -> Path:
    """The random tiny model the recipe starts from, with a tokenizer trained on the task's text."""
    from s1eval.testing.tiny_model import build_tiny_model

    path = cfg.workdir / "base"
    if not (path / "config.json").exists():
        build_tiny_model(
            path,
            hidden_size=cfg.hidden_size,
            layers=cfg.layers,
            heads=4,
            kv_heads=2,
            vocab_size=400,
            initializer_range=0.02,
            max_positions=256,
            corpus=list(task.tokenizer_corpus(cfg.seed)),
            seed=cfg.seed,
        )
    return path


def training_args(cfg: DemoConfig, base: Path) -> list[str]:
    """Overrides of training/configs/cpu_tiny.yaml shared by every demo model (the data is added per model)."""
    return [
        "--model_name_or_path", str(base),
        "--learning_rate", str(cfg.learning_rate),
        "--num_train_epochs", str(cfg.epochs),
        "--per_device_train_batch_size", str(cfg.batch_size),
        "--max_length", "256",
        "--save_strategy", "no",
        "--logging_steps", str(max(1, min(100, (cfg.max_steps or 100) // 4))),
        "--disable_tqdm", "true",
        "--seed", str(cfg.seed),
    ]  # fmt: skip


def _train_job(args: list[str], out: str, max_steps: int | None, threads: int) -> dict[str, Any]:
    """One SFT run with the project's recipe (in a worker process when models train side by side)."""
    import torch
    import transformers

    from s1eval.training.recipe import train

    torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    if Path(out).exists():
        shutil.rmtree(out)
    return train(TRAINING_CONFIG, args, output_dir=out, max_steps=max_steps)


def train_models(cfg: DemoConfig, jobs: dict[str, tuple[list[str], Path]]) -> dict[str, dict[str, Any]]:
    """Train every model, side by side in `cfg.parallel` processes (one torch thread each) when > 1."""
    if cfg.parallel <= 1 or len(jobs) <= 1:
        return {name: _train_job(a, str(out), cfg.max_steps, cfg.threads) for name, (a, out) in jobs.items()}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(cfg.parallel, len(jobs)), mp_context=ctx) as pool:
        futures = {
            name: pool.submit(_train_job, a, str(out), cfg.max_steps, cfg.threads)
            for name, (a, out) in jobs.items()
        }
        return {name: f.result() for name, f in futures.items()}


def prepare(cfg: DemoConfig) -> Prepared:
    """Data, curation and the trained models: everything before evaluation (the hook for studies)."""
    _setup(cfg)
    t0 = time.perf_counter()
    problems, test_path, pool_path, pool_summary = make_data(cfg)
    subsets, curation_dir, curated = curate_subsets(cfg, pool_path, test_path)
    stages = json.loads((curation_dir / "report.json").read_text(encoding="utf-8")).get("stages", [])
    cfg.log(f"[demo] curated {pool_summary['rows']} pool rows -> {', '.join(subsets)} ({_secs(t0)})")
    base = build_base(cfg)
    models: dict[str, Path] = {}
    training: dict[str, dict[str, Any]] = {}
    reused: list[str] = []
    jobs: dict[str, tuple[list[str], Path]] = {}
    for name, data_path in subsets.items():
        out = ablation_workdir(cfg) / "models" / name
        models[name] = out
        summary_file = out / "training_summary.json"
        if cfg.reuse_models and summary_file.exists():
            training[name] = json.loads(summary_file.read_text(encoding="utf-8"))
            reused.append(name)
            cfg.log(f"[demo] --quick: reusing the {name} model trained earlier in {out}")
        else:
            jobs[name] = (["--dataset_name", str(data_path), *training_args(cfg, base)], out)
    if jobs:
        t1 = time.perf_counter()
        cfg.log(f"[demo] training {', '.join(jobs)} with the recipe (training/configs/cpu_tiny.yaml) ...")
        training |= train_models(cfg, jobs)
        for name in jobs:
            s = training[name]
            cfg.log(
                f"[demo]   {name}: {s['global_step']} steps, loss {_num(s['first_logged_loss'])} -> "
                f"{_num(s['last_logged_loss'])} ({s['train_time_s']:.0f} s of training)"
            )
        cfg.log(f"[demo] trained in {_secs(t1)}")
    leaderboard = {name: models[name] for name in cfg.subsets}
    pool_summary = pool_summary | {"curation_stages": stages, "pool_path": str(pool_path)}
    return Prepared(leaderboard, problems, test_path, curation_dir, pool_summary, training, reused)


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class RunPlan:
    """One evaluation: a method with its settings and x-axis on one model."""

    name: str
    method: str
    settings: dict[str, Any]
    budgets: tuple[Any, ...] | None
    samples: int = 1
    variant_suffix: str = ""


def run_plans(cfg: DemoConfig) -> list[RunPlan]:
    """Every method of the leaderboard (the main model runs all of them)."""
    answer = {"max_answer_tokens": cfg.max_answer_tokens}
    big = max(cfg.budgets)
    plans = [RunPlan("bf", "bf", {"max_thinking_tokens": big, "num_extensions": 0, **answer}, cfg.budgets)]
    for k in cfg.extensions:
        plans.append(
            RunPlan(
                f"bf+wait{k}",
                "bf",
                {"max_thinking_tokens": big, "num_extensions": k, **answer},
                cfg.budgets,
                variant_suffix=f" +{k}xWait",
            )
        )
    limit = {"max_tokens": cfg.max_tokens, **answer}
    plans += [
        RunPlan("tcc", "tcc", limit, cfg.prompt_budgets),
        RunPlan("ccc", "ccc", limit, ("short", "long")),
        RunPlan("rs", "rs", {"max_tries": cfg.rs_tries, **limit}, cfg.prompt_budgets),
        RunPlan(
            "vote",
            "vote",
            {"n": cfg.vote_n, "max_thinking_tokens": big, "kind": task.KIND, **answer},
            tuple(range(1, cfg.vote_n + 1)),
        ),
    ]
    return plans


def evaluate_plan(
    cfg: DemoConfig, prep: Prepared, engine: Any, name: str, plan: RunPlan, runs: Path | None = None
) -> Path:
    """One plan on one model into a fresh run dir `RUNS/<name>/<plan>` (default RUNS: WORK/runs); returns it."""
    from s1eval.control.methods import prepare_method
    from s1eval.runs.evaluate import RunSpec, evaluate

    t0 = time.perf_counter()
    prepared = prepare_method(engine, plan.method, plan.settings, prep.format)
    run_dir = (runs or cfg.workdir / "runs") / name / plan.name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    spec = RunSpec(
        benchmark=task.BENCHMARK,
        budgets=plan.budgets,
        samples=plan.samples,
        seed=cfg.seed,
        system=prep.system,
        label=f"{name} / {plan.name}",
        model_variant=name + plan.variant_suffix,
        chunk_size=len(prep.problems),
    )
    evaluate(prepared, prep.problems, run_dir, spec)
    cfg.log(f"[demo]   {name} / {plan.name}: {len(prep.problems)} questions ({_secs(t0)})")
    return run_dir


def evaluate_models(cfg: DemoConfig, prep: Prepared) -> list[Path]:
    """Run the plans through the eval runner into fresh run dirs; return them."""
    from s1eval.control.methods import method_names
    from s1eval.engines.hf import HFEngine

    available = set(method_names())
    run_dirs: list[Path] = []
    for i, (name, model_dir) in enumerate(prep.models.items()):
        engine = HFEngine(str(model_dir), batch_size=cfg.eval_batch_size)
        plans = run_plans(cfg)
        if i > 0:
            plans = [p for p in plans if p.name in cfg.ablation_methods]
        for plan in plans:
            if plan.method not in available:
                cfg.log(f"[demo] method {plan.method} is not registered in this install; skipped")
                continue
            run_dirs.append(evaluate_plan(cfg, prep, engine, name, plan))
    return run_dirs


def rl_plans(cfg: DemoConfig) -> list[RunPlan]:
    """The SFT vs SFT+GRPO comparison: BF with no extension and with the extensions GRPO trained with."""
    wanted = {"bf", f"bf+wait{cfg.rl_extensions}"}
    return [p for p in run_plans(cfg) if p.name in wanted]


# --------------------------------------------------------------------------- summary
def read_records(run_dir: Path) -> list[dict[str, Any]]:
    from s1eval.runs.store import read_latest

    return read_latest(run_dir)


def accuracy_by_length(records: list[dict[str, Any]], problems: list[Problem], budget: Any) -> dict[str, Any]:
    """Accuracy (%) on the short and the long problems at one budget, with the counts behind it."""
    long_ids = {p.id for p in problems if p.metadata.get("long")}
    out: dict[str, Any] = {}
    for part, keep in (("short", lambda i: i not in long_ids), ("long", lambda i: i in long_ids)):
        rows = [r for r in records if r["budget"] == budget and keep(r["id"])]
        correct = sum(1 for r in rows if r["correct"])
        out[part] = {
            "correct": correct,
            "n": len(rows),
            "accuracy": round(100 * correct / len(rows), 1) if rows else None,
        }
    return out


def wait_effect(cfg: DemoConfig, prep: Prepared) -> dict[str, Any]:
    """Long vs short accuracy at the largest budget with 0..4 extensions, per model, from the run dirs."""
    big = max(cfg.budgets)
    out: dict[str, Any] = {}
    for name in prep.models:
        per: dict[str, Any] = {}
        for k in (0, *cfg.extensions):
            run = cfg.workdir / "runs" / name / ("bf" if k == 0 else f"bf+wait{k}")
            if run.exists():
                per[str(k)] = accuracy_by_length(read_records(run), prep.problems, big)
        out[name] = per
    return out


def _at(records: list[dict[str, Any]], budget: Any, ids: set[str] | None = None) -> list[dict[str, Any]]:
    return [r for r in records if r["budget"] == budget and (ids is None or r["id"] in ids)]


def _within_budget(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each record scored 1 when its thinking stayed within its own budget (what Control counts), else 0."""
    return [
        {"id": r["id"], "sample": r.get("sample"), "correct": r["ledger"]["thinking_tokens"] <= r["budget"]}
        for r in records
    ]


def _mean_thinking(records: list[dict[str, Any]]) -> float:
    return sum(r["ledger"]["thinking_tokens"] for r in records) / max(1, len(records))


def findings(cfg: DemoConfig, prep: Prepared) -> list[Finding]:
    """The paper's findings on this run, each a paired comparison over the same questions: a finding holds only
    when the whole 95% interval of the difference lies above 0 (the studies' standard; no ad-hoc margins)."""
    main = next(iter(prep.models))
    runs = cfg.workdir / "runs"
    big, small = max(cfg.budgets), min(cfg.budgets)
    long_ids = {p.id for p in prep.problems if p.metadata.get("long")}
    bench = "modcounter"
    compare = functools.partial(paired_finding, resamples=cfg.resamples, seed=cfg.seed)

    def records(model: str, run: str) -> list[dict[str, Any]]:
        path = runs / model / run
        return read_records(path) if path.exists() else []

    bf = records(main, "bf")
    wait1 = records(main, "bf+wait1")
    out = [compare(f"BF at {big} tokens", f"BF at {small} tokens", bench, _at(bf, big), _at(bf, small))]
    if wait1:
        out.append(
            compare(
                f"BF+1xWait at {big}",
                f"BF at {big}",
                f"{bench} (long problems)",
                _at(wait1, big, long_ids),
                _at(bf, big, long_ids),
            )
        )
    tcc = records(main, "tcc")
    if tcc:
        shared = {r["budget"] for r in tcc}  # the same budgets on both sides, paired by question
        out.append(
            compare(
                f"BF Control at {sorted(shared)}",
                "TCC Control",
                bench,
                _within_budget([r for r in bf if r["budget"] in shared]),
                _within_budget(tcc),
            )
        )
    rs = records(main, "rs")
    if rs:
        rs_budgets = sorted({r["budget"] for r in rs})
        lo, hi = rs_budgets[0], rs_budgets[-1]

        def accepted(budget: Any) -> str:
            rows = _at(rs, budget)
            return f"{sum(bool(r['ledger'].get('accepted')) for r in rows)}/{len(rows)} accepted"

        # the paper's inverse scaling; a sample that no try fitted falls back to the shortest try, so the
        # acceptance rate says how much of each side is the rule rather than the model
        out.append(
            compare(
                f"RS at {lo} ({accepted(lo)})",
                f"RS at {hi} ({accepted(hi)})",
                bench,
                _at(rs, lo),
                _at(rs, hi),
            )
        )
    vote = records(main, "vote")
    seq = _at(records(main, f"bf+wait{max(cfg.extensions)}"), big)
    if vote and seq:
        # compute-matched: the vote size whose thinking tokens (all samples together) come closest to BF's
        bf_tokens = _mean_thinking(seq)
        n = min(
            sorted({r["budget"] for r in vote}), key=lambda k: abs(_mean_thinking(_at(vote, k)) - bf_tokens)
        )
        out.append(
            compare(
                f"BF+{max(cfg.extensions)}xWait at {big} ({bf_tokens:.0f} thinking tokens)",
                f"Vote n={n} ({_mean_thinking(_at(vote, n)):.0f} thinking tokens)",
                bench,
                seq,
                _at(vote, n),
            )
        )
    for ablation in list(prep.models)[1:]:
        theirs = records(ablation, "bf+wait1")
        if wait1 and theirs:
            out.append(
                compare(
                    f"{main} BF+1xWait",
                    f"{ablation} BF+1xWait",
                    f"{bench} at {big}",
                    _at(wait1, big),
                    _at(theirs, big),
                )
            )
    return out


# --------------------------------------------------------------------------- the whole demo
def run_demo(cfg: DemoConfig) -> dict[str, Any]:
    """Everything: returns the summary that is also written to OUT/summary.json."""
    from s1eval.report.build import write_report

    started = time.perf_counter()
    timings: dict[str, float] = {}
    prep = prepare(cfg)
    timings["prepare"] = round(time.perf_counter() - started, 1)
    t0 = time.perf_counter()
    cfg.log(f"[demo] evaluating on {len(prep.problems)} held-out questions ...")
    run_dirs = evaluate_models(cfg, prep)
    timings["evaluate"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    if (cfg.out / "summary.json").exists():  # an earlier demo report: start clean, touch nothing else
        shutil.rmtree(cfg.out)
    report = write_report(
        run_dirs,
        cfg.out,
        title="s1eval demo: test-time scaling of a tiny model trained on a modular counter",
        resamples=cfg.resamples,
        seed=cfg.seed,
    )
    waits = wait_effect(cfg, prep)
    found = [
        {"claim": f.claim, "benchmark": f.benchmark, "status": f.status, "sentence": f.sentence()}
        for f in findings(cfg, prep)
    ]
    timings["report"] = round(time.perf_counter() - t0, 1)
    timings["total"] = round(time.perf_counter() - started, 1)
    summary = {
        "config": _config_dict(cfg),
        "pool": prep.pool_summary,
        "training": {k: _training_brief(v) for k, v in prep.training.items()},
        "reused_models": prep.reused,
        "wait_effect": waits,
        "findings": found,
    }
    if cfg.studies:
        t0 = time.perf_counter()
        summary["studies"] = run_studies(cfg, prep)
        timings["studies"] = round(time.perf_counter() - t0, 1)
        timings["total"] = round(time.perf_counter() - started, 1)
    if cfg.rl:
        from examples.demo.rl import run_rl

        t0 = time.perf_counter()
        step = functools.partial(evaluate_plan, cfg, prep, runs=cfg.workdir / "rl" / "runs")
        summary["rl"] = run_rl(cfg, prep, step, rl_plans(cfg))
        timings["rl"] = round(time.perf_counter() - t0, 1)
        timings["total"] = round(time.perf_counter() - started, 1)
    (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    # wall times differ run to run: they go to the work dir and the terminal, not into the committed report
    (cfg.workdir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    cfg.log(
        f"[demo] wall time {timings['total']:.0f} s (prepare {timings['prepare']:.0f} s, evaluate "
        f"{timings['evaluate']:.0f} s); {cfg.workdir / 'timings.json'}"
    )
    curation_md = prep.curation_dir / "report.md"
    if curation_md.exists():
        shutil.copyfile(curation_md, cfg.out / "curation.md")
    from examples.demo.note import write_note

    write_note(cfg.out, summary, report)
    return summary


def run_studies(cfg: DemoConfig, prep: Prepared) -> dict[str, Any]:
    """The paper's two studies and the interventions study at the demo's scale (OUT/extrapolation, OUT/ablation,
    OUT/interventions)."""
    from s1eval.studies import run_extrapolation_study
    from s1eval.studies.ablation import run_ablation_study
    from s1eval.studies.interventions import run_interventions_study

    bench = {task.BENCHMARK: prep.problems}
    common = {
        "max_thinking_tokens": max(cfg.budgets),
        "max_answer_tokens": cfg.max_answer_tokens,
        "format_name": prep.format,
        "system": prep.system,
        "engine_options": {"batch_size": cfg.eval_batch_size},
        "resamples": cfg.resamples,
        "seed": cfg.seed,
        "progress": False,
    }
    t0 = time.perf_counter()
    extrapolation = run_extrapolation_study(
        prep.models[cfg.subsets[0]],
        bench,
        out_dir=cfg.out / "extrapolation",
        work_dir=cfg.workdir / "extrapolation",
        **common,
    )
    cfg.log(f"[demo] extrapolation study ({_secs(t0)})")
    t0 = time.perf_counter()
    ablation = run_ablation_study(
        curation_config(cfg, Path(prep.pool_summary["pool_path"]), prep.test_path),
        bench,
        train_config=TRAINING_CONFIG,
        out_dir=cfg.out / "ablation",
        work_dir=ablation_workdir(cfg),
        subset_size=cfg.subset_size,
        subsets=cfg.ablation_subsets,
        train_args=training_args(cfg, build_base(cfg)),
        wall_times=False,  # results/demo must come back byte for byte; the terminal shows the times
        **common,
    )
    cfg.log(f"[demo] data-ablation study ({_secs(t0)})")
    t0 = time.perf_counter()
    interventions = run_interventions_study(
        prep.models[cfg.subsets[0]],
        bench,
        budgets=cfg.budgets,
        interventions=cfg.interventions,
        out_dir=cfg.out / "interventions",
        work_dir=cfg.workdir / "interventions",
        **{k: v for k, v in common.items() if k != "max_thinking_tokens"},
    )
    cfg.log(f"[demo] interventions study ({_secs(t0)})")
    out = {
        study.name: {
            "report": str(study.markdown.relative_to(cfg.out)),
            "findings": [
                {"claim": f.claim, "status": f.status, "sentence": f.sentence()} for f in study.findings
            ],
        }
        for study in (extrapolation, ablation, interventions)
    }
    out["interventions"]["forced_text_tokens"] = forced_text_tokens(prep.models[cfg.subsets[0]])
    return out


def forced_text_tokens(model_dir: Path) -> dict[str, int]:
    """How many of the demo tokenizer's tokens each intervention's English text takes (the note says so)."""
    from transformers import AutoTokenizer

    from s1eval.control.interventions import DYNASOR_PROBE, QWEN3_EARLY_STOP, WRAP_UP_HINT

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    texts = {"early_stop": QWEN3_EARLY_STOP, "wrap_up": WRAP_UP_HINT, "dynasor": DYNASOR_PROBE}
    return {name: len(tok.encode(text, add_special_tokens=False)) for name, text in texts.items()}


def _setup(cfg: DemoConfig) -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(cfg.threads)
    try:
        import datasets
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover - both ship with the package
        pass
    cfg.workdir.mkdir(parents=True, exist_ok=True)


def _secs(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f} s"


def _config_dict(cfg: DemoConfig) -> dict[str, Any]:
    d = asdict(cfg)
    d.pop("log", None)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def _training_brief(s: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "examples",
        "global_step",
        "epochs",
        "first_logged_loss",
        "last_logged_loss",
        "tokens_seen",
    )  # no wall times: summary.json is committed and must come back byte for byte
    return {k: s.get(k) for k in keys}


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"
