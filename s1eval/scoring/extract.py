"""Answer extraction: pull the final answer out of model text, per answer kind.

Extraction is pure string work (regular expressions and a one-pass brace matcher), so it is fast and never
evaluates anything from the model; only the last MAX_TEXT_CHARS are read and the patterns are written
so that unclosed delimiters cannot make a scan quadratic. Where the answer is
looked for, in order (the first place that has something wins, and inside a place the *last* match wins
because models restate and correct themselves):

- math:    the last \\boxed{...} / \\fbox{...} (nested braces), a trailing "Final Answer:" line,
           the last $...$ (or \\(...\\), \\[...\\]), "the answer is ...", a bare one-line answer.
- aime:    the same places, reduced to an integer ("\\boxed{033}" -> "33", "1,000" -> "1000",
           "33^\\circ" / "33 \\text{ cm}" -> "33"); a place whose content is not an integer gives None.
- integer: like aime, but negative integers are allowed (custom synthetic tasks).
- gpqa:    a letter A-D from \\boxed{C}, "Answer: C", "the answer is (C)", the last "(C)", a bare "C".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from s1eval.errors import ConfigError

KINDS: tuple[str, ...] = ("math", "aime", "integer", "gpqa")
MAX_TEXT_CHARS = 20000
"""Only the end of a long text is searched: answers come last, and it keeps every pattern cheap."""
CHOICE_LETTERS = "ABCDEFGHIJ"
"""Letters of multiple-choice options (s1eval.data names GPQA's choices with them; Inspect tasks may have 10)."""
GPQA_LETTERS = CHOICE_LETTERS[:4]


_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*(\{)|\\boxed\s+([^\s${}\\]+)")
_FINAL_RE = re.compile(r"(?im)^[^\w\n]*final\s+answer[^\w\n]*?[:：][ \t]*(.*)$")
_FINAL_HEADER_RE = re.compile(r"(?im)^[^\w\n]*final\s+answer[^\w\n]*$")
# Each body stops at the next opener (the (?!...) guards), so unclosed openers cannot make a scan quadratic.
_MATH_RE = re.compile(
    r"\$\$(?P<a>(?:(?!\$\$).)+?)\$\$"
    r"|(?<!\\)\$(?P<b>[^$]+?)(?<!\\)\$"
    r"|\\\[(?P<c>(?:(?!\\\[).)+?)\\\]"
    r"|\\\((?P<d>(?:(?!\\\().)+?)\\\)",
    re.S,
)
_ANSWER_IS_RE = re.compile(r"(?i)\b(?:final\s+)?answer\s+(?:is|=)\s*:?\s*(.+?)(?:\.\s|\.?$|\n)", re.M)
_INT_RE = re.compile(r"^[+-]?\d+$")
_UNIT_TEXT_RE = re.compile(r"\\(?:text|mbox|mathrm|textbf|mathbf|textnormal|operatorname)\s*\{[^{}]*\}")


@functools.lru_cache(maxsize=16)
def _letter_patterns(last: str) -> tuple[tuple[re.Pattern[str], ...], re.Pattern[str], re.Pattern[str]]:
    """The letter patterns for choices A..last (GPQA: D; Inspect multiple choice up to J)."""
    r = f"A-{last}"
    explicit = (
        re.compile(rf"\b(?i:answer)\s*(?i:is)?\s*[:：]?\s*\**\s*\(?\s*([{r}])\s*\)?(?![A-Za-z])"),
        re.compile(rf"\b(?i:option|choice)\s+\(?([{r}])\)?(?![A-Za-z])\s+(?i:is)\s+(?i:the\s+)?(?i:correct)"),
        re.compile(rf"\(([{r}])\)"),
    )
    bare = re.compile(rf"^\W*([{r}])(?:\W.*)?$", re.S)
    short = re.compile(rf"^\W*([{r}{r.lower()}])(?:\W.*)?$", re.S)
    return explicit, bare, short


def extract_answer(text: str, kind: str, *, explicit_only: bool = False) -> str | None:
    """Return the final answer in `text` as a string for `kind`, or None when there is none.

    `explicit_only` keeps only marked answers (\\boxed, "Final Answer:", "the answer is", "Answer: C"):
    used on the end of the thinking, where any stray $x$ or "(B)" is working, not an answer.
    """
    check_kind(kind)
    if not text or not text.strip():
        return None
    text = text[-MAX_TEXT_CHARS:]
    if kind == "gpqa":
        return _extract_letter(text, explicit_only)
    candidate = _math_candidate(text, explicit_only)
    if candidate is None:
        return None
    if kind == "math":
        return candidate
    return to_integer(candidate, allow_negative=kind == "integer")


def check_kind(kind: str) -> None:
    """Refuse an answer kind we cannot score (a configuration mistake, not a sample failure)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown answer kind {kind!r}; expected one of {', '.join(KINDS)}")


def iter_boxed(text: str) -> Iterator[str]:
    """Yield the contents of every \\boxed{...} / \\fbox{...} in order; unbalanced ones are skipped."""
    closing = None
    for match in _BOX_RE.finditer(text):
        if match.group(2) is not None:
            yield match.group(2)
            continue
        if closing is None:
            closing = _brace_pairs(text)
        start = match.start(1)
        if start in closing:
            yield text[start + 1 : closing[start]]


def last_boxed(text: str) -> str | None:
    """The content of the last complete \\boxed{...} / \\fbox{...}, or None."""
    found = None
    for found in iter_boxed(text):  # noqa: B007 - we want the last one
        pass
    return found


def _brace_pairs(text: str) -> dict[int, int]:
    """Position of every "{" that is closed -> position of its "}", in one pass (\\{ and \\} skipped)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def _math_candidate(text: str, explicit_only: bool = False) -> str | None:
    boxed = last_boxed(text)
    if boxed is not None:
        return _clean(boxed)
    final = _final_answer_line(text)
    if final is not None:
        return final
    if explicit_only:
        return _answer_is(text)
    maths = list(_MATH_RE.finditer(text))
    if maths:
        last = maths[-1]
        return _clean(next(g for g in last.groups() if g is not None))
    said = _answer_is(text)
    if said is not None:
        return said
    return _bare(text)


def _final_answer_line(text: str) -> str | None:
    matches = list(_FINAL_RE.finditer(text))
    content = matches[-1].group(1).strip() if matches else ""
    if matches and not content:
        content = _next_nonempty_line(text, matches[-1].end())
    if not matches:
        headers = list(_FINAL_HEADER_RE.finditer(text))
        if not headers:
            return None
        content = _next_nonempty_line(text, headers[-1].end())
    if not content:
        return None
    maths = list(_MATH_RE.finditer(content))
    if maths:
        return _clean(next(g for g in maths[-1].groups() if g is not None))
    said = _answer_is(content)
    return said if said is not None else _clean(content)


def _next_nonempty_line(text: str, pos: int) -> str:
    for line in text[pos:].splitlines():
        if line.strip():
            return line.strip()
    return ""


def _answer_is(text: str) -> str | None:
    matches = list(_ANSWER_IS_RE.finditer(text))
    if not matches:
        return None
    value = _clean(matches[-1].group(1))
    return value or None


def _bare(text: str) -> str | None:
    """A short one-line text is taken as the answer itself (e.g. the answer phase " 42" after the prefix)."""
    stripped = text.strip()
    if "\n" in stripped or len(stripped) > 80 or "\\boxed" in stripped or "\\fbox" in stripped:
        return None
    words = re.findall(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}", _UNIT_TEXT_RE.sub("", stripped))
    if len(words) > 1:  # prose, not an answer
        return None
    value = _clean(stripped)
    return value or None


def _clean(value: str) -> str:
    value = value.strip().strip("*").strip()
    while value.startswith("$") and value.endswith("$") and len(value) >= 2:
        value = value[1:-1].strip()
    value = re.sub(r"^(?:\\\[|\\\()\s*|\s*(?:\\\]|\\\))$", "", value)
    value = re.sub(r"^(?i:the\s+(?:final\s+)?answer\s+is)\s*:?\s*", "", value)
    return value.rstrip(" .;,").strip()


def to_integer(candidate: str, *, allow_negative: bool) -> str | None:
    """Reduce an answer to a canonical integer string, tolerating zero padding, commas and units."""
    value = candidate
    if "=" in value:
        value = value.rsplit("=", 1)[1]
    value = _UNIT_TEXT_RE.sub(" ", value)
    value = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°|\\%|%|\\\$|\$", " ", value)
    value = re.sub(r"\\[,;:! ]|~|\{,\}", "", value)
    value = re.sub(r"(?<=\d),(?=\d{3}\b)", "", value)
    if re.search(r"\\[dt]?frac|\\sqrt|\\pi|/|\^", value):
        return None
    value = re.sub(r"\\[a-zA-Z]+", " ", value).replace("{", " ").replace("}", " ")
    # drop trailing unit words ("33 degrees", "33 cm") but nothing mixed into the number
    value = re.sub(r"\s+[A-Za-z][A-Za-z ]*$", "", value.strip().rstrip(".")).strip()
    value = re.sub(r"(?<=\d)\.0+$", "", value)
    if not _INT_RE.match(value):
        return None
    number = int(value)
    if number < 0 and not allow_negative:
        return None
    return str(number)


def _extract_letter(text: str, explicit_only: bool = False, last: str = GPQA_LETTERS[-1]) -> str | None:
    patterns, bare, _ = _letter_patterns(last)
    boxed = last_boxed(text)
    if boxed is not None:
        letter = letter_of(boxed, last)
        if letter is not None:
            return letter
    for pattern in patterns[:2] if explicit_only else patterns:
        matches = pattern.findall(text)
        if matches:
            return matches[-1]
    if explicit_only:
        return None
    stripped = text.strip()
    if len(stripped) <= 40:
        match = bare.match(stripped)
        if match:
            return match.group(1)
    return None


def extract_choice_letter(text: str, num_choices: int) -> str | None:
    """The letter (A, B, ...) of one of `num_choices` options that an answer names, or None."""
    if not 1 <= num_choices <= len(CHOICE_LETTERS):
        raise ConfigError(
            f"{num_choices} choices: s1eval names choices A to {CHOICE_LETTERS[-1]} (at most 10)"
        )
    return _extract_letter(text[-MAX_TEXT_CHARS:], last=CHOICE_LETTERS[num_choices - 1])


def letter_of(value: str, last: str = GPQA_LETTERS[-1]) -> str | None:
    """The choice letter a short answer names ("C", "(c)", "\\text{(C)}", "C) 42 K"), or None."""
    value = _UNIT_TEXT_RE.sub(lambda m: m.group(0)[m.group(0).index("{") + 1 : -1], value).strip()
    match = _letter_patterns(last)[2].match(value)
    return match.group(1).upper() if match else None
