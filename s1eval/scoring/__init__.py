"""Answer extraction, equivalence and outcome classes for scored samples."""

from s1eval.scoring.equivalence import Equivalence, check_equivalence, is_equivalent, normalize_math
from s1eval.scoring.extract import KINDS, extract_answer, last_boxed
from s1eval.scoring.outcome import ScoredSample, classify, score_sample

__all__ = [
    "KINDS",
    "Equivalence",
    "ScoredSample",
    "check_equivalence",
    "classify",
    "extract_answer",
    "is_equivalent",
    "last_boxed",
    "normalize_math",
    "score_sample",
]
