from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s1eval.curation import diversity
from s1eval.curation.config import CurationConfig, DiversityConfig
from s1eval.curation.domains import KeywordClassifier, LLMClassifier, TfidfClassifier, assign
from s1eval.errors import ConfigError


def test_keyword_classifier():
    clf = KeywordClassifier()
    labels = clf(
        [
            "How many primes divide 2024? Find the remainder modulo 7.",
            "In triangle ABC the circle through A is tangent to BC; find the area.",
            "A ball is thrown with velocity 3 m/s; find its acceleration and the force.",
            "zzz qqq",
        ]
    )
    assert labels == ["11 Number theory", "51 Geometry", "70 Mechanics of particles", "unknown"]


def test_tfidf_classifier_learns_from_labelled_rows():
    df = pd.DataFrame(
        {
            "question": [
                "prime divisor remainder",
                "triangle circle angle",
                "prime modulo digit",
                "circle tangent radius",
                "the remainder of a prime",
                "angle of the triangle",
            ],
            "domain": ["NT", "G", "NT", "G", None, None],
        }
    )
    out = assign(df, "tfidf", TfidfClassifier(), only_missing=True)
    assert out.tolist() == ["NT", "G", "NT", "G", "NT", "G"]


def test_tfidf_seeded_by_keywords_without_labels():
    clf = TfidfClassifier()
    labels = clf(["find the prime divisor", "a triangle with an angle", "prime numbers and divisor counts"])
    assert labels[0] == labels[2] == "11 Number theory" and labels[1] == "51 Geometry"


def test_llm_classifier_with_a_plain_callable():
    prompts = []

    def fake_llm(batch):
        prompts.extend(batch)
        return ["11 Number theory", "It is Geometry: 51 Geometry.", "51", "no idea"]

    clf = LLMClassifier(fake_llm, labels=["11 Number theory", "51 Geometry"])
    assert clf(["q1", "q2", "q3", "q4"]) == ["11 Number theory", "51 Geometry", "51 Geometry", "unknown"]
    assert "Question:\nq1" in prompts[0] and "11 Number theory" in prompts[0]


def test_column_classifier_requires_the_column():
    with pytest.raises(ConfigError, match="pool.columns.domain"):
        diversity.assign_domains(pd.DataFrame({"question": ["x"]}), DiversityConfig(), CurationConfig())
    with pytest.raises(ConfigError, match="llm_solver"):
        diversity.build_classifier(DiversityConfig(classifier="llm"), CurationConfig())


def _pool(sizes: dict[str, int]) -> pd.DataFrame:
    rows = []
    for d, k in sizes.items():
        for j in range(k):
            rows.append({"pool_index": len(rows), "domain": d, "thinking_tokens": 1000 - j})
    return pd.DataFrame(rows)


def test_rank_weighting_takes_nearly_the_longest_per_domain():
    df = _pool({"a": 500, "b": 200, "c": 100})
    picked = diversity.sample(df, 60, np.random.default_rng(0), "rank")
    chosen = df.set_index("pool_index").loc[picked]
    for d, g in chosen.groupby("domain"):
        k = len(g)
        ranks = 1000 - g["thinking_tokens"]  # 0 = longest in its domain
        assert ranks.max() < k + 8, d
        assert (ranks < k).mean() > 0.6, d
    counts = chosen["domain"].value_counts()
    assert counts.min() >= 10  # uniform over domains, not proportional to size


def test_uniform_weighting_and_exhaustion():
    df = _pool({"a": 300, "small": 3})
    picked = diversity.sample(df, 100, np.random.default_rng(1), "uniform")
    chosen = df.set_index("pool_index").loc[picked]
    assert (chosen["domain"] == "small").sum() == 3
    ranks = 1000 - chosen.loc[chosen["domain"] == "a", "thinking_tokens"]
    assert ranks.max() > 150  # uniform inside a domain: no preference for long traces
    assert len(diversity.sample(df, 10_000, np.random.default_rng(1), "rank")) == len(df)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=6),
    n=st.integers(1, 120),
    seed=st.integers(0, 5),
    weighting=st.sampled_from(["rank", "length", "uniform"]),
)
def test_sample_properties(sizes, n, seed, weighting):
    df = _pool({f"d{i}": k for i, k in enumerate(sizes)})
    picked = diversity.sample(df, n, np.random.default_rng(seed), weighting)
    assert len(picked) == min(n, len(df)) and len(set(picked.tolist())) == len(picked)
    again = diversity.sample(df, n, np.random.default_rng(seed), weighting)
    assert picked.tolist() == again.tolist()
