"""GPQA-Diamond from a synthetic CSV in the official layout (never real GPQA text)."""

import csv
from collections import Counter

import pytest

from s1eval.data import GPQA_ENV_VAR, data_hash, format_question, load_benchmark, shuffle_choices
from s1eval.errors import DataError

COLUMNS = [
    "Pre-Revision Question",
    "Question",
    "Correct Answer",
    "Incorrect Answer 1",
    "Incorrect Answer 2",
    "Incorrect Answer 3",
    "Explanation",
    "Record ID",
    "High-level domain",
    "Subdomain",
]


def write_csv(path, n=12, columns=COLUMNS, with_ids=True):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for i in range(n):
            writer.writerow(
                {
                    "Question": f"Synthetic question {i}:\nwhich token is right?",
                    "Correct Answer": f" right-{i} ",
                    "Incorrect Answer 1": f"wrong-{i}-1",
                    "Incorrect Answer 2": f"wrong-{i}-2",
                    "Incorrect Answer 3": f"wrong-{i}-3\n",
                    "Record ID": f"rec{i:03d}" if with_ids else "",
                    "High-level domain": "Physics",
                    "Subdomain": "Synthetic",
                }
            )
    return path


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(GPQA_ENV_VAR, raising=False)


def test_loads_and_shuffles_with_recorded_seed(tmp_path):
    path = write_csv(tmp_path / "gpqa_diamond.csv")
    problems = load_benchmark("gpqa_diamond", str(path), seed=3)
    assert len(problems) == 12
    for i, p in enumerate(problems):
        assert p.kind == "gpqa" and p.id == f"rec{i:03d}"
        assert len(p.choices) == 4 and p.answer in "ABCD"
        assert p.choices["ABCD".index(p.answer)] == f"right-{i}"  # stripped, and the letter points at it
        assert p.metadata["shuffle_seed"] == 3 and sorted(p.metadata["choice_order"]) == [0, 1, 2, 3]
        assert p.metadata["subdomain"] == "Synthetic"
    # the right answer is not always A: over 12 questions the letters vary
    assert len(Counter(p.answer for p in problems)) > 1


def test_shuffle_is_reproducible_and_seed_dependent(tmp_path):
    path = write_csv(tmp_path / "gpqa_diamond.csv")
    a = load_benchmark("gpqa_diamond", str(path), seed=0)
    b = load_benchmark("gpqa_diamond", str(path), seed=0)
    c = load_benchmark("gpqa_diamond", str(path), seed=1)
    assert [p.choices for p in a] == [p.choices for p in b]
    assert data_hash(a) == data_hash(b)
    assert [p.answer for p in a] != [p.answer for p in c]
    assert data_hash(a) != data_hash(c)
    # per question: the limit (or other rows) does not change a question's letters
    assert load_benchmark("gpqa_diamond", str(path), seed=0, limit=3) == a[:3]


def test_shuffle_is_pinned():
    """Pinned values: a change here would silently change every GPQA letter in recorded runs."""
    assert shuffle_choices("rec000", 0) == shuffle_choices("rec000", 0)
    pinned = [shuffle_choices(f"rec{i:03d}", 0)[1] for i in range(8)]
    assert pinned == ["C", "A", "D", "A", "C", "B", "D", "D"]


def test_format_question_shows_shuffled_choices(tmp_path):
    p = load_benchmark("gpqa_diamond", str(write_csv(tmp_path / "g.csv")), seed=0)[0]
    text = format_question(p)
    assert text.startswith("Synthetic question 0:")
    assert [line[:3] for line in text.splitlines()[-4:]] == ["A) ", "B) ", "C) ", "D) "]
    assert f"{p.answer}) right-0" in text


def test_env_var_path(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "elsewhere.csv", n=2)
    monkeypatch.setenv(GPQA_ENV_VAR, str(path))
    assert len(load_benchmark("gpqa")) == 2


def test_ids_from_question_text_when_no_record_id(tmp_path):
    problems = load_benchmark("gpqa_diamond", str(write_csv(tmp_path / "g.csv", n=3, with_ids=False)))
    assert all(p.id.startswith("gpqa-") for p in problems) and len({p.id for p in problems}) == 3


def test_missing_file_names_both_fixes(tmp_path):
    with pytest.raises(DataError) as info:
        load_benchmark("gpqa_diamond", str(tmp_path / "nope.csv"))
    message = str(info.value)
    assert "\n" not in message
    assert GPQA_ENV_VAR in message and "Idavidrein/gpqa" in message and "path=" in message


def test_no_copy_and_no_hub_access_names_both_fixes():
    # offline (conftest), so the hub load fails; the message must still be one line with both fixes
    with pytest.raises(DataError) as info:
        load_benchmark("gpqa_diamond")
    message = str(info.value)
    assert "\n" not in message and GPQA_ENV_VAR in message and "Idavidrein/gpqa" in message
    with pytest.raises(DataError, match=GPQA_ENV_VAR):
        load_benchmark("gpqa_diamond", use_hub=False)


def test_missing_columns(tmp_path):
    path = write_csv(tmp_path / "bad.csv", columns=["Question", "Correct Answer", "Incorrect Answer 1"])
    with pytest.raises(
        DataError, match=r"bad.csv:1: missing column\(s\) Incorrect Answer 2, Incorrect Answer 3"
    ):
        load_benchmark("gpqa_diamond", str(path))


def test_empty_cell_names_the_line(tmp_path):
    path = write_csv(tmp_path / "g.csv", n=2)
    text = path.read_text(encoding="utf-8").replace("wrong-1-2", "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"g.csv:\d+: empty or missing 'Incorrect Answer 2'"):
        load_benchmark("gpqa_diamond", str(path))
