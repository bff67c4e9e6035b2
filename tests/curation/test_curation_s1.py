"""The paper's config (curation/configs/s1k.yaml) against s1's filter.ipynb, on synthetic rows in s1's layouts."""

from __future__ import annotations

import json
from pathlib import Path

import curation_synth as synth
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from s1eval.curation import (
    config_from_dict,
    curate,
    diversity,
    load_config,
    quality,
    selection,
    write_outputs,
)
from s1eval.curation.cli import curate_command
from s1eval.curation.config import BenchmarkPhaseConfig, FirstStageConfig, QualityConfig
from s1eval.curation.domains import DEFAULT_KEYWORDS
from s1eval.curation.pool import question_hash
from s1eval.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def s1_pool():
    return synth.make_s1_pool()


@pytest.fixture(scope="module")
def s1_path(s1_pool, tmp_path_factory):
    path = tmp_path_factory.mktemp("s1pool") / "featurized59k.parquet"
    s1_pool.df.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def s1_result(s1_path):
    return curate(synth.s1_config(s1_path))


def _reasons(result) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for reason, idx in zip(result.removed["reason"], result.removed["pool_index"], strict=False):
        out.setdefault(reason, set()).add(int(idx))
    return out


def test_the_shipped_paper_config_turns_s1s_stages_on():
    cfg = load_config(ROOT / "curation/configs/s1k.yaml")
    assert cfg.quality.rules == "s1" and cfg.quality.dedupe == "exact"
    assert cfg.difficulty.require_grades and cfg.difficulty.unknown == "drop"
    assert cfg.diversity.first_stage.enabled and cfg.diversity.benchmark_phase.enabled
    assert cfg.subsets.full_from == "pool"


def test_filters_match_the_notebook(s1_pool, s1_result):
    assert set(s1_result.hard["pool_index"]) == synth.notebook_filter(s1_pool.df)
    removed = _reasons(s1_result)
    for reason, rows in s1_pool.planted.items():
        assert removed[reason] == rows, reason
    assert [s["stage"] for s in s1_result.report["stages"]] == ["quality", "contamination", "difficulty"]


def test_rows_s1_keeps_are_kept(s1_pool, s1_result):
    kept = set(s1_result.hard["pool_index"])
    for name, i in s1_pool.kept_special.items():
        assert i in kept, name


def test_first_stage_is_taken_whole_before_the_draw(s1_pool, s1_result):
    s1k = set(s1_result.subsets["s1k"]["pool_index"])
    assert s1_pool.first_stage <= s1k and len(s1k) == 60
    first = s1_result.report["selection"]["first_stage"]
    assert first["rows"] == len(s1_pool.first_stage)
    assert first["by_source"] == {synth.AIME: 6, synth.GPQA: 4, synth.MATH: 3}
    assert "First stage: 13 rows taken before the draw" in _markdown(s1_result)


def test_domains_come_from_the_pool(s1_pool, s1_result):
    assert s1_result.report["domains"]["from_column"] == len(s1_result.passed)
    assert s1_result.report["domains"]["classified"] == 0
    assert set(s1_result.subsets["s1k"]["domain"]) <= set(synth.S1_DOMAINS)
    by_index = s1_pool.df["domain"]
    for i, d in zip(s1_result.passed["pool_index"], s1_result.passed["domain"], strict=False):
        assert by_index[i] == d


def test_full_is_the_whole_pool(s1_pool, s1_result):
    full = s1_result.subsets["full"]
    assert list(full["pool_index"]) == list(range(len(s1_pool.df)))
    assert s1_result.report["subsets"]["full"]["from"] == "pool"
    assert full["thinking_tokens"].notna().all() and (full["domain"] != "").all()


def test_same_config_same_bytes(s1_path, s1_result, tmp_path):
    write_outputs(s1_result, tmp_path / "a")
    write_outputs(curate(synth.s1_config(s1_path)), tmp_path / "b")
    for name in ("s1k.jsonl", "full.jsonl", "report.json", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def _markdown(result) -> str:
    from s1eval.curation import report

    return report.to_markdown(result.report)


# --------------------------------------------------------------------------------------- quality rules
def _frame(questions: list[str], sources: list[str] | None = None) -> pd.DataFrame:
    n = len(questions)
    return pd.DataFrame(
        {
            "pool_index": range(n),
            "id": [str(i) for i in range(n)],
            "source": sources or ["AI-MO/NuminaMath-CoT/olympiads"] * n,
            "question": questions,
            "thinking": ["t"] * n,
            "answer": ["a"] * n,
        }
    )


@pytest.mark.parametrize(
    ("question", "source", "reason"),
    [
        ("In the diagram [asy] draw(A--B); [/asy] find AB.", "qq8933/AIME_1983_2024", None),
        ("[asy] size(1); [/asy] ![Image](a.png) p1. **1**", "qq8933/AIME_1983_2024", None),
        ("In the diagram [asy] draw(A--B); [/asy] find AB.", "qfq/openaimath/Geometry", "asy_figure"),
        ("A pen costs $20. How many can you buy with $x$ dollars", "s", None),
        ("See ![Image](https://x/y.png) and find x.", "s", "image_placeholder"),
        ("p1. Find x. p2. Find y.", "s", "p_numbering"),
        ("Do step1. first.", "s", "p_numbering"),  # the notebook's substring test, literally
        ("Show **1** is odd.", "s", "bold_number"),
        ("**Note**: there are 5 balls.", "s", "bold_number"),  # a digit later on the line is enough
        ("**Note**: there are five balls.\nUse 5.", "s", None),  # not on the same line
        ("Find $x if $x^2=4.", "s", None),  # LaTeX balance is not one of s1's rules
    ],
)
def test_s1_quality_rules(question, source, reason):
    r = quality.run(_frame([question], [source]), QualityConfig(rules="s1"))
    got = r.removed["reason"].tolist()
    assert got == ([reason] if reason else []), got


def test_missing_features_are_dropped_with_the_missing_names():
    df = _frame(["q one", "q two", "q three"])
    df["domain"] = ["A", None, "B"]
    df["solved:m"] = pd.array([False, False, pd.NA], dtype="boolean")
    r = quality.run(df, QualityConfig(rules="s1"))
    assert dict(zip(r.removed["pool_index"], r.removed["detail"], strict=False)) == {
        1: "domain",
        2: "solved:m",
    }
    with pytest.raises(ConfigError, match="quality.features"):
        quality.run(df, QualityConfig(rules="s1", features=["gemini_length"]))


def test_exact_dedupe_keeps_questions_that_differ_in_symbols_only():
    df = _frame(["Find $a+b$.", "Find $a-b$.", "Find $a+b$."])
    assert quality.run(df, QualityConfig(rules="s1", dedupe="exact")).removed["pool_index"].tolist() == [2]
    assert quality.run(df, QualityConfig(rules="s1", dedupe=True)).removed["pool_index"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("source", "skip", "exempt"),
    [
        ("LiveCodeBench/release_v1", ["LiveCodeBench"], True),
        ("codegenning/usacobench_formatted", ["codegen"], True),
        ("codegenning/usacobench_formatted", ["USACO"], True),
        ("qfq/openaimath/Algebra", ["LiveCodeBench", "USACO"], False),
        ("code", ["code"], True),
    ],
)
def test_skip_format_sources_match_source_paths(source, skip, exempt):
    df = _frame(["int f() { return $x; }"], [source])
    r = quality.run(df, QualityConfig(skip_format_sources=skip))
    assert (len(r.removed) == 0) is exempt


# --------------------------------------------------------------------------------------- difficulty
def _bare_59k(s1_pool, tmp_path) -> Path:
    path = tmp_path / "bare59k.parquet"
    s1_pool.df[synth.S1_59K_COLUMNS].to_parquet(path)
    return path


def test_no_grades_is_a_one_line_refusal(s1_pool, tmp_path):
    cfg = synth.s1_config(_bare_59k(s1_pool, tmp_path))
    with pytest.raises(ConfigError) as e:
        curate(cfg)
    msg = str(e.value)
    assert "\n" not in msg and "isqwen7bcorrect" in msg and "difficulty: {enabled: false}" in msg
    assert "pool.features" in msg and "difficulty.solvers" in msg


def test_the_cli_refuses_too(s1_pool, tmp_path):
    data = yaml.safe_load((ROOT / "curation/configs/s1k.yaml").read_text())
    data["pool"] = {"path": str(_bare_59k(s1_pool, tmp_path)), "columns": "s1-59k"}
    data["out_dir"] = str(tmp_path / "out")
    path = tmp_path / "s1k.yaml"
    path.write_text(yaml.safe_dump(data))
    res = CliRunner().invoke(curate_command, [str(path), "--quiet"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("error: difficulty: pool") and "isqwen32bcorrect" in lines[0]
    )


def test_turning_the_stage_off_explicitly_runs(s1_pool, tmp_path):
    cfg = synth.s1_config(
        _bare_59k(s1_pool, tmp_path),
        difficulty={"enabled": False},
        diversity={"first_stage": {"enabled": False}, "classifier": "keyword"},
    )
    r = curate(cfg)
    assert r.report["difficulty"]["solve_filter"] == "disabled" and len(r.subsets["s1k"]) == 60


def test_unknown_grades_are_dropped_not_kept():
    from s1eval.curation import difficulty
    from s1eval.curation.config import DifficultyConfig

    df = _frame(["a", "b", "c"])
    df["solved:m"] = pd.array([False, pd.NA, True], dtype="boolean")
    r = difficulty.run(df, DifficultyConfig(unknown="drop"))
    assert dict(zip(r.removed["pool_index"], r.removed["reason"], strict=False)) == {
        1: "ungraded",
        2: "solved",
    }
    assert list(difficulty.run(df, DifficultyConfig()).kept["pool_index"]) == [0, 1]


def test_the_skip_is_loud_on_the_cli(tmp_path, pool_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {"pool": {"path": str(pool_path)}, "contamination": {"enabled": False}, "subsets": {"n": 5}}
        )
    )
    res = CliRunner().invoke(curate_command, [str(path), "--quiet", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and "warning: difficulty filter skipped" in res.stderr


# --------------------------------------------------------------------------------------- features join
def test_featurized_table_is_joined_by_question(s1_pool, s1_result, tmp_path):
    feats = s1_pool.df[["question", "solution", "cot_type", "source_type", "metadata", "cot"]].copy()
    for c in synth.S1_FEATURE_COLUMNS:
        feats[c] = s1_pool.df[c]
    dropped = 7
    feats = feats.drop(index=dropped).iloc[::-1]  # another order, and one question it does not know
    feats_path = tmp_path / "train_featurized.parquet"
    feats.to_parquet(feats_path)
    cfg = synth.s1_config(_bare_59k(s1_pool, tmp_path))
    cfg.pool.features.path = str(feats_path)
    r = curate(cfg)
    assert dropped in _reasons(r)["missing_features"]
    assert set(r.hard["pool_index"]) == set(s1_result.hard["pool_index"]) - {dropped}
    assert question_hash("abc") == synth.question_hash("abc")


# --------------------------------------------------------------------------------------- selection
def _hard(rows: list[tuple[str, str, int, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pool_index": range(len(rows)),
            "source": [r[0] for r in rows],
            "domain": [r[1] for r in rows],
            "thinking_tokens": [r[2] for r in rows],
            "trace_grade": pd.array([r[3] for r in rows], dtype="boolean"),
        }
    )


def test_first_stage_rule():
    df = _hard(
        [
            (synth.GPQA, "A", 10, True),
            (synth.GPQA, "A", 10, False),
            (synth.AIME, "A", 10, True),
            ("qq8933/AIME_1983_2024/extra", "A", 9000, True),  # not an exact AIME source, not MATH
            ("qfq/openaimath/Geometry", "A", 5601, True),
            ("qfq/openaimath/Geometry", "A", 5600, True),
            ("qfq/openaimath/Geometry", "A", 9000, False),
            (synth.NUMINA, "A", 9000, True),
        ]
    )
    assert selection.first_stage_mask(df, FirstStageConfig(enabled=True)).tolist() == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ConfigError, match="trace grades"):
        selection.first_stage_mask(df.drop(columns="trace_grade"), FirstStageConfig(enabled=True))


def test_benchmark_weights_follow_cell_17():
    rows = [(synth.AIME, "A", 1, True)] * 4 + [(synth.AIME, "C", 1, True)] * 2
    rows += [(synth.GPQA, "B", 1, True)] * 10 + [(synth.GPQA, "C", 1, True)] * 10 + [("x", "D", 1, True)]
    # GPQA scaled by 0.5 * 6 / 20 = 0.15, truncated: B int(1.5) = 1, C 2 + int(1.5) = 3
    assert selection.benchmark_weights(_hard(rows), BenchmarkPhaseConfig(enabled=True)) == {
        "A": 4.0,
        "B": 1.0,
        "C": 3.0,
    }


def test_benchmark_phase_draws_only_weighted_domains_after_the_switch():
    df = pd.DataFrame(
        {
            "pool_index": range(400),
            "domain": [f"d{i % 8}" for i in range(400)],
            "thinking_tokens": [1000 - i for i in range(400)],
        }
    )
    picked = diversity.sample(
        df, 100, np.random.default_rng(0), "rank", bench={"d0": 3.0, "d1": 1.0}, bench_after=30
    )
    doms = df.set_index("pool_index").loc[picked, "domain"].tolist()
    assert set(doms[30:]) <= {"d0", "d1"} and len(set(doms[:30])) > 4
    assert doms[30:].count("d0") > doms[30:].count("d1")


def test_preselected_rows_count_and_are_not_drawn_twice():
    df = pd.DataFrame({"pool_index": range(20), "domain": ["a"] * 20, "thinking_tokens": range(20, 0, -1)})
    pre = np.array([0, 1, 2])
    picked = diversity.sample(df, 10, np.random.default_rng(3), "rank", preselected=pre)
    assert picked[:3].tolist() == [0, 1, 2] and len(set(picked.tolist())) == 10


# --------------------------------------------------------------------------------------- s1K-1.1 layout
def test_s1k_11_layout_with_its_config(tmp_path):
    rows = []
    for i in range(30):
        q = f"Item q{i}: sivobel nemibel bellozu grilore repu number {i}?"
        if i == 3:
            q = "[asy] draw(unitcircle); [/asy] " + q
        if i == 4:
            q = "p1. " + q
        rows.append(
            {
                "solution": str(i),
                "question": q,
                "cot_type": "math",
                "source_type": synth.AIME if i < 4 else synth.NUMINA,
                "metadata": "{}",
                "gemini_thinking_trajectory": "gemini " * (i + 1),
                "gemini_attempt": str(i),
                "deepseek_thinking_trajectory": "deepseek " * (i + 2),
                "deepseek_attempt": f"Answer: {i}",
                "gemini_grade": "Yes",
                "gemini_grade_reason": "ok",
                "deepseek_grade": "No" if i % 3 else "Yes",
                "deepseek_grade_reason": "ok",
            }
        )
    path = tmp_path / "s1k11.parquet"
    pd.DataFrame(rows)[synth.S1K_11_COLUMNS].to_parquet(path)
    data = yaml.safe_load((ROOT / "curation/configs/s1k-1.1.yaml").read_text())
    data["pool"] = {"path": str(path), "columns": "s1k-1.1"}
    data["contamination"] = {"enabled": False}
    data["subsets"]["n"] = 10
    r = curate(config_from_dict(data))
    assert _reasons(r) == {"p_numbering": {4}}
    assert r.passed.loc[r.passed["pool_index"] == 3, "thinking"].iloc[0].startswith("deepseek")
    assert r.passed["trace_grade"].sum() == 10 and len(r.subsets["s1k"]) == 10
    assert len(r.subsets["full"]) == 29  # s1k-1.1.yaml keeps full = what passes


# --------------------------------------------------------------------------------------- domains, report
def test_msc_codes_are_not_split_across_labels():
    codes = [label.split(" ", 1)[0] for label in DEFAULT_KEYWORDS]
    assert len(codes) == len(set(codes)), [c for c in codes if codes.count(c) > 1]


def test_report_names_the_ngrams_behind_the_removals():
    from s1eval.curation import contamination
    from s1eval.curation.config import ContaminationConfig, CurationConfig

    boiler = "find the number of ordered pairs of positive integers"
    es = contamination.EvalSet(
        "aime", [f"Let n be 7. {boiler} (a, b) with a < b.", "unrelated words only here"], ["1", "2"]
    )
    df = _frame([f"Zork {i}: {boiler} that sum to {i}." for i in range(3)] + ["clean question text here"])
    r = contamination.run(df, ContaminationConfig(n=8), CurationConfig(), eval_sets=[es])
    top = r.info["by_ngram"][0]
    assert len(r.removed) == 3 and top["rows"] == 3 and top["only_cause"] == 0
    grams = {h["ngram"]: h["rows"] for h in r.info["by_ngram"]}
    assert grams["find the number of ordered pairs of positive"] == 3
    assert r.info["ngrams_total"] == len(grams)
    from s1eval.curation import report

    rep = {
        "pool": {"origin": "x", "rows": 4},
        "seed": 0,
        "stages": [],
        "subsets": {},
        "by_source": {},
        "by_domain": {},
        "tokens": {},
        "contamination": r.info,
    }
    md = report.to_markdown(rep)
    assert "Shared n-grams behind the removals" in md and "find the number of ordered pairs of positive" in md


def test_report_json_is_serialisable(s1_result):
    json.dumps(s1_result.report)


def test_a_first_stage_larger_than_n_is_sampled_down(s1_pool, s1_path):
    r = curate(synth.s1_config(s1_path, subsets={"n": 5, "names": ["s1k"]}))
    s1k = set(r.subsets["s1k"]["pool_index"])
    assert len(s1k) == 5 and s1k <= s1_pool.first_stage
    assert r.report["selection"]["first_stage"]["taken"] == 5
    assert "Only 5 fit in N" in _markdown(r)


def test_the_tokenizer_is_loaded_only_when_a_length_is_missing():
    from s1eval.curation import tokens

    count = tokens.lazy_counter("/nonexistent/tokenizer/path")  # no error yet: nothing to count
    df = pd.DataFrame({"thinking": ["a b"], "thinking_tokens": pd.array([7], dtype="Int64")})
    assert tokens.thinking_lengths(df, count).tolist() == [7]
    with pytest.raises(ConfigError, match="difficulty.tokenizer"):
        count(["needs the tokenizer"])


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"quality": {"rules": "paper"}}, "quality.rules"),
        ({"quality": {"dedupe": "fuzzy"}}, "quality.dedupe"),
        ({"difficulty": {"unknown": "guess"}}, "difficulty.unknown"),
        ({"subsets": {"full_from": "all"}}, "subsets.full_from"),
        ({"diversity": {"benchmark_phase": {"after": 700}}}, "benchmark_phase.after"),
        ({"diversity": {"first_stage": {"min_token": 1}}}, "first_stage.min_token"),
    ],
)
def test_new_settings_are_checked(data, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict(data)
