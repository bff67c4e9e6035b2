"""The paper's two studies as one call each: extrapolation strings (Table 4) and data ablations (Table 2).

    from s1eval.studies import run_extrapolation_study
    result = run_extrapolation_study("simplescaling/s1.1-32B", "aime24,math500", max_thinking_tokens=8000)
    result.table.loc["2x Wait", ("aime24", "accuracy")]

Each table cell is a resumable `s1eval eval` run; a rerun reuses the finished ones.
"""

from s1eval.studies.ablation import SUBSET_LABELS, run_ablation_study
from s1eval.studies.common import StudyResult, load_benchmarks
from s1eval.studies.extrapolation import Strategy, default_strategies, run_extrapolation_study
from s1eval.studies.findings import Finding, ablation_findings, extrapolation_findings

__all__ = [
    "SUBSET_LABELS",
    "Finding",
    "Strategy",
    "StudyResult",
    "ablation_findings",
    "default_strategies",
    "extrapolation_findings",
    "load_benchmarks",
    "run_ablation_study",
    "run_extrapolation_study",
]
