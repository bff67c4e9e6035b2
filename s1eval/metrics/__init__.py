"""Metrics of test-time scaling: the paper's Control / Scaling / Performance and accuracy with intervals."""

from s1eval.metrics.control import control, control_of_frame
from s1eval.metrics.frame import COLUMNS, empty_frame, normalise
from s1eval.metrics.intervals import (
    Interval,
    PairedResult,
    accuracy_interval,
    bootstrap_questions,
    paired_bootstrap,
    wilson,
)
from s1eval.metrics.repeated import (
    accuracy_summary,
    avg_at_k,
    maj_at_k,
    majority_answer,
    pass_at_k,
    pass_at_k_estimate,
)
from s1eval.metrics.scaling import UNITS, performance, scaling
from s1eval.metrics.table3 import budget_points, method_summary, score_matrix

__all__ = [
    "COLUMNS",
    "UNITS",
    "Interval",
    "PairedResult",
    "accuracy_interval",
    "accuracy_summary",
    "avg_at_k",
    "bootstrap_questions",
    "budget_points",
    "control",
    "control_of_frame",
    "empty_frame",
    "maj_at_k",
    "majority_answer",
    "method_summary",
    "normalise",
    "paired_bootstrap",
    "pass_at_k",
    "pass_at_k_estimate",
    "performance",
    "scaling",
    "score_matrix",
    "wilson",
]
