"""The run store: resume keys, torn lines from killed runs, atomic manifests, concurrent appends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from s1eval.errors import DataError
from s1eval.runs.manifest import build_manifest, model_revision
from s1eval.runs.store import RunStore, sample_key

ENGINE = {
    "engine": "openai",
    "model": "m",
    "server": "vllm",
    "base_urls": ["http://a/v1"],
    "max_concurrency": 8,
}
BASE = dict(
    model="m", engine=ENGINE, prompt="p", method="bf", settings={"num_extensions": 2}, budget=512, seed=0
)


def test_sample_key_depends_on_what_decides_the_output():
    key = sample_key(**BASE)
    assert len(key) == 64
    for field, other in [
        ("model", "m2"),
        ("engine", {**ENGINE, "server": "transformers"}),
        ("prompt", "q"),
        ("method", "tcc"),
        ("settings", {"num_extensions": 3}),
        ("budget", 1024),
        ("seed", 1),
    ]:
        assert sample_key(**{**BASE, field: other}) != key, field
    # speed settings and dict order do not change it: adding a server or reordering settings still resumes
    faster = {**ENGINE, "base_urls": ["http://a/v1", "http://b/v1"], "max_concurrency": 64}
    assert sample_key(**{**BASE, "engine": dict(reversed(list(faster.items())))}) == key


def test_append_done_and_errors_retried(tmp_path):
    store = RunStore(tmp_path / "run")
    assert store.records() == [] and store.done() == {} and store.read_manifest() is None
    store.append([{"key": "a", "outcome": "answered"}, {"key": "b", "outcome": "engine_error"}])
    assert set(store.done()) == {"a"} and set(store.done(include_errors=True)) == {"a", "b"}
    store.append([{"key": "b", "outcome": "forced"}])
    assert store.done()["b"]["outcome"] == "forced"
    assert [r["key"] for r in store.latest()] == ["a", "b"] and len(store.records()) == 3
    with pytest.raises(ValueError, match="needs a 'key'"):
        store.append([{"outcome": "answered"}])


def test_torn_last_line_is_cut_and_appends_continue(tmp_path):
    store = RunStore(tmp_path)
    store.append([{"key": "a", "outcome": "answered"}])
    with open(store.samples_path, "ab") as fh:
        fh.write(b'{"key": "b", "outc')  # a run killed mid-write
    fresh = RunStore(tmp_path)
    assert set(fresh.done()) == {"a"}
    fresh.append([{"key": "b", "outcome": "answered"}])
    lines = store.samples_path.read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == ["a", "b"]


def test_corrupt_middle_line_names_file_and_line(tmp_path):
    store = RunStore(tmp_path)
    store.samples_path.write_text('{"key": "a"}\nnot json\n{"key": "b"}\n')
    with pytest.raises(DataError, match=r"samples.jsonl:2: .*remove that line"):
        store.done()


def test_concurrent_appends_never_interleave(tmp_path):
    store = RunStore(tmp_path)
    big = "x" * 20000

    def worker(t: int) -> None:
        for i in range(20):
            store.append([{"key": f"{t}-{i}", "pad": big}, {"key": f"{t}-{i}-b", "pad": big}])

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(store.done()) == 6 * 20 * 2


def test_manifest_is_atomic_and_round_trips(tmp_path):
    store = RunStore(tmp_path)
    manifest = build_manifest(
        model="org/model",
        engine=ENGINE,
        method="bf",
        settings={"num_extensions": 2},
        budgets=[512, 1024],
        benchmark="aime24",
        data_hash="abc",
        num_questions=30,
        argv=["s1eval", "eval", "--budgets", "512,1024"],
    )
    store.write_manifest(manifest)
    got = store.read_manifest()
    assert got["engine"] == ENGINE and got["command"] == "s1eval eval --budgets 512,1024"
    assert got["versions"]["s1eval"] and "torch" in got["versions"] and got["hardware"]["cpu_count"] >= 1
    assert got["created"] and got["data_hash"] == "abc"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_model_revision_from_a_snapshot_path(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    snap = tmp_path / "models--org--m" / "snapshots" / sha
    snap.mkdir(parents=True)
    assert model_revision(str(snap)) == sha
    assert model_revision(str(tmp_path), "v1") == "v1"
    assert model_revision("org/not-cached", None) is None


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_writer_leaves_readable_files(tmp_path):
    """A process appending samples and rewriting the manifest in a loop is SIGKILLed; the files stay valid."""
    script = textwrap.dedent(
        f"""
        from s1eval.runs.store import RunStore
        store = RunStore({str(tmp_path)!r})
        i = 0
        while True:
            store.append([{{"key": f"k{{i}}", "pad": "y" * 50000}}])
            store.write_manifest({{"run_id": "r", "i": i, "pad": "z" * 50000}})
            i += 1
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (tmp_path / "samples.jsonl").exists():
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = RunStore(tmp_path)
    done = store.done()
    assert len(done) >= 1 and store.read_manifest()["run_id"] == "r"
    store.append([{"key": "after"}])
    assert "after" in store.done()
