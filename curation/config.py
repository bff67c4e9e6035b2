"""Dataclass configs for the curation pipeline, loaded from YAML with strict key checking.

Every section has defaults that reproduce the s1 paper; an unknown key or a wrong type is a one-line
ConfigError that names the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from s1eval.errors import ConfigError

# Columns every pool must provide after mapping; the rest are optional.
REQUIRED_FIELDS = ("question", "thinking", "answer")
CANONICAL_FIELDS = (
    "id",
    "question",
    "solution",
    "thinking",
    "answer",
    "source",
    "domain",
    "thinking_tokens",
    "trace_grade",
)

# Column presets for the public pools (names as published on the hub) and for simple local files.
COLUMN_PRESETS: dict[str, dict[str, Any]] = {
    "plain": {
        "id": "id",
        "question": "question",
        "solution": "solution",
        "thinking": "thinking",
        "answer": "answer",
        "source": "source",
        "domain": "domain",
        "thinking_tokens": "thinking_tokens",
    },
    "s1-59k": {
        "question": "question",
        "solution": "solution",
        "thinking": "thinking_trajectories",
        "answer": "attempt",
        "source": "source_type",
        "extra": ["cot_type", "metadata"],
    },
    "s1k-1.1": {
        "question": "question",
        "solution": "solution",
        "thinking": "deepseek_thinking_trajectory",
        "answer": "deepseek_attempt",
        "source": "source_type",
        "trace_grade": "deepseek_grade",
        "extra": ["cot_type", "metadata"],
    },
    "s1k": {
        "question": "question",
        "solution": "solution",
        "thinking": "thinking_trajectories",
        "answer": "attempt",
        "source": "source_type",
        "extra": ["cot_type", "metadata"],
    },
}

SUBSET_ALIASES = {
    "s1k": "s1k",
    "random": "random",
    "1k-random": "random",
    "diverse": "diverse",
    "1k-diverse": "diverse",
    "longest": "longest",
    "1k-longest": "longest",
    "full": "full",
    "59k-full": "full",
}
SUBSET_NAMES = ("s1k", "random", "diverse", "longest", "full")

DEFAULT_FAILURE_PATTERNS = [
    r"(?i)\bapi (?:error|call failed)\b",
    r"(?i)\berror code:\s*\d{3}\b",
    r"(?i)\brate limit(?:ed)? exceeded\b",
    r"(?i)\binternal server error\b",
    r"(?i)\brequest timed out\b",
    r"(?i)^\s*(?:none|null|nan|error|failed)\s*$",
]
DEFAULT_IMAGE_PATTERNS = [
    r"!\[[^\]]*\]\([^)]*\)",
    r"(?i)<img\b",
    r"\\includegraphics",
    r"(?i)\b[\w\-/]+\.(?:png|jpe?g|gif|svg|bmp|webp)\b",
    r"(?i)\b(?:see|refer to|shown in|in) the (?:attached )?(?:figure|image|picture|diagram)\b",
    r"(?i)\[(?:image|figure|diagram)[^\]]*\]",
]


@dataclass
class ColumnMap:
    """Where each canonical field lives in the pool. Unset (None) optional fields are simply absent."""

    preset: str | None = None
    id: str | None = None
    question: str | None = None
    solution: str | None = None
    thinking: str | None = None
    answer: str | None = None
    source: str | None = None
    domain: str | None = None
    thinking_tokens: str | None = None
    trace_grade: str | None = None
    grades: dict[str, str] = field(default_factory=dict)  # reference model name -> column (truthy = solved)
    extra: list[str] = field(default_factory=list)  # passed through to the export unchanged
    explicit: list[str] = field(default_factory=list, repr=False)  # filled by the loader: keys the user set

    def resolved(self) -> ColumnMap:
        """Fill the unset fields from the preset (plain when none)."""
        name = self.preset or "plain"
        if name not in COLUMN_PRESETS:
            raise ConfigError(f"pool.columns.preset {name!r} is unknown; use one of {sorted(COLUMN_PRESETS)}")
        base = COLUMN_PRESETS[name]
        out = dataclasses.replace(self)
        for key, value in base.items():
            if getattr(out, key) in (None, [], {}):
                setattr(out, key, list(value) if isinstance(value, list) else value)
        return out


@dataclass
class PoolConfig:
    """Where the question pool comes from: a local file (parquet/jsonl/json/csv) or a hub dataset."""

    path: str | None = None
    hub: str | None = None
    split: str = "train"
    revision: str | None = None
    subset: str | None = None  # the hub dataset's config name
    token: str | bool | None = None  # None: the user's cached login / HF_TOKEN
    limit: int | None = None
    columns: ColumnMap = field(default_factory=ColumnMap)


@dataclass
class QualityConfig:
    """Stage 1: drop rows that are malformed, failed, badly formatted or duplicated."""

    enabled: bool = True
    require: list[str] = field(default_factory=lambda: list(REQUIRED_FIELDS))
    failure_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_FAILURE_PATTERNS))
    format_fields: list[str] = field(default_factory=lambda: ["question"])
    skip_format_sources: list[str] = field(default_factory=list)
    check_latex: bool = True
    check_images: bool = True
    image_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_IMAGE_PATTERNS))
    check_ascii_art: bool = True
    ascii_art_min_lines: int = 3
    dedupe: bool = True
    drop_incorrect_traces: bool = False


@dataclass
class ContaminationConfig:
    """Drop pool questions sharing a word n-gram with an eval set question (8-gram as in the paper)."""

    enabled: bool = True
    n: int = 8
    # Names (aime24, math500, gpqa_diamond: loaded via s1eval.data or tasks/data) or
    # {name, path, field} mappings for local files. GPQA is never loaded unless given.
    eval_sets: list[Any] = field(default_factory=lambda: ["aime24", "math500"])
    fields: list[str] = field(default_factory=lambda: ["question"])
    max_hits_in_report: int = 200


@dataclass
class DifficultyConfig:
    """Stage 2: drop what reference models solve, then measure trace length as the difficulty proxy."""

    enabled: bool = True
    drop_if: str = "any"  # any | all reference models solved it
    solvers: dict[str, str] = field(default_factory=dict)  # name -> "module:callable" (Solver)
    grader: str | None = None  # "module:callable" (Grader); default: boxed/final-answer exact match
    batch_size: int = 64
    tokenizer: str | None = None  # HF tokenizer name/path; None: the deterministic regex counter


@dataclass
class DiversityConfig:
    """Stage 3: assign domains, then sample domains uniformly and favour long traces inside a domain."""

    classifier: str = "column"  # column | keyword | tfidf | llm
    only_missing: bool = True  # with a domain column, classify only rows whose label is missing
    keywords_path: str | None = None  # YAML {label: [keywords]} replacing the built-in MSC-like table
    labels: list[str] | None = None  # for the llm classifier (default: the keyword table's labels)
    llm_solver: str | None = None  # "module:callable" (Solver) for the llm classifier
    weighting: str = "rank"  # rank (2^-rank, the paper) | length | uniform
    unknown_label: str = "unknown"


@dataclass
class SubsetsConfig:
    """Which ablation subsets to build from the same pool and seed, and how large."""

    n: int = 1000
    names: list[str] = field(default_factory=lambda: list(SUBSET_NAMES))


@dataclass
class ExportConfig:
    """How the chosen rows are written for the training recipe."""

    formats: list[str] = field(default_factory=lambda: ["jsonl", "parquet"])
    system_prompt: str | None = None
    think_marker: str = "<|im_start|>think\n"
    answer_marker: str = "<|im_start|>answer\n"
    answer_prefix: str = ""
    write_removed: bool = True


@dataclass
class CurationConfig:
    """One curation run: the pool, the stages, the subsets and where the outputs go."""

    seed: int = 42
    out_dir: str = "curation-out"
    pool: PoolConfig = field(default_factory=PoolConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    contamination: ContaminationConfig = field(default_factory=ContaminationConfig)
    difficulty: DifficultyConfig = field(default_factory=DifficultyConfig)
    diversity: DiversityConfig = field(default_factory=DiversityConfig)
    subsets: SubsetsConfig = field(default_factory=SubsetsConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    base_dir: str = field(default=".", repr=False)  # the config file's folder, for relative paths

    def __post_init__(self) -> None:
        validate(self)

    def resolve_path(self, path: str) -> Path:
        """A relative path means the working directory if it exists there, else the config's folder."""
        p = Path(path).expanduser()
        if p.is_absolute() or p.exists():
            return p
        alt = Path(self.base_dir) / p
        return alt if alt.exists() else p


def validate(cfg: CurationConfig) -> None:
    """Refuse settings that cannot work, naming the fix."""
    if cfg.pool.path and cfg.pool.hub:
        raise ConfigError("pool: give either path (a local file) or hub (a dataset name), not both")
    if cfg.subsets.n <= 0:
        raise ConfigError(f"subsets.n must be a positive integer, got {cfg.subsets.n!r}")
    for name in cfg.subsets.names:
        if name not in SUBSET_ALIASES:
            raise ConfigError(f"subsets.names: unknown subset {name!r}; use some of {list(SUBSET_NAMES)}")
    if cfg.contamination.n <= 0:
        raise ConfigError(f"contamination.n must be a positive integer, got {cfg.contamination.n!r}")
    if cfg.difficulty.drop_if not in ("any", "all"):
        raise ConfigError(f"difficulty.drop_if must be 'any' or 'all', got {cfg.difficulty.drop_if!r}")
    if cfg.diversity.classifier not in ("column", "keyword", "tfidf", "llm"):
        raise ConfigError(
            f"diversity.classifier must be column, keyword, tfidf or llm, got {cfg.diversity.classifier!r}"
        )
    if cfg.diversity.weighting not in ("rank", "length", "uniform"):
        raise ConfigError(
            f"diversity.weighting must be rank, length or uniform, got {cfg.diversity.weighting!r}"
        )
    for fmt in cfg.export.formats:
        if fmt not in ("jsonl", "parquet"):
            raise ConfigError(f"export.formats: unknown format {fmt!r}; use jsonl and/or parquet")
    if cfg.quality.ascii_art_min_lines < 2:
        raise ConfigError("quality.ascii_art_min_lines must be at least 2")


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass cls from a mapping, refusing unknown keys and wrong types."""
    if cls is ColumnMap and isinstance(data, str):
        data = {"preset": data}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'the config'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name not in ("explicit", "base_dir")}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in names:
            raise ConfigError(f"unknown config key {path!r}; valid keys here: {sorted(names)}")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, path)
        elif not _type_ok(value, hint):
            raise ConfigError(
                f"config key {path!r} has the wrong type ({type(value).__name__}); expected {hint}"
            )
        else:
            kwargs[key] = value
    if cls is ColumnMap:
        kwargs["explicit"] = sorted(k for k in data if k not in ("preset", "extra", "grades"))
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any], base_dir: str | Path = ".") -> CurationConfig:
    """Build a CurationConfig from a plain mapping (what the YAML file holds)."""
    cfg = _build(CurationConfig, data, "")
    cfg.base_dir = str(base_dir)
    return cfg


def load_config(path: str | Path) -> CurationConfig:
    """Read a YAML config file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"config file {str(p)!r} not found; pass the path of a YAML file (see curation/configs/)"
        )
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise ConfigError(f"config file {str(p)!r} is not valid YAML{at}; fix the syntax") from None
    return config_from_dict(data, base_dir=p.parent)


def subset_key(name: str) -> str:
    """Canonical subset name for an alias like 1k-random."""
    if name not in SUBSET_ALIASES:
        raise ConfigError(f"unknown subset {name!r}; use one of {list(SUBSET_NAMES)}")
    return SUBSET_ALIASES[name]
