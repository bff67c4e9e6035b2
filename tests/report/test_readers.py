"""Each reader on a small file of its source's documented shape, and discovery over a folder of runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1eval.errors import DataError
from s1eval.metrics.frame import COLUMNS
from s1eval.report.readers import canonical_benchmark, parse_model_args, read_runs

from .conftest import N_QUESTIONS, write_inspect_log, write_lm_eval_output, write_s1eval_run


def test_s1eval_run(tmp_path: Path):
    run = write_s1eval_run(tmp_path, "bf", k=2)
    rs = read_runs([run])
    f = rs.frame
    assert list(f.columns) == list(COLUMNS)
    assert len(f) == 3 * N_QUESTIONS * 2
    assert set(f["budget"]) == {512, 1024, 2048}
    assert set(f["sample"]) == {0, 1}
    assert (f["source"] == "s1eval").all() and (f["variant"] == "s1k").all()
    row = f[(f["budget"] == 512) & (f["qid"] == "q0") & (f["sample"] == 0)].iloc[0]
    assert row["correct"] == 1.0 and row["thinking_tokens"] == 512 and bool(row["capped"])
    assert row["outcome"] == "forced" and row["extensions"] == 1
    info = rs.runs[0]
    assert (info.label, info.data_hash, info.s1eval_version) == ("s1k / BF", "sha256:abc123", "0.1.0")


def test_s1eval_run_with_no_samples_yet(tmp_path: Path):
    run = write_s1eval_run(tmp_path, "bf", budgets=())
    rs = read_runs([run])
    assert rs.frame.empty and list(rs.frame.columns) == list(COLUMNS)


def test_s1eval_bad_line_names_file_and_line(tmp_path: Path):
    run = write_s1eval_run(tmp_path, "bf")
    with (run / "samples.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(DataError, match=r"samples\.jsonl:19"):
        read_runs([run])


def test_lm_eval_output(tmp_path: Path):
    out = write_lm_eval_output(tmp_path, "tcc+bf", 1024)
    rs = read_runs([out])
    f = rs.frame
    assert len(f) == N_QUESTIONS
    assert set(f["method"]) == {"tcc+bf"} and set(f["budget"]) == {1024}
    assert set(f["benchmark"]) == {"aime24"}
    assert f["model"].iloc[0] == "tiny/s1-test" and f["variant"].iloc[0] == "s1k"
    assert list(f.sort_values("qid")["qid"]) == [str(i) for i in range(N_QUESTIONS)]
    assert f["correct"].sum() == 3  # is_correct: q < 3 at the middle budget
    assert rs.runs[0].data_hash == "lmhash42"


def test_lm_eval_repeats_with_one_ledger_per_sample(tmp_path: Path):
    out = tmp_path / "o"
    out.mkdir()
    ts = "2025-03-01T00-00-00.1"
    (out / f"results_{ts}.json").write_text(
        json.dumps({"config": {"model": "s1_bf", "model_args": {"pretrained": "m"}}, "configs": {}})
    )
    led = {"method": "bf", "budget": 100, "thinking_tokens": 90, "outcome": "answered"}
    row = {"doc_id": 7, "exact_match": 1.0, "s1_ledger": [led | {"correct": True}, led | {"correct": False}]}
    (out / f"samples_aime24_{ts}.jsonl").write_text(json.dumps(row) + "\n")
    f = read_runs([out]).frame
    assert list(f["sample"]) == [0, 1] and list(f["correct"]) == [1.0, 0.0]


def test_lm_eval_without_samples_says_how_to_fix(tmp_path: Path):
    (tmp_path / "results_2025-03-01T00-00-00.1.json").write_text("{}")
    with pytest.raises(DataError, match="--log_samples"):
        read_runs([tmp_path])


def test_inspect_log(tmp_path: Path):
    log = write_inspect_log(tmp_path, "bf", 2048, epochs=2)
    rs = read_runs([log])
    f = rs.frame
    assert len(f) == N_QUESTIONS * 2
    assert set(f["sample"]) == {0, 1}
    assert set(f["method"]) == {"bf"} and set(f["budget"]) == {2048}
    assert set(f["benchmark"]) == {"aime24"} and set(f["variant"]) == {"1k-random"}
    assert f["model"].iloc[0] == "tiny/s1-test"
    # is_correct at the top budget: q < 4 + (sample % 2)
    assert f["correct"].sum() == 4 + 5
    assert rs.runs[0].data_hash == "sha256:inspect"


def test_discovery_reads_every_source_below_a_folder(tmp_path: Path):
    write_s1eval_run(tmp_path / "all" / "s1", "bf")
    write_lm_eval_output(tmp_path / "all", "tcc", 1024)
    write_inspect_log(tmp_path / "all")
    rs = read_runs([tmp_path / "all", tmp_path / "all" / "s1" / "bf"])  # the run named twice is read once
    assert sorted(set(rs.frame["source"])) == ["inspect", "lm_eval", "s1eval"]
    assert len(rs.runs) == 3


def test_discovery_errors(tmp_path: Path):
    with pytest.raises(DataError, match="no such file"):
        read_runs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no s1eval run"):
        read_runs([tmp_path / "empty"])


@pytest.mark.parametrize(
    "name", ["aime24", "s1_aime24", "tasks/aime24.py@aime24", "s1eval/aime24", "AIME24", "aime24.py"]
)
def test_canonical_benchmark(name: str):
    assert canonical_benchmark(name) == "aime24"


def test_parse_model_args():
    assert parse_model_args("pretrained=a/b,budget=4000") == {"pretrained": "a/b", "budget": "4000"}
    assert parse_model_args({"pretrained": "x"}) == {"pretrained": "x"}
    assert parse_model_args(None) == {}
