"""s1K-style data curation: quality, decontamination, difficulty and diversity stages plus ablation subsets.

    from s1eval.curation import load_config, curate, write_outputs
    result = curate(load_config("local"))
    write_outputs(result, "out/")

The shipped configs (s1eval/curation/configs/, curation/configs/ in a checkout): s1k (the paper's), s1k-1.1
and local (a small sample pool), loadable by name.
"""

from .config import CurationConfig, config_from_dict, load_config
from .contamination import EvalSet
from .difficulty import Grader, Solver, default_grader
from .domains import DomainClassifier, KeywordClassifier, LLMClassifier, TfidfClassifier
from .export import to_dataset, to_records
from .pipeline import CurationResult, curate, run, write_outputs

__all__ = [
    "CurationConfig",
    "CurationResult",
    "DomainClassifier",
    "EvalSet",
    "Grader",
    "KeywordClassifier",
    "LLMClassifier",
    "Solver",
    "TfidfClassifier",
    "config_from_dict",
    "curate",
    "default_grader",
    "load_config",
    "run",
    "to_dataset",
    "to_records",
    "write_outputs",
]
