"""Readers that turn run outputs into one normalised sample frame (s1eval.metrics.frame.COLUMNS).

Three sources, one small reader each, chosen by what a path holds:

- an s1eval run directory (``manifest.json`` + ``samples.jsonl``, see s1eval.runs.schema);
- an lm-eval ``--output_path`` directory (``results_<ts>.json`` + ``samples_<task>_<ts>.jsonl``; the ledger is
  the ``s1_ledger`` key of each sample row);
- an Inspect log (``.eval``; the ledger is ``sample.scores[scorer].metadata["ledger"]``).

A path that is none of these is searched below for any of them, so ``s1eval report runs/`` reads everything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.errors import DataError
from s1eval.jsonl import read_jsonl
from s1eval.metrics.frame import normalise
from s1eval.runs.store import read_latest

LM_EVAL_METRICS: tuple[str, ...] = ("exact_match", "acc", "correct", "score", "pass@1", "accuracy")
_MODEL_KEYS: tuple[str, ...] = ("pretrained", "model", "model_name", "path", "model_path")


@dataclass
class RunInfo:
    """What a report prints about one run, beside its samples."""

    label: str
    source: str
    path: str
    model: str = ""
    variant: str = ""
    benchmark: str = ""
    method: str = ""
    data_hash: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    s1eval_version: str = ""
    n_samples: int = 0


@dataclass
class RunSet:
    frame: pd.DataFrame
    runs: list[RunInfo]


def canonical_benchmark(name: str) -> str:
    """'s1_aime24', 'tasks/aime24.py@aime24', 's1eval/aime24' and 'aime24' all name the same benchmark."""
    text = str(name).strip().lower()
    text = text.split("@")[-1].split("/")[-1]
    text = re.sub(r"\.py$", "", text)
    return re.sub(r"^s1_", "", text)


def _ledger_fields(ledger: dict[str, Any] | None) -> dict[str, Any]:
    ledger = ledger or {}
    out = {k: ledger[k] for k in ("thinking_tokens", "answer_tokens", "extensions", "capped") if k in ledger}
    for key in ("method", "budget", "outcome"):
        if ledger.get(key) is not None:
            out[key] = ledger[key]
    return out


def _display_path(path: Path) -> str:
    """A path without machine-specific parents, so reports do not change when runs move."""
    return path.name or str(path)


# ----------------------------------------------------------------------------------------------- s1eval runs


def is_s1eval_run(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file() and (path / "samples.jsonl").is_file()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_jsonl(path, skip_torn_tail=True)]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg})") from exc


def record_row(rec: Mapping[str, Any], **defaults: Any) -> dict[str, Any]:
    """One s1eval sample record as a frame row: `defaults` (the run's method, benchmark, ...), then its ledger's
    fields, then the record's own, which win."""
    row: dict[str, Any] = dict(defaults)
    row.update(_ledger_fields(rec.get("ledger")))
    for key in ("method", "budget", "outcome", "sample", "correct"):
        if rec.get(key) is not None:
            row[key] = rec[key]
    if rec.get("benchmark"):
        row["benchmark"] = canonical_benchmark(rec["benchmark"])
    row["qid"] = rec.get("id")
    return row


def read_s1eval_run(path: Path) -> RunSet:
    """One s1eval run directory; a record's own fields win over its ledger's, the manifest fills the rest."""
    manifest = _read_json(path / "manifest.json")
    model = str(manifest.get("model") or "")
    variant = str(manifest.get("model_variant") or "")
    method = str(manifest.get("method") or "")
    benchmark = canonical_benchmark(manifest.get("benchmark") or path.name)
    label = str(manifest.get("label") or f"{variant or model} / {method}")
    rows = [  # what resume sees: a retried or rewritten key counts once
        record_row(rec, method=method, benchmark=benchmark)
        | dict(run=label, source="s1eval", model=model, variant=variant)
        for rec in read_latest(path)
    ]
    info = RunInfo(
        label=label,
        source="s1eval",
        path=_display_path(path),
        model=model,
        variant=variant,
        benchmark=benchmark,
        method=method,
        data_hash=str(manifest.get("data_hash") or ""),
        settings=dict(manifest.get("settings") or {}),
        s1eval_version=str(manifest.get("s1eval_version") or ""),
        n_samples=len(rows),
    )
    return RunSet(normalise(rows), [info])


# ----------------------------------------------------------------------------------------------------- lm-eval

_RESULTS_RE = re.compile(r"^results_(?P<ts>.+)\.json$")
_SAMPLES_RE = re.compile(r"^samples_(?P<task>.+)_(?P<ts>\d{4}-\d{2}-\d{2}T[^_]+)\.jsonl$")


def is_lm_eval_results(path: Path) -> bool:
    return path.is_file() and bool(_RESULTS_RE.match(path.name))


def parse_model_args(model_args: Any) -> dict[str, Any]:
    """lm-eval stores model_args as 'k=v,k=v' or as a dict, depending on how it was called."""
    if isinstance(model_args, dict):
        return dict(model_args)
    out: dict[str, Any] = {}
    for part in str(model_args or "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _lm_eval_correct(doc_row: dict[str, Any], metric: str | None) -> float | None:
    names = ([metric] if metric else []) + list(LM_EVAL_METRICS)
    for name in names:
        value = doc_row.get(name)
        if isinstance(value, (int, float, bool)):
            return float(value)
    return None


def _lm_eval_question_id(doc_row: dict[str, Any]) -> Any:
    """The benchmark's own question id when the doc has one (s1eval's tasks, most stock tasks), as the s1eval
    and Inspect readers use, so runs of one benchmark pair across front ends; else lm-eval's position."""
    doc = doc_row.get("doc")
    if isinstance(doc, dict):
        for key in ("id", "question_id", "ID", "Record ID"):
            if doc.get(key) not in (None, ""):
                return doc[key]
    return doc_row.get("doc_id")


def read_lm_eval_results(path: Path) -> RunSet:
    """One ``results_<ts>.json`` and the ``samples_<task>_<ts>.jsonl`` files of the same timestamp."""
    results = _read_json(path)
    ts = _RESULTS_RE.match(path.name).group("ts")  # type: ignore[union-attr]
    config = results.get("config") or {}
    margs = parse_model_args(config.get("model_args"))
    model = next((str(margs[k]) for k in _MODEL_KEYS if margs.get(k)), "") or str(
        results.get("model_name") or config.get("model") or ""
    )
    variant = str(margs.get("model_variant") or margs.get("variant") or "")
    model_type = str(config.get("model") or "")
    default_method = model_type[3:] if model_type.startswith("s1_") else ""
    task_configs = results.get("configs") or {}
    task_hashes = results.get("task_hashes") or {}
    frames, runs = [], []
    samples_files = sorted(p for p in path.parent.glob(f"samples_*_{ts}.jsonl") if _SAMPLES_RE.match(p.name))
    if not samples_files:
        raise DataError(f"{path}: no samples_<task>_{ts}.jsonl beside it; rerun lm-eval with --log_samples")
    for sfile in samples_files:
        task = _SAMPLES_RE.match(sfile.name).group("task")  # type: ignore[union-attr]
        metric_list = (task_configs.get(task) or {}).get("metric_list") or []
        metric = metric_list[0].get("metric") if metric_list and isinstance(metric_list[0], dict) else None
        benchmark = canonical_benchmark(task)
        rows = []
        for doc_row in _read_jsonl(sfile):
            correct = _lm_eval_correct(doc_row, metric)
            ledgers = doc_row.get("s1_ledger")
            ledger_list = ledgers if isinstance(ledgers, list) else [ledgers]
            for i, ledger in enumerate(ledger_list):
                row: dict[str, Any] = {"method": default_method, "budget": margs.get("budget")}
                row.update(_ledger_fields(ledger))
                sample_correct = (ledger or {}).get("correct", correct)
                label = f"{variant or model} / {row['method']}"
                row.update(
                    run=label,
                    source="lm_eval",
                    model=model,
                    variant=variant,
                    benchmark=benchmark,
                    qid=_lm_eval_question_id(doc_row),
                    sample=i,
                    correct=sample_correct,
                )
                rows.append(row)
        frame = normalise(rows)
        frames.append(frame)
        methods = sorted(set(frame["method"]))
        runs.append(
            RunInfo(
                label=f"{variant or model} / {','.join(methods)}",
                source="lm_eval",
                path=f"{_display_path(path.parent)}/{sfile.name}",
                model=model,
                variant=variant,
                benchmark=benchmark,
                method=",".join(methods),
                data_hash=str(task_hashes.get(task) or ""),
                settings={k: v for k, v in margs.items() if k not in _MODEL_KEYS},
                s1eval_version=str((config.get("s1") or {}).get("s1eval_version") or ""),
                n_samples=len(frame),
            )
        )
    return RunSet(pd.concat(frames, ignore_index=True), runs)


# ----------------------------------------------------------------------------------------------------- Inspect


def is_inspect_log(path: Path) -> bool:
    return path.is_file() and path.suffix == ".eval"


def _pick_score(scores: dict[str, Any] | None) -> tuple[Any, dict[str, Any] | None]:
    """The score that carries a ledger (s1eval's scorers), else the first score."""
    if not scores:
        return None, None
    for score in scores.values():
        if isinstance(score.metadata, dict) and isinstance(score.metadata.get("ledger"), dict):
            return score.value, score.metadata["ledger"]
    first = next(iter(scores.values()))
    return first.value, None


def _inspect_settings(spec: Any) -> dict[str, Any]:
    """What the user set for an Inspect run: task and solver arguments they passed, epochs, generate options
    (`--temperature`, `--max-tokens`, `--reasoning-tokens`, ...) and model arguments (`-M`)."""
    settings: dict[str, Any] = dict(spec.task_args_passed or {}) | dict(spec.solver_args_passed or {})
    epochs = getattr(spec.config, "epochs", None)
    if epochs:
        settings["epochs"] = epochs
    generate = spec.model_generate_config.model_dump(exclude_none=True) if spec.model_generate_config else {}
    settings |= {f"generate.{k}": v for k, v in generate.items()}
    settings |= {f"model.{k}": v for k, v in (spec.model_args or {}).items()}
    return settings


def _sweep_points(sample: Any) -> list[tuple[dict[str, Any], bool]]:
    """(ledger, correct) per budget of a swept sample: the s1eval scorer's `per_budget` verdicts with the
    solver's per-budget ledgers (`metadata["s1eval"]["results"]`); [] for a sample of one budget."""
    verdicts = next(
        (
            s.metadata["per_budget"]
            for s in (sample.scores or {}).values()
            if isinstance(s.metadata, dict) and isinstance(s.metadata.get("per_budget"), dict)
        ),
        None,
    )
    if not verdicts:
        return []
    results = ((sample.metadata or {}).get("s1eval") or {}).get("results") or {}
    points = []
    for budget, verdict in verdicts.items():
        ledger = (results.get(str(budget)) or {}).get("ledger") or {
            "budget": budget,
            "thinking_tokens": verdict.get("thinking_tokens"),
            "outcome": verdict.get("outcome"),
        }
        points.append((ledger, bool(verdict.get("correct"))))
    return points


def read_inspect_log(path: Path) -> RunSet:
    """One Inspect ``.eval`` log, read with inspect_ai's own reader."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DataError(
            f"{path}: reading Inspect logs needs inspect-ai; pip install 's1eval[inspect]'"
        ) from exc
    log = read_eval_log(str(path))
    spec = log.eval
    meta = dict(spec.metadata or {})
    model = str(meta.get("model") or spec.model)
    variant = str(meta.get("model_variant") or spec.model_args.get("model_variant") or "")
    benchmark = canonical_benchmark(spec.task)
    solver_method = canonical_benchmark(spec.solver or "") if spec.solver else ""
    rows = []
    for sample in log.samples or []:
        value, ledger = _pick_score(sample.scores)
        if isinstance(value, dict):
            value = value.get("correct", next(iter(value.values()), None))
        row: dict[str, Any] = {"method": str(meta.get("method") or solver_method)}
        row.update(_ledger_fields(ledger))
        if sample.error is not None and "outcome" not in row:
            row["outcome"] = "engine_error"
        row.update(
            run=f"{variant or model} / {row['method']}",
            source="inspect",
            model=model,
            variant=variant,
            benchmark=benchmark,
            qid=sample.id,
            sample=max(0, int(sample.epoch) - 1),
            correct=value,
        )
        sweep = _sweep_points(sample)
        # a budget sweep (`-T budgets=...`): one row per budget, each with its own ledger and verdict
        rows.extend(
            [{**row, **_ledger_fields(led), "correct": hit} for led, hit in sweep] if sweep else [row]
        )
    frame = normalise(rows)
    methods = sorted(set(frame["method"]))
    sample_ids = sorted(str(s) for s in (spec.dataset.sample_ids or []))
    data_hash = str(meta.get("data_hash") or "")
    if not data_hash and sample_ids:
        data_hash = "ids:" + hashlib.sha256("\n".join(sample_ids).encode()).hexdigest()[:16]
    info = RunInfo(
        label=f"{variant or model} / {','.join(methods)}",
        source="inspect",
        path=_display_path(path),
        model=model,
        variant=variant,
        benchmark=benchmark,
        method=",".join(methods),
        data_hash=data_hash,
        settings=_inspect_settings(spec),
        s1eval_version=str(meta.get("s1eval_version") or (spec.packages or {}).get("s1eval", "")),
        n_samples=len(frame),
    )
    return RunSet(frame, [info])


# ------------------------------------------------------------------------------------------------- discovery

Reader = Callable[[Path], RunSet]
READERS: list[tuple[str, Callable[[Path], bool], Reader]] = [
    ("s1eval", is_s1eval_run, read_s1eval_run),
    ("lm_eval", is_lm_eval_results, read_lm_eval_results),
    ("inspect", is_inspect_log, read_inspect_log),
]
"""(name, does-this-path-hold-it, reader); add a source by appending here."""


def discover(path: Path) -> list[tuple[Reader, Path]]:
    """Every readable run at or below ``path``, in a stable (sorted) order."""
    for _, matches, reader in READERS:
        if matches(path):
            return [(reader, path)]
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise DataError(f"{path}: not an s1eval run, lm-eval results file or Inspect .eval log")
    found: list[tuple[Reader, Path]] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() or any(matches(child) for _, matches, _ in READERS):
            found.extend(discover(child))
    return found


def read_runs(paths: Iterable[str | Path]) -> RunSet:
    """Read every run under the given paths into one frame; runs found twice are read once."""
    seen: set[Path] = set()
    frames, runs = [], []
    for p in paths:
        targets = discover(Path(p))
        if not targets:
            raise DataError(f"{p}: no s1eval run, lm-eval results or Inspect .eval log found under it")
        for reader, target in targets:
            key = target.resolve()
            if key in seen:
                continue
            seen.add(key)
            rs = reader(target)
            frames.append(rs.frame)
            runs.extend(rs.runs)
    if not frames:
        return RunSet(normalise([]), [])
    frames = [f for f in frames if not f.empty] or frames[:1]
    return RunSet(pd.concat(frames, ignore_index=True), runs)
