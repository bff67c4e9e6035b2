"""The control core: methods as generator programs over an engine, the ledger, the method registry.

Public names, for methods built outside s1eval on the same kernel: `ThinkingController` (thinks, cuts at each
budget, forces the answer), `Trajectory` / `ThinkRound` / `ThinkingCut` (its state), `ForcingSettings` (the
budget-forcing settings a method config shares), `BudgetForcingConfig`, the registry (`register_method`,
`get_method`, `registered_methods`, `resolve_settings`, `prepare_method`) and `sample_seed`.
"""

from s1eval.control.base import ControlResult
from s1eval.control.budget_forcing import (
    BudgetForcingConfig,
    ForcingSettings,
    ThinkingController,
    ThinkingCut,
    ThinkRound,
    Trajectory,
    run_budget_forcing,
    run_budget_sweep,
)
from s1eval.control.ledger import Ledger, Round
from s1eval.control.methods import (
    MethodInfo,
    PreparedMethod,
    RegisteredMethod,
    get_method,
    method_info,
    method_names,
    parse_budgets,
    prepare_method,
    register_method,
    registered_methods,
    resolve_settings,
)
from s1eval.control.seeds import sample_seed

__all__ = [
    "BudgetForcingConfig",
    "ControlResult",
    "ForcingSettings",
    "Ledger",
    "MethodInfo",
    "PreparedMethod",
    "RegisteredMethod",
    "Round",
    "ThinkRound",
    "ThinkingController",
    "ThinkingCut",
    "Trajectory",
    "get_method",
    "method_info",
    "method_names",
    "parse_budgets",
    "prepare_method",
    "register_method",
    "registered_methods",
    "resolve_settings",
    "run_budget_forcing",
    "run_budget_sweep",
    "sample_seed",
]
