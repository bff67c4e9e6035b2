"""The run report: counts in and out of every stage, per source and per domain, token lengths, contamination.

Written as JSON (for tools) and Markdown (for people), like the paper's table of sources and domains.
Timings are kept out of it so the same config and seed give a byte-identical report.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TOKEN_BINS = [0, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


def token_stats(lengths: pd.Series) -> dict[str, Any]:
    """Count, mean, quantiles and a histogram over power-of-two bins."""
    v = np.asarray(lengths, dtype=np.int64)
    if len(v) == 0:
        return {"rows": 0}
    q = np.percentile(v, [10, 25, 50, 75, 90])
    edges = [*TOKEN_BINS, np.iinfo(np.int64).max]
    hist, _ = np.histogram(v, bins=edges)
    labels = [f"{a}-{b - 1}" for a, b in zip(TOKEN_BINS, TOKEN_BINS[1:], strict=False)] + [
        f"{TOKEN_BINS[-1]}+"
    ]
    return {
        "rows": int(len(v)),
        "total": int(v.sum()),
        "mean": round(float(v.mean()), 1),
        "min": int(v.min()),
        "p10": round(float(q[0]), 1),
        "p25": round(float(q[1]), 1),
        "median": round(float(q[2]), 1),
        "p75": round(float(q[3]), 1),
        "p90": round(float(q[4]), 1),
        "max": int(v.max()),
        "histogram": {lab: int(h) for lab, h in zip(labels, hist, strict=False)},
    }


def _counts(series: pd.Series) -> dict[str, int]:
    vc = series.astype(str).value_counts()
    return {k: int(vc[k]) for k in sorted(vc.index)}


def count_table(frames: dict[str, pd.DataFrame], column: str) -> dict[str, dict[str, int]]:
    """{value: {frame name: rows}} for every value seen in any frame (zeros filled)."""
    per = {name: _counts(df[column]) if column in df.columns else {} for name, df in frames.items()}
    values = sorted({v for counts in per.values() for v in counts})
    return {v: {name: per[name].get(v, 0) for name in frames} for v in values}


def config_dict(config: Any) -> dict[str, Any]:
    d = dataclasses.asdict(config)
    d.pop("base_dir", None)
    d.pop("out_dir", None)  # where the report lives; leaving it out keeps reruns elsewhere byte-identical
    d.get("pool", {}).get("columns", {}).pop("explicit", None)
    d.get("pool", {}).get("columns", {}).pop("from_preset", None)
    return d


def build(
    *,
    config: Any,
    origin: str,
    pool: pd.DataFrame,
    stages: list[tuple[str, pd.DataFrame, Any]],
    passed: pd.DataFrame,
    hard: pd.DataFrame,
    subsets: dict[str, pd.DataFrame],
    stage_infos: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Assemble the report dict. stages: (name, rows out, StageResult) in order, starting from the pool."""
    stage_rows = []
    prev = len(pool)
    for name, out, result in stages:
        stage_rows.append(
            {
                "stage": name,
                "in": prev,
                "out": len(out),
                "removed": prev - len(out),
                "removed_by_reason": result.info.get("removed_by_reason", {}),
            }
        )
        prev = len(out)
    source_frames = {"pool": pool, **{name: out for name, out, _ in stages}}
    source_frames.update({f"subset:{k}": v for k, v in subsets.items()})
    domain_frames = {"full": passed, "difficulty": hard, **{f"subset:{k}": v for k, v in subsets.items()}}
    token_frames = {"full": passed, "difficulty": hard, **{f"subset:{k}": v for k, v in subsets.items()}}
    n = config.subsets.n
    return {
        "seed": config.seed,
        "pool": {"origin": origin, "rows": len(pool)},
        "stages": stage_rows,
        "subsets": {
            k: {
                "rows": len(v),
                "requested": None if k == "full" else n,
                **({"from": config.subsets.full_from} if k == "full" else {}),
                "domains": int(v["domain"].nunique()) if "domain" in v else 0,
                "sources": int(v["source"].nunique()),
            }
            for k, v in subsets.items()
        },
        "by_source": count_table(source_frames, "source"),
        "by_domain": count_table(domain_frames, "domain"),
        "tokens": {
            k: token_stats(v["thinking_tokens"]) for k, v in token_frames.items() if "thinking_tokens" in v
        },
        "contamination": stage_infos.get("contamination", {}),
        "domains": stage_infos.get("domains", {}),
        "selection": stage_infos.get("selection", {}),
        "difficulty": {
            k: v for k, v in stage_infos.get("difficulty", {}).items() if k != "removed_by_reason"
        },
        "config": config_dict(config),
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return lines


def _count_section(title: str, table: dict[str, dict[str, int]]) -> list[str]:
    if not table:
        return []
    cols = list(next(iter(table.values())))
    rows = [[k, *table[k].values()] for k in table]
    rows.append(["**total**", *[sum(table[k][c] for k in table) for c in cols]])
    return [f"## {title} ({len(table)})", "", *_table(["", *cols], rows), ""]


def _ngram_section(rows: list[dict[str, Any]], total: int) -> list[str]:
    """The shared n-grams behind the removals, most rows first (boilerplate shows up on top)."""
    if not rows:
        return []
    head = f"Shared n-grams behind the removals ({total} distinct; `only` = rows it alone removed):"
    table = _table(
        ["shared n-gram", "rows", "only", "eval set", "eval id"],
        [[h["ngram"], h["rows"], h["only_cause"], h["eval_set"], h["eval_id"]] for h in rows],
    )
    return [head, "", *table, ""]


def _selection_section(sel: dict[str, Any], domains: dict[str, Any]) -> list[str]:
    """Where the domain labels came from, and s1's first stage and benchmark phase when they ran."""
    out: list[str] = []
    if domains:
        out += [
            "## Domain labels",
            "",
            f"{domains.get('from_column', 0)} from the pool's domain column, {domains.get('classified', 0)} "
            f"from the {domains.get('classifier', '?')} classifier.",
            "",
        ]
    first, bench = sel.get("first_stage"), sel.get("benchmark_phase")
    if first is not None or bench is not None:
        out += ["## Selection", ""]
    if first is not None:
        by = ", ".join(f"{k}: {v}" for k, v in first["by_source"].items()) or "-"
        out += [f"First stage: {first['rows']} rows taken before the draw ({by}).", ""]
        if first.get("taken", first["rows"]) < first["rows"]:
            out += [f"Only {first['taken']} fit in N: that many of them were drawn at random.", ""]
    if bench is not None:
        out += ["Benchmark-phase domain weights:", ""]
        out += _table(["domain", "weight"], [[d, w] for d, w in bench.items()])
        out += [""]
    return out


def to_markdown(report: dict[str, Any]) -> str:
    """A human-readable rendering of the report."""
    out = [
        "# Curation report",
        "",
        f"Pool: `{report['pool']['origin']}` ({report['pool']['rows']} rows), seed {report['seed']}.",
        "",
        "## Stages",
        "",
    ]
    out += _table(
        ["stage", "in", "out", "removed", "why"],
        [
            [
                s["stage"],
                s["in"],
                s["out"],
                s["removed"],
                ", ".join(f"{k}: {v}" for k, v in s["removed_by_reason"].items()) or "-",
            ]
            for s in report["stages"]
        ],
    )
    out += ["", "## Subsets", ""]
    out += _table(
        ["subset", "rows", "requested", "domains", "sources"],
        [
            [
                k,
                v["rows"],
                v["requested"] if v["requested"] is not None else "all",
                v["domains"],
                v["sources"],
            ]
            for k, v in report["subsets"].items()
        ],
    )
    out += [""]
    out += _count_section("Sources", report["by_source"])
    out += _count_section("Domains", report["by_domain"])
    out += ["## Thinking tokens", ""]
    keys = ["rows", "mean", "min", "p10", "p25", "median", "p75", "p90", "max"]
    out += _table(["set", *keys], [[k, *[v.get(x, "-") for x in keys]] for k, v in report["tokens"].items()])
    out += [""]
    c = report["contamination"]
    out += ["## Contamination", ""]
    if c.get("eval_sets"):
        sets = ", ".join(f"{k} ({v} questions)" for k, v in c["eval_sets"].items())
        out += [
            f"{c.get('n')}-gram overlap against {sets}: {c.get('hits_total', 0)} pool questions removed.",
            "",
        ]
        if c.get("hits"):
            out += _table(
                ["pool_index", "source", "eval set", "eval id", "shared n-gram", "shared"],
                [
                    [
                        h["pool_index"],
                        h["source"],
                        h["eval_set"],
                        h["eval_id"],
                        h["ngram"],
                        h["shared_ngrams"],
                    ]
                    for h in c["hits"]
                ],
            )
            out += [""]
        out += _ngram_section(c.get("by_ngram", []), c.get("ngrams_total", 0))
    else:
        out += ["Decontamination disabled.", ""]
    out += _selection_section(report.get("selection", {}), report.get("domains", {}))
    d = report.get("difficulty", {})
    if d:
        out += ["## Difficulty", "", f"Solve filter: {d.get('solve_filter', '-')}."]
        if d.get("solved_by_model"):
            out += [
                "",
                *_table(
                    ["reference model", "solved", "unknown"],
                    [
                        [m, s, d.get("unknown_by_model", {}).get(m, 0)]
                        for m, s in d["solved_by_model"].items()
                    ],
                ),
            ]
        out += [""]
    return "\n".join(out).rstrip("\n") + "\n"


def write(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """report.json and report.md in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md"]
    paths[0].write_text(to_json(report), encoding="utf-8")
    paths[1].write_text(to_markdown(report), encoding="utf-8")
    return paths
