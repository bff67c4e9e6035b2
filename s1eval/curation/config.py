"""Dataclass configs for the curation pipeline, loaded from YAML with strict key checking.

The defaults are the generic pipeline (any pool, any sources); curation/configs/s1k.yaml switches on s1's own
rules from its filter.ipynb (quality.rules: s1, the first selection stage, the benchmark-weighted domain
phase, ...). An unknown key or a wrong type is a one-line ConfigError that names the key, so a typo never
silently falls back to a default.
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
    # The 59K pool, plus the columns s1's featurization.py adds (qfq/train_featurized) when they are there:
    # the Claude MSC domain, the Gemini trace grade, the Qwen grades and the trace length in Qwen tokens.
    "s1-59k": {
        "question": "question",
        "solution": "solution",
        "thinking": "thinking_trajectories",
        "answer": "attempt",
        "source": "source_type",
        "domain": "domain",
        "thinking_tokens": "gemini_length",
        "trace_grade": "isgeminicorrect",
        "grades": {"qwen2.5-7b": "isqwen7bcorrect", "qwen2.5-32b": "isqwen32bcorrect"},
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
    from_preset: list[str] = field(default_factory=list, repr=False)  # filled by resolved(): optional keys

    def resolved(self) -> ColumnMap:
        """Fill the unset fields from the preset (plain when none); preset columns may be absent."""
        name = self.preset or "plain"
        if name not in COLUMN_PRESETS:
            raise ConfigError(f"pool.columns.preset {name!r} is unknown; use one of {sorted(COLUMN_PRESETS)}")
        base = COLUMN_PRESETS[name]
        out = dataclasses.replace(self)
        filled = []
        for key, value in base.items():
            if getattr(out, key) in (None, [], {}):
                setattr(out, key, type(value)(value) if isinstance(value, (list, dict)) else value)
                filled.append(key)
        out.from_preset = filled
        return out


@dataclass
class FeaturesConfig:
    """A featurized table joined onto the pool by question (s1's qfq/train_featurized layout).

    s1's filter.ipynb (cell 1) reads the traces from one dataset and the features (domain, isgeminicorrect,
    isqwen7bcorrect, isqwen32bcorrect, gemini_length) from another, matched by question hash; this does the
    same join, so the bare 59K pool plus such a table gives the paper's inputs.
    """

    path: str | None = None
    hub: str | None = None
    split: str = "train"
    revision: str | None = None
    token: str | bool | None = None


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
    features: FeaturesConfig = field(default_factory=FeaturesConfig)


@dataclass
class QualityConfig:
    """Stage 1: drop rows that are malformed, failed, badly formatted or duplicated.

    rules: generic (failed calls, LaTeX balance, image references, ASCII art) or s1 (filter.ipynb cells 4 and
    7: missing featurized values, [asy] outside AIME, ![Image], p1. numbering, bold digits).
    """

    enabled: bool = True
    rules: str = "generic"  # generic | s1
    # s1 rules: the featurized columns a row must have (None: every one the pool carries: domain,
    # thinking_tokens, trace_grade and the reference-model grades).
    features: list[str] | None = None
    require: list[str] = field(default_factory=lambda: list(REQUIRED_FIELDS))
    failure_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_FAILURE_PATTERNS))
    format_fields: list[str] = field(default_factory=lambda: ["question"])
    skip_format_sources: list[str] = field(default_factory=list)
    check_latex: bool = True
    check_images: bool = True
    image_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_IMAGE_PATTERNS))
    check_ascii_art: bool = True
    ascii_art_min_lines: int = 3
    dedupe: bool | str = True  # true/normalized (case, spacing, punctuation ignored) | exact | false
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
    # Refuse to run when there are no grades and no solvers (the paper's run); false: skip and say so.
    require_grades: bool = False
    unknown: str = "keep"  # keep | drop rows whose grade is unknown (s1 drops them)
    solvers: dict[str, str] = field(default_factory=dict)  # name -> "module:callable" (Solver)
    grader: str | None = None  # "module:callable" (Grader); default: boxed/final-answer exact match
    batch_size: int = 64
    tokenizer: str | None = None  # HF tokenizer name/path; None: the deterministic regex counter


@dataclass
class FirstStageConfig:
    """s1's first selection stage (filter.ipynb cell 14): questions taken before the diversity draw.

    A row is taken when its trace is graded correct (isgeminicorrect) and its source is one of `sources`
    (exact match), or a source in `long_sources` is part of it and its trace is longer than `min_tokens`.
    """

    enabled: bool = False
    require_correct_trace: bool = True
    sources: list[str] = field(default_factory=lambda: ["Idavidrein/gpqa", "qq8933/AIME_1983_2024"])
    long_sources: list[str] = field(default_factory=lambda: ["qfq/openaimath"])
    min_tokens: int = 5600


@dataclass
class BenchmarkPhaseConfig:
    """s1's second draw phase (filter.ipynb cells 17 and 21): once `after` x N rows are chosen, domains are
    drawn by how often they occur in the anchor source plus the other sources, each other source scaled to
    `others[source]` times the anchor's total (GPQA to half of AIME in the notebook)."""

    enabled: bool = False
    after: float = 0.7
    anchor: str = "qq8933/AIME_1983_2024"
    others: dict[str, float] = field(default_factory=lambda: {"Idavidrein/gpqa": 0.5})


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
    first_stage: FirstStageConfig = field(default_factory=FirstStageConfig)
    benchmark_phase: BenchmarkPhaseConfig = field(default_factory=BenchmarkPhaseConfig)


@dataclass
class SubsetsConfig:
    """Which ablation subsets to build from the same pool and seed, and how large."""

    n: int = 1000
    names: list[str] = field(default_factory=lambda: list(SUBSET_NAMES))
    # full: passed (what survives quality and decontamination) | pool (every loaded row: the paper's 59K-full)
    full_from: str = "passed"


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
    if cfg.pool.features.path and cfg.pool.features.hub:
        raise ConfigError("pool.features: give either path (a local file) or hub (a dataset name), not both")
    _validate_stages(cfg)
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


def _choice(value: Any, allowed: tuple[Any, ...], key: str) -> None:
    """Refuse a value outside `allowed` (true is not 1 here)."""
    if not any(type(value) is type(a) and value == a for a in allowed):
        shown = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed)
        raise ConfigError(f"{key} must be one of {shown}; got {value!r}")


def _validate_stages(cfg: CurationConfig) -> None:
    """The choices added for s1's rules; each wrong value names its key."""
    _choice(cfg.quality.rules, ("generic", "s1"), "quality.rules")
    _choice(cfg.quality.dedupe, (True, False, "normalized", "exact"), "quality.dedupe")
    _choice(cfg.difficulty.unknown, ("keep", "drop"), "difficulty.unknown")
    _choice(cfg.subsets.full_from, ("passed", "pool"), "subsets.full_from")
    if cfg.diversity.first_stage.min_tokens < 0:
        raise ConfigError("diversity.first_stage.min_tokens must be 0 or more")
    bp = cfg.diversity.benchmark_phase
    if not 0.0 <= bp.after <= 1.0:
        raise ConfigError(
            f"diversity.benchmark_phase.after is a fraction of subsets.n in [0, 1], got {bp.after!r}"
        )
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 for v in bp.others.values()):
        raise ConfigError("diversity.benchmark_phase.others maps a source to a non-negative weight")


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
    names = {f.name for f in dataclasses.fields(cls) if f.name not in ("explicit", "from_preset", "base_dir")}
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


CONFIG_DIR = Path(__file__).parent / "configs"


def load_config(path: str | Path) -> CurationConfig:
    """Read a YAML config file, or a shipped one by name (`s1k`, `s1k-1.1`, `local`)."""
    from s1eval.data.shipped import file_or_shipped

    p = file_or_shipped(path, CONFIG_DIR, "curation config")
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
