"""Decontamination: drop pool questions that share a word n-gram with an eval-set question.

Text is normalised (lowercase, only [a-z0-9] runs kept, so LaTeX and punctuation do not hide a copy) and
split into words; a pool question is contaminated when one of its n-grams (8 by default, as in the paper)
is an n-gram of any eval question. Eval questions shorter than n words match as a whole. Eval sets are
loaded through s1eval.data.load_benchmark when it exists, else from tasks/data/<name>.jsonl, or from any
local file given as {name, path, field}; GPQA is only used when the user supplies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from s1eval.errors import ConfigError, DataError

from .config import ContaminationConfig, CurationConfig
from .stage import StageResult, split_by_reason

STAGE = "contamination"
TASKS_DATA = Path(__file__).resolve().parents[1] / "data" / "benchmarks"  # tasks/data in a checkout
QUESTION_FIELDS = ("problem", "question", "Question", "prompt", "input")
_WORDS = re.compile(r"[a-z0-9]+")
# Eval questions shorter than n words match as a whole, but only from this many words up (a 1-2 word
# "question" would match everything).
MIN_SHORT_WORDS = 3


@dataclass
class EvalSet:
    """Questions of one benchmark, with ids for the report."""

    name: str
    questions: list[str]
    ids: list[str]


def words(text: str) -> list[str]:
    """Normalised word tokens."""
    return _WORDS.findall(text.lower())


def _read_questions(path: Path, name: str, field: str | None, id_field: str | None) -> EvalSet:
    if not path.exists():
        raise DataError(f"eval set {name!r}: file {str(path)!r} not found; fix contamination.eval_sets")
    from .pool import read_table

    df = read_table(path)
    col = field or next((c for c in QUESTION_FIELDS if c in df.columns), None)
    if col is None or col not in df.columns:
        raise DataError(
            f"eval set {name!r}: {str(path)!r} has no question column "
            f"{field or QUESTION_FIELDS!r}; set field: in contamination.eval_sets"
        )
    id_field = id_field or ("id" if "id" in df.columns else None)
    ids = (
        df[id_field].astype(str).tolist()
        if id_field and id_field in df.columns
        else [str(i) for i in range(len(df))]
    )
    return EvalSet(name, df[col].fillna("").astype(str).tolist(), ids)


def _from_benchmark(name: str) -> EvalSet | None:
    """The set through s1eval.data when it knows the name; None to fall back to tasks/data."""
    try:
        from s1eval.data import BENCHMARKS, load_benchmark
    except ImportError:
        return None
    if name.strip().lower() not in BENCHMARKS:
        return None
    try:
        problems = load_benchmark(name)
    except Exception as exc:  # noqa: BLE001 - e.g. GPQA without a local copy or hub access
        if name.lower().startswith("gpqa"):
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(
                f"eval set {name!r} could not be loaded ({first}); GPQA is not shipped: give "
                "{name: gpqa_diamond, path: /your/gpqa_diamond.csv, field: Question} or drop it"
            ) from None
        return None
    qs = [str(getattr(p, "question", "")) for p in problems]
    ids = [str(getattr(p, "id", i)) for i, p in enumerate(problems)]
    return EvalSet(name, qs, ids)


def load_eval_set(spec: Any, cfg: CurationConfig) -> EvalSet:
    """One eval set from a name (aime24, math500, ...) or a {name, path, field, id_field} mapping."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"name", "path", "field", "id_field"}
        if unknown or "path" not in spec:
            raise ConfigError(
                "contamination.eval_sets entries are names or {name, path, field, id_field} "
                f"mappings with a path; got {spec!r}"
            )
        path = cfg.resolve_path(str(spec["path"]))
        return _read_questions(
            path, str(spec.get("name", path.stem)), spec.get("field"), spec.get("id_field")
        )
    if not isinstance(spec, str):
        raise ConfigError(f"contamination.eval_sets: {spec!r} is neither a name nor a mapping")
    if Path(spec).suffix in (".jsonl", ".json", ".parquet", ".csv"):
        path = cfg.resolve_path(spec)
        return _read_questions(path, path.stem, None, None)
    found = _from_benchmark(spec)
    if found is not None and found.questions:
        return found
    local = TASKS_DATA / f"{spec}.jsonl"
    if local.exists():
        return _read_questions(local, spec, None, "id")
    if spec.lower().startswith("gpqa"):
        raise DataError(
            f"eval set {spec!r} is not shipped (its authors ask that it not be published); give "
            "{name: gpqa_diamond, path: /your/gpqa_diamond.csv, field: Question} or drop it"
        )
    raise DataError(
        f"eval set {spec!r} not found in s1eval.data or {TASKS_DATA}; give a {{name, path}} entry"
    )


class NgramIndex:
    """All n-grams of the eval questions, each pointing at the first (eval set, id) that has it."""

    def __init__(self, sets: list[EvalSet], n: int) -> None:
        self.n = n
        self.grams: dict[str, tuple[str, str]] = {}
        self.starts: dict[str, tuple[int, ...]] = {}  # first word -> gram lengths starting with it
        for es in sets:
            for qid, q in zip(es.ids, es.questions, strict=False):
                toks = words(q)
                if len(toks) < min(n, MIN_SHORT_WORDS):
                    continue
                if len(toks) < n:
                    self._add(toks, es.name, qid)
                    continue
                for i in range(len(toks) - n + 1):
                    self._add(toks[i : i + n], es.name, qid)

    def _add(self, gram: list[str], name: str, qid: str) -> None:
        self.grams.setdefault(" ".join(gram), (name, qid))
        lengths = self.starts.get(gram[0], ())
        if len(gram) not in lengths:
            self.starts[gram[0]] = tuple(sorted((*lengths, len(gram))))

    def hits(self, text: str) -> list[str]:
        """The eval n-grams found in text, sorted (deterministic report)."""
        toks = words(text)
        found = set()
        starts, grams, n_toks = self.starts, self.grams, len(toks)
        for i, tok in enumerate(toks):
            for size in starts.get(tok, ()):  # only positions where some eval gram begins
                if i + size <= n_toks:
                    g = " ".join(toks[i : i + size])
                    if g in grams:
                        found.add(g)
        return sorted(found)


def run(
    df: pd.DataFrame, cfg: ContaminationConfig, config: CurationConfig, eval_sets: list[EvalSet] | None = None
) -> StageResult:
    """Remove rows whose question (or other configured fields) overlaps an eval set."""
    if not cfg.enabled:
        result = split_by_reason(df, pd.Series(None, index=df.index, dtype=object), STAGE)
        result.info.update({"eval_sets": {}, "n": cfg.n, "hits": [], "by_ngram": []})
        return result
    sets = eval_sets if eval_sets is not None else [load_eval_set(s, config) for s in cfg.eval_sets]
    index = NgramIndex(sets, cfg.n)
    for f in cfg.fields:
        if f not in df.columns:
            raise ConfigError(f"contamination.fields names {f!r}, which the pool does not have; remove it")
    text = df[cfg.fields[0]].fillna("").astype(str)
    for f in cfg.fields[1:]:
        text = text + "\n" + df[f].fillna("").astype(str)
    reasons = pd.Series(None, index=df.index, dtype=object)
    detail = pd.Series(None, index=df.index, dtype=object)
    hits: list[dict[str, Any]] = []
    rows_with: dict[str, int] = {}
    only_cause: dict[str, int] = {}
    for idx, t in zip(df.index, text, strict=False):
        found = index.hits(t)
        if not found:
            continue
        for g in found:
            rows_with[g] = rows_with.get(g, 0) + 1
        if len(found) == 1:
            only_cause[found[0]] = only_cause.get(found[0], 0) + 1
        es_name, qid = index.grams[found[0]]
        reasons[idx] = f"contaminated:{es_name}"
        detail[idx] = f"{es_name}#{qid}: '{found[0]}' ({len(found)} shared n-grams)"
        hits.append(
            {
                "pool_index": int(df.at[idx, "pool_index"]),
                "source": str(df.at[idx, "source"]),
                "eval_set": es_name,
                "eval_id": qid,
                "ngram": found[0],
                "shared_ngrams": len(found),
            }
        )
    result = split_by_reason(df, reasons, STAGE, detail)
    per_set: dict[str, int] = {}
    for h in hits:
        per_set[h["eval_set"]] = per_set.get(h["eval_set"], 0) + 1
    result.info.update(
        {
            "n": cfg.n,
            "eval_sets": {es.name: len(es.questions) for es in sets},
            "hits_per_eval_set": dict(sorted(per_set.items())),
            "hits": hits[: cfg.max_hits_in_report],
            "hits_total": len(hits),
            "by_ngram": by_ngram(rows_with, only_cause, index)[: cfg.max_hits_in_report],
            "ngrams_total": len(rows_with),
        }
    )
    return result


def by_ngram(
    rows_with: dict[str, int], only_cause: dict[str, int], index: NgramIndex
) -> list[dict[str, Any]]:
    """Which shared n-grams caused the removals: rows holding each one, and rows it alone removed.

    A boilerplate phrase ("find the number of ordered pairs of ...") shows up here as one n-gram with many
    rows, most of them removed by it alone, which says the match is phrasing rather than a copied question.
    """
    out = []
    for gram, rows in rows_with.items():
        name, qid = index.grams[gram]
        out.append(
            {
                "ngram": gram,
                "rows": rows,
                "only_cause": only_cause.get(gram, 0),
                "eval_set": name,
                "eval_id": qid,
            }
        )
    return sorted(out, key=lambda h: (-h["rows"], -h["only_cause"], h["ngram"]))
