"""load_benchmark for the shipped sets and custom JSONL, data_hash and format_question."""

import dataclasses
import json

import pytest

from s1eval.data import BENCHMARKS, Problem, data_hash, format_question, load_benchmark
from s1eval.errors import ConfigError, DataError


@pytest.mark.parametrize(
    "name, rows, kind", [("aime24", 30, "aime"), ("aime25", 30, "aime"), ("math500", 500, "math")]
)
def test_shipped_benchmarks(name, rows, kind):
    problems = load_benchmark(name)
    assert len(problems) == rows
    assert {p.kind for p in problems} == {kind}
    assert len({p.id for p in problems}) == rows
    assert all(p.question and p.answer and p.choices is None for p in problems)


def test_record_fields():
    first = load_benchmark("math500", limit=1)[0]
    assert first.id == "test/precalculus/807.json"
    assert first.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert first.metadata["subject"] == "Precalculus" and first.metadata["level"] == 2
    aime = load_benchmark("aime24")[0]
    assert (aime.id, aime.answer) == ("2024-I-1", "204")
    with pytest.raises(dataclasses.FrozenInstanceError):
        aime.answer = "1"  # type: ignore[misc]


def test_limit_and_aliases():
    assert [p.id for p in load_benchmark("aime_2024", limit=2)] == ["2024-I-1", "2024-I-2"]
    with pytest.raises(ConfigError):
        load_benchmark("aime24", limit=0)
    with pytest.raises(ConfigError):
        load_benchmark("nope")
    with pytest.raises(ConfigError):
        load_benchmark("aime24", colour="red")
    assert "gpqa_diamond" in BENCHMARKS


def test_data_hash_is_stable_and_content_sensitive():
    problems = load_benchmark("aime24")
    assert data_hash(problems) == data_hash(load_benchmark("aime24"))
    changed = [dataclasses.replace(problems[0], answer="205"), *problems[1:]]
    assert data_hash(changed) != data_hash(problems)
    noted = [dataclasses.replace(problems[0], metadata={"note": "x"}), *problems[1:]]
    assert data_hash(noted) == data_hash(problems)
    assert len(data_hash(problems)) == 64


def test_format_question():
    plain = Problem("1", "What is 1+1?", "2", "integer")
    assert format_question(plain) == "What is 1+1?"
    mc = Problem("2", "Pick one.", "B", "gpqa", ("red", "blue", "green", "gold"))
    assert format_question(mc) == "Pick one.\n\nA) red\nB) blue\nC) green\nD) gold"


def _write(tmp_path, lines, name="custom.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_custom_jsonl(tmp_path):
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "a", "question": "2+2?", "answer": 4, "kind": "integer", "source": "demo"}),
            json.dumps({"problem": "x if 2x=1?", "answer": "\\frac12"}),
            "",
            json.dumps(
                {"id": "c", "question": "Colour?", "answer": "A", "kind": "gpqa", "choices": ["red", "blue"]}
            ),
        ],
    )
    problems = load_benchmark("jsonl", str(path))
    assert [p.id for p in problems] == ["a", "custom-2", "c"]
    assert (
        problems[0].answer == "4"
        and problems[0].kind == "integer"
        and problems[0].metadata == {"source": "demo"}
    )
    assert problems[1].kind == "math"
    assert problems[2].choices == ("red", "blue")
    assert [p.id for p in load_benchmark(str(path))] == ["a", "custom-2", "c"]
    assert {p.kind for p in load_benchmark("jsonl", str(path), kind="math")} == {"math"}


@pytest.mark.parametrize(
    "lines, fragment",
    [
        (
            ['{"id": "a", "question": "q", "answer": "1"}', '{"id": "b", "question": '],
            "custom.jsonl:2: not valid JSON",
        ),
        (['{"id": "a", "answer": "1"}'], "custom.jsonl:1: missing field question"),
        (['{"id": "a", "question": "q"}'], "custom.jsonl:1: missing field answer"),
        (['{"id": "a", "question": "q", "answer": "x", "kind": "integer"}'], "custom.jsonl:1: kind integer"),
        (['{"id": "a", "question": "q", "answer": "1", "kind": "essay"}'], "custom.jsonl:1: unknown kind"),
        (
            ['{"id": "a", "question": "q", "answer": "1"}', '{"id": "a", "question": "r", "answer": "2"}'],
            "duplicate id",
        ),
        (["[1, 2]"], "custom.jsonl:1: expected a JSON object"),
    ],
)
def test_malformed_jsonl_is_one_line_data_error(tmp_path, lines, fragment):
    path = _write(tmp_path, lines)
    with pytest.raises(DataError) as info:
        load_benchmark("jsonl", str(path))
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_missing_jsonl(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_benchmark("jsonl", str(tmp_path / "absent.jsonl"))
    with pytest.raises(ConfigError):
        load_benchmark("jsonl")


def test_own_copy_of_a_shipped_benchmark(tmp_path):
    path = _write(tmp_path, [json.dumps({"id": "x-1", "problem": "p", "answer": "007"})], "aime.jsonl")
    (problem,) = load_benchmark("aime24", str(path))
    assert (problem.id, problem.kind, problem.answer) == ("x-1", "aime", "007")
