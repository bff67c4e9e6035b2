from __future__ import annotations

import json

import curation_synth as synth
import pandas as pd
import pytest

from s1eval.curation import contamination
from s1eval.curation.config import ContaminationConfig, CurationConfig
from s1eval.errors import DataError


def test_removes_exactly_the_planted_copies(result, synth_pool, removed_by):
    for name, rows in synth_pool.contaminated.items():
        assert removed_by[f"contaminated:{name}"] == rows, name
    kept = set(result.passed["pool_index"])
    assert synth_pool.near_miss <= kept  # 7 shared words is not an 8-gram hit
    info = result.report["contamination"]
    assert info["hits_total"] == len(synth.contaminated(synth_pool))
    assert info["eval_sets"] == {"math500": 5, "aime24": 4}
    assert {h["pool_index"] for h in info["hits"]} == synth.contaminated(synth_pool)


def _sets():
    return [
        contamination.EvalSet(k, v, [str(i) for i in range(len(v))])
        for k, v in synth.eval_questions().items()
    ]


def _df(questions):
    return pd.DataFrame(
        {
            "pool_index": range(len(questions)),
            "id": [str(i) for i in range(len(questions))],
            "source": "s",
            "question": questions,
        }
    )


def test_n_is_configurable(synth_pool):
    near = synth_pool.df.loc[sorted(synth_pool.near_miss), "question"].tolist()
    r8 = contamination.run(_df(near), ContaminationConfig(n=8), CurationConfig(), eval_sets=_sets())
    r7 = contamination.run(_df(near), ContaminationConfig(n=7), CurationConfig(), eval_sets=_sets())
    assert len(r8.removed) == 0 and len(r7.removed) == len(near)


def test_normalisation_and_short_questions():
    sets = _sets()
    r = contamination.run(
        _df(
            [
                "COMPUTE  $\\dbinom{31}{28}$ please",  # the whole of a 4-word eval question
                "how many positive whole number divisors does 196 have",  # punctuation differs
                "compute the binomial 31 28",  # not a copy
            ]
        ),
        ContaminationConfig(),
        CurationConfig(),
        eval_sets=sets,
    )
    assert dict(zip(r.removed["pool_index"], r.removed["reason"], strict=False)) == {
        0: "contaminated:math500",
        1: "contaminated:math500",
    }


def test_eval_sets_from_files_and_errors(tmp_path):
    cfg = CurationConfig()
    path = tmp_path / "gpqa.csv"
    pd.DataFrame(
        {"Question": ["Which of the following molecules has the largest dipole moment in water?"]}
    ).to_csv(path, index=False)
    es = contamination.load_eval_set({"name": "gpqa_diamond", "path": str(path), "field": "Question"}, cfg)
    assert es.name == "gpqa_diamond" and len(es.questions) == 1
    with pytest.raises(DataError, match="not shipped"):
        contamination.load_eval_set("gpqa_private_copy", cfg)
    with pytest.raises(DataError, match="not found"):
        contamination.load_eval_set({"name": "x", "path": str(tmp_path / "nope.jsonl")}, cfg)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "q"}) + "\n")
    with pytest.raises(DataError, match="no question column"):
        contamination.load_eval_set({"name": "bad", "path": str(bad)}, cfg)


def test_shipped_eval_sets_load_by_name():
    es = contamination.load_eval_set("math500", CurationConfig())
    assert len(es.questions) == 500
