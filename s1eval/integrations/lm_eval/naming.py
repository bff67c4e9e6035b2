"""lm-eval model names of s1eval's methods (kept apart so registering names imports nothing heavy)."""

from __future__ import annotations

import re


def lm_eval_name(method: str) -> str:
    """`s1_` + the method name, with `+` and other symbols as `_` (method `tcc+bf` is model `s1_tcc_bf`)."""
    return "s1_" + re.sub(r"[^a-z0-9_]", "_", method.lower())
