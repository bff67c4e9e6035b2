"""Load a question pool (hub dataset or local parquet/jsonl/json/csv) into one canonical DataFrame.

Whatever the source names its columns, the stages see the same ones: pool_index, id, question, solution,
thinking, answer, source, domain, thinking_tokens, trace_grade, solved:<model> and the pass-through extras.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError, DataError

from .config import CANONICAL_FIELDS, REQUIRED_FIELDS, ColumnMap, CurationConfig, PoolConfig

SOLVED_PREFIX = "solved:"
# The columns filter.ipynb pops from each featurized row before using the rest as features (cell 1).
S1_BASE_COLUMNS = ("question", "solution", "cot_type", "source_type", "metadata", "cot")
_TRUE = {"1", "true", "yes", "y", "correct", "solved", "right", "pass", "t"}
_FALSE = {"0", "false", "no", "n", "incorrect", "wrong", "unsolved", "fail", "f", ""}


def read_table(path: Path) -> pd.DataFrame:
    """Read a local table by its extension."""
    if not path.exists():
        raise DataError(f"pool file {str(path)!r} not found; fix pool.path in the config")
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    try:
        if path.is_dir():
            return _load_hub(str(path), PoolConfig(path=str(path)))
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".jsonl.gz", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix in (".json", ".json.gz"):
            return pd.read_json(path, dtype=False)
        if suffix in (".csv", ".csv.gz"):
            return pd.read_csv(path, keep_default_na=False)
    except ValueError as exc:
        raise DataError(
            f"pool file {str(path)!r} could not be read ({str(exc).splitlines()[0]}); "
            f"check that it is valid {suffix.lstrip('.')}"
        ) from None
    raise DataError(
        f"pool file {str(path)!r} has an unsupported extension; use .parquet, .jsonl, .json or .csv"
    )


def _load_hub(name: str, cfg: PoolConfig) -> pd.DataFrame:
    """A hub dataset (or a local dataset folder) through datasets, with the user's own access."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets ships with the train extra
        raise ConfigError(
            "loading a hub pool needs the datasets package; pip install 's1eval[train]'"
        ) from None
    kwargs: dict[str, Any] = {"split": cfg.split}
    if cfg.revision:
        kwargs["revision"] = cfg.revision
    if cfg.token is not None:
        kwargs["token"] = cfg.token
    try:
        ds = datasets.load_dataset(name, cfg.subset, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the hub raises many types; the user needs one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"could not load hub pool {name!r} split {cfg.split!r} ({first}); check the name, "
            "your access (huggingface-cli login) and HF_HUB_OFFLINE"
        ) from None
    return ds.to_pandas()


def _as_text(series: pd.Series) -> pd.Series:
    """Strings, with list-valued cells (thinking_trajectories) joined and missing values kept as None."""

    def conv(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, (list, tuple, np.ndarray)):
            parts = [str(x) for x in v if x is not None]
            return "\n\n".join(parts) if parts else None
        return v if isinstance(v, str) else str(v)

    return pd.Series([conv(v) for v in series], index=series.index, dtype=object)


def _bool_cell(v: Any, column: str) -> bool | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise DataError(f"grade column {column!r} has value {v!r}; use true/false, 1/0 or yes/no")


def to_bool(series: pd.Series, column: str) -> pd.Series:
    """Grader results as booleans; accepts bool, 0/1 and yes/no/correct/incorrect strings. Missing = NA."""
    if series.dtype == bool:
        return series.astype("boolean")
    return pd.Series([_bool_cell(v, column) for v in series], index=series.index, dtype="boolean")


def canonicalize(raw: pd.DataFrame, columns: ColumnMap, origin: str) -> pd.DataFrame:
    """Map the raw columns onto the canonical ones, refusing a mapped column that doesn't exist."""
    cols = columns.resolved()
    present = set(raw.columns)
    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    out["pool_index"] = np.arange(len(raw), dtype=np.int64)
    for name in CANONICAL_FIELDS:
        col = getattr(cols, name)
        if col is None or col not in present:
            must = name in REQUIRED_FIELDS or name in cols.explicit
            if must:
                raise DataError(
                    f"pool {origin!r} has no column {col or name!r} for {name!r}; set "
                    f"pool.columns.{name} to one of {sorted(map(str, raw.columns))[:20]}"
                )
            continue
        values = raw[col].reset_index(drop=True)
        if name == "thinking_tokens":
            out[name] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif name == "trace_grade":
            out[name] = to_bool(values, col)
        else:
            out[name] = _as_text(values)
    if "id" not in out:
        out["id"] = out["pool_index"].astype(str)
    if "source" not in out:
        out["source"] = "unknown"
    out["source"] = out["source"].fillna("unknown")
    for model, col in cols.grades.items():
        if col not in present and "grades" in cols.from_preset:
            continue  # a preset's grade columns are used when the pool has them
        if col not in present:
            raise DataError(
                f"pool {origin!r} has no grade column {col!r} for reference model {model!r}; "
                "fix pool.columns.grades"
            )
        out[SOLVED_PREFIX + model] = to_bool(raw[col].reset_index(drop=True), col)
    for col in cols.extra:
        if col in present:
            out["extra:" + col] = _as_text(raw[col].reset_index(drop=True))
    return out


def question_hash(question: str) -> str:
    """s1's row key (data/utils/io_utils.py): the first 16 hex digits of the question's sha256."""
    return hashlib.sha256(question.encode()).hexdigest()[:16]


def join_features(raw: pd.DataFrame, feats: pd.DataFrame, question_col: str, origin: str) -> pd.DataFrame:
    """raw plus the featurized table's own columns, matched by question hash as filter.ipynb does.

    Every column but s1's base ones is joined (overriding a pool column of the same name); rows the table
    does not know get missing values, which the s1 quality rules then drop (filter.ipynb cell 4).
    """
    if "question" not in feats.columns:
        raise DataError(f"features table {origin!r} has no question column to join on; fix pool.features")
    if question_col not in raw.columns:
        raise DataError(f"the pool has no question column {question_col!r} to join pool.features on")
    cols = [c for c in feats.columns if c not in S1_BASE_COLUMNS]
    table = feats[cols].copy()
    table["_qhash"] = [question_hash(str(q)) for q in feats["question"]]
    table = table.drop_duplicates("_qhash", keep="last").set_index("_qhash")  # a dict keeps the last
    keys = [question_hash(q) if isinstance(q, str) else "" for q in raw[question_col]]
    joined = table.reindex(keys)
    out = raw.drop(columns=[c for c in cols if c in raw.columns]).reset_index(drop=True)
    for c in cols:
        out[c] = joined[c].to_numpy()
    return out


def _load_features(cfg: CurationConfig) -> tuple[pd.DataFrame, str] | None:
    """The configured featurized table, or None when pool.features is not set."""
    fc = cfg.pool.features
    if fc.path:
        path = cfg.resolve_path(fc.path)
        return read_table(path), str(path)
    if fc.hub:
        local = cfg.resolve_path(fc.hub)
        sub = PoolConfig(hub=fc.hub, split=fc.split, revision=fc.revision, token=fc.token)
        return _load_hub(str(local) if local.exists() else fc.hub, sub), fc.hub
    return None


def load_pool(cfg: CurationConfig) -> pd.DataFrame:
    """Load and canonicalize the configured pool."""
    pc = cfg.pool
    if pc.path:
        path = cfg.resolve_path(pc.path)
        raw = read_table(path)
        origin = str(path)
    elif pc.hub:
        local = cfg.resolve_path(pc.hub)
        raw = _load_hub(str(local) if local.exists() else pc.hub, pc)
        origin = pc.hub
    else:
        raise ConfigError(
            "pool: set pool.path (a local parquet/jsonl file) or pool.hub (e.g. "
            "simplescaling/data_ablation_full59K)"
        )
    if pc.limit is not None:
        raw = raw.iloc[: pc.limit]
    features = _load_features(cfg)
    if features is not None:
        qcol = pc.columns.resolved().question or "question"
        raw = join_features(raw, features[0], qcol, features[1])
    return canonicalize(raw, pc.columns, origin)


def solved_columns(df: pd.DataFrame) -> list[str]:
    """The reference-model grade columns present in a canonical frame, in a stable order."""
    return sorted(c for c in df.columns if c.startswith(SOLVED_PREFIX))
