"""Answer equivalence: is an extracted prediction the same answer as the gold one?

- math: a cheap normalised string match first (text answers, spacing, \\dfrac vs \\frac, degrees), then
  math_verify (sympy) for real equivalence: fractions, decimals, intervals, sets, matrices, units.
- aime / integer: numeric comparison of the integer each side reduces to.
- gpqa: letter comparison.

Every math_verify call runs under `bounded.run_bounded` (see there for the main-thread/worker-thread
choice); a crash or timeout is reported in `Equivalence.error` and becomes `extraction_failed` in
`outcome.score_sample`, never an exception. Nothing from model output is eval'd: math_verify parses LaTeX
with its own ANTLR grammar and sympy's `parse_expr` is only reached through math_verify's guarded paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from s1eval.scoring.bounded import DEFAULT_TIMEOUT_S, run_bounded
from s1eval.scoring.extract import check_kind, letter_of, to_integer

_MAX_CHARS = 2000  # longer "answers" are not answers; refusing them also bounds parser work
_CACHE_MAX = 65536
_cache: dict[tuple[str, str, str], bool] = {}


@dataclass(frozen=True)
class Equivalence:
    """The verdict, plus why no verdict could be reached ("timeout: ..." / "crash: ..."), if so."""

    equal: bool
    error: str = ""


def is_equivalent(pred: str, gold: str, kind: str) -> bool:
    """True when `pred` is the same answer as `gold` for this kind; never raises on model text."""
    return check_equivalence(pred, gold, kind).equal


def check_equivalence(
    pred: str, gold: str, kind: str, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Equivalence:
    """Like `is_equivalent`, but says whether the parser crashed or timed out."""
    check_kind(kind)
    if pred is None or gold is None:
        return Equivalence(False)
    pred, gold = str(pred).strip(), str(gold).strip()
    if not pred or not gold:
        return Equivalence(False)
    if kind == "gpqa":
        a, b = letter_of(pred), letter_of(gold)
        return Equivalence(a is not None and a == b)
    if kind in ("aime", "integer"):
        a, b = to_integer(pred, allow_negative=True), to_integer(gold, allow_negative=True)
        return Equivalence(a is not None and a == b)
    key = (pred, gold, kind)
    cached = _cache.get(key)
    if cached is not None:
        return Equivalence(cached)
    if normalize_math(pred) == normalize_math(gold):
        equal = True
    elif len(pred) > _MAX_CHARS:
        return Equivalence(False, f"refused: prediction longer than {_MAX_CHARS} characters, not parsed")
    else:
        ok, equal, error = run_bounded(math_equal, pred, gold, timeout_s=timeout_s)
        if not ok:
            return Equivalence(False, error)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = bool(equal)
    return Equivalence(bool(equal))


_TEXT_CMD_RE = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|mathbf|textnormal)\s*\{([^{}]*)\}")
_SPACING_RE = re.compile(r"\\[,;:! ]|\\left|\\right|\\displaystyle|~|\s+")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°")


@lru_cache(maxsize=65536)
def normalize_math(value: str) -> str:
    """A canonical spelling for the cheap exact-match path (not a semantic normal form)."""
    value = value.strip().strip("$").strip()
    value = _TEXT_CMD_RE.sub(r"\1", value)
    value = _SPACING_RE.sub("", value)
    value = _DEGREE_RE.sub("", value)
    value = value.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    value = value.rstrip(".")
    match = re.fullmatch(r"\(([A-Za-z])\)", value)
    if match:
        value = match.group(1)
    if value.isalpha():
        value = value.lower()
    return value


def math_equal(pred: str, gold: str) -> bool:
    """math_verify's verdict on two answer strings (no timeout of its own: the caller bounds it)."""
    from math_verify import verify

    gold_parsed = _parse(gold)
    pred_parsed = _parse(pred)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(list(gold_parsed), list(pred_parsed), timeout_seconds=None, raise_on_error=False))


@lru_cache(maxsize=16384)
def _parse(answer: str) -> tuple:
    """Parse one bare answer; wrapping it in \\boxed{} tells math_verify that all of it is the answer."""
    import math_verify.grader
    import math_verify.parser
    from math_verify import parse

    # we bound the whole call ourselves (see bounded.py), so silence math_verify's "timeout disabled" note
    math_verify.parser.TIMEOUT_WARNING_SHOWN = True
    math_verify.grader.TIMEOUT_WARNING_SHOWN = True
    return tuple(parse("\\boxed{" + answer + "}", parsing_timeout=None, raise_on_error=True))
