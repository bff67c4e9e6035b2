from __future__ import annotations

import json

import pandas as pd
import pytest
from curation_synth import make_config

from s1eval.curation import config_from_dict, curate, load_config, to_dataset, write_outputs
from s1eval.curation.config import ColumnMap, ExportConfig
from s1eval.curation.export import assistant_text, to_records
from s1eval.curation.pool import canonicalize
from s1eval.errors import ConfigError, DataError


def _files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.name != "timings.json"}


def test_same_config_and_seed_give_byte_identical_output(pool_path, result, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_outputs(result, a)
    write_outputs(curate(make_config(pool_path)), b)
    fa, fb = _files(a), _files(b)
    assert set(fa) == {
        f"{s}.{e}" for s in ("s1k", "random", "diverse", "longest", "full") for e in ("jsonl", "parquet")
    } | {"removed.jsonl", "report.json", "report.md"}
    for name in fa:
        assert fa[name] == fb[name], name
    timings = json.loads((a / "timings.json").read_text())
    assert timings["total"] > 0 and "quality" in timings


def test_report_files(result, tmp_path):
    write_outputs(result, tmp_path)
    rep = json.loads((tmp_path / "report.json").read_text())
    assert [s["stage"] for s in rep["stages"]] == ["quality", "contamination", "difficulty"]
    assert rep["stages"][0]["in"] == 3000
    assert rep["by_source"]["numina"]["pool"] > 0 and "subset:s1k" in rep["by_domain"]["d0 Algebra"]
    assert rep["tokens"]["subset:s1k"]["rows"] == 200
    md = (tmp_path / "report.md").read_text()
    for heading in (
        "## Stages",
        "## Sources (4)",
        "## Domains (9)",
        "## Thinking tokens",
        "## Contamination",
    ):
        assert heading in md
    removed = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text().splitlines()]
    assert len(removed) == len(result.removed) and {"pool_index", "stage", "reason"} <= set(removed[0])


def test_export_records_and_dataset(result):
    df = result.subsets["s1k"].head(3)
    cfg = ExportConfig(system_prompt="You are s1.")
    rec = to_records(df, cfg)[0]
    row = df.iloc[0]
    assert rec["question"] == row["question"] and rec["thinking"] == row["thinking"]
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]
    assert rec["messages"][2]["content"] == (
        f"<|im_start|>think\n{row['thinking']}\n<|im_start|>answer\n{row['answer']}"
    )
    ds = to_dataset(df)
    assert len(ds) == 3 and {"messages", "question", "thinking", "answer"} <= set(ds.column_names)
    assert (
        assistant_text("T", "A", ExportConfig(think_marker="<think>\n", answer_marker="</think>\n"))
        == "<think>\nT\n</think>\nA"
    )


def test_s1_59k_columns_and_list_traces(tmp_path):
    raw = pd.DataFrame(
        {
            "question": ["What is one plus one here?"],
            "solution": ["2"],
            "cot_type": ["math"],
            "source_type": ["AI-MO/NuminaMath-CoT/aops_forum"],
            "metadata": ["{}"],
            "cot": [None],
            "thinking_trajectories": [["step one", "step two"]],
            "attempt": ["2"],
        }
    )
    df = canonicalize(raw, ColumnMap(preset="s1-59k"), "x")
    assert df.loc[0, "thinking"] == "step one\n\nstep two" and df.loc[0, "source"].startswith("AI-MO")
    assert df.loc[0, "extra:cot_type"] == "math"


def test_hub_loader_on_a_local_dataset_folder(tmp_path, synth_pool):
    folder = tmp_path / "ds" / "data"
    folder.mkdir(parents=True)
    synth_pool.df.head(300).to_parquet(folder / "train-00000-of-00001.parquet")
    cfg = config_from_dict(
        {
            "pool": {"hub": str(tmp_path / "ds"), "limit": 250},
            "contamination": {"enabled": False},
            "subsets": {"n": 20},
        }
    )
    r = curate(cfg)
    assert r.report["stages"][0]["in"] == 250 and len(r.subsets["s1k"]) == 20


def test_bad_input_is_a_one_line_error(tmp_path, pool_path):
    with pytest.raises(ConfigError, match="unknown config key 'quality.dedup'"):
        config_from_dict({"quality": {"dedup": True}})
    with pytest.raises(ConfigError, match="wrong type"):
        config_from_dict({"subsets": {"n": "many"}})
    with pytest.raises(ConfigError, match="subsets.names"):
        config_from_dict({"subsets": {"names": ["1k-best"]}})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(DataError, match="pool.path") as e:
        curate(config_from_dict({"pool": {"path": str(tmp_path / "nope.jsonl")}}))
    assert "\n" not in str(e.value)
    with pytest.raises(DataError, match="pool.columns.thinking"):
        curate(make_config(pool_path, pool={"path": str(pool_path), "columns": {"thinking": "trace"}}))
    with pytest.raises(DataError, match="grade column"):
        curate(make_config(pool_path, pool={"path": str(pool_path), "columns": {"grades": {"m": "nope"}}}))
    with pytest.raises(ConfigError, match="set pool.path"):
        curate(config_from_dict({}))


def test_shipped_configs_parse():
    from s1eval.curation.config import CONFIG_DIR

    for path in sorted(CONFIG_DIR.glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.subsets.n > 0, path


def test_a_pool_where_everything_is_removed(tmp_path):
    path = tmp_path / "pool.jsonl"
    rows = [
        {"question": f"question {i} about things", "thinking": "", "answer": "a", "domain": "d"}
        for i in range(5)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = curate(config_from_dict({"pool": {"path": str(path)}, "contamination": {"enabled": False}}))
    assert all(len(v) == 0 for v in r.subsets.values())
    write_outputs(r, tmp_path / "out")
    assert "missing_thinking: 5" in (tmp_path / "out" / "report.md").read_text()


def test_shipped_local_config_runs(tmp_path):
    from pathlib import Path

    import s1eval.curation

    cfg = load_config(Path(s1eval.curation.__file__).parent / "configs" / "local.yaml")
    r = curate(cfg)
    assert r.report["stages"][0]["in"] == 61 and len(r.subsets["s1k"]) == 20


def test_result_to_dataset(result):
    ds = result.to_dataset("1k-longest")
    assert len(ds) == 200 and ds[0]["messages"][-1]["role"] == "assistant"
