"""Reasoning-trace length in tokens: the paper's difficulty proxy.

With ``difficulty.tokenizer`` set, lengths are counted with that Hugging Face tokenizer (a hub name or a local
path; loaded from the local cache when HF_HUB_OFFLINE=1). Without one, a deterministic regex counter is used:
every run of ASCII letters is one token, every digit is one token (Qwen-style tokenizers split numbers into
digits) and every other character that is not ASCII whitespace is one token. It lands within roughly +-30% of
BPE counts on English and LaTeX, needs no download and is fast (RE2 through pyarrow); since lengths are used to
rank traces, the scale matters less than the order. A precomputed ``thinking_tokens`` column wins over both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from s1eval.errors import ConfigError

# Whitespace spelled out (not \s) so Python's re and RE2 (pyarrow) count exactly the same.
FALLBACK_PATTERN = r"[A-Za-z]+|[0-9]|[^ \t\n\r\f\vA-Za-z0-9]"

TokenCounter = Callable[[list[str]], list[int]]


def regex_counter(texts: list[str]) -> list[int]:
    """The deterministic fallback counter (see the module docstring); RE2 via pyarrow when available."""
    clean = ["" if t is None else str(t) for t in texts]
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow ships with pandas/datasets here
        return python_regex_counter(clean)
    return pc.count_substring_regex(pa.array(clean, pa.large_string()), FALLBACK_PATTERN).to_pylist()


def python_regex_counter(texts: list[str]) -> list[int]:
    """The same count with Python's re (the reference the RE2 path is tested against)."""
    return pd.Series(texts, dtype=object).fillna("").str.count(FALLBACK_PATTERN).astype(int).tolist()


def hf_counter(name: str, batch_size: int = 256) -> TokenCounter:
    """A counter backed by a Hugging Face tokenizer (no special tokens)."""
    try:
        from transformers import AutoTokenizer
    except ImportError:  # pragma: no cover
        raise ConfigError(
            "difficulty.tokenizer needs transformers; pip install 's1eval[hf]' or unset it"
        ) from None
    try:
        tok = AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # noqa: BLE001
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"difficulty.tokenizer {name!r} could not be loaded ({first}); give a local path, "
            "download it first, or unset it to use the regex counter"
        ) from None

    def count(texts: list[str]) -> list[int]:
        out: list[int] = []
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i : i + batch_size], add_special_tokens=False)["input_ids"]
            out.extend(len(ids) for ids in enc)
        return out

    return count


def make_counter(tokenizer: str | None) -> TokenCounter:
    """The configured counter: a tokenizer when named, else the regex fallback."""
    return hf_counter(tokenizer) if tokenizer else regex_counter


def lazy_counter(tokenizer: str | None) -> TokenCounter:
    """make_counter, but the tokenizer is loaded on the first call: a pool that brings its own lengths
    (s1's gemini_length) never needs it, so it need not be in the cache."""
    if not tokenizer:
        return regex_counter
    loaded: list[TokenCounter] = []

    def count(texts: list[str]) -> list[int]:
        if not loaded:
            loaded.append(hf_counter(tokenizer))
        return loaded[0](texts)

    return count


def thinking_lengths(df: pd.DataFrame, counter: TokenCounter) -> pd.Series:
    """Token length of each row's trace, reusing a precomputed thinking_tokens value where present."""
    pre = (
        df["thinking_tokens"] if "thinking_tokens" in df else pd.Series(pd.NA, index=df.index, dtype="Int64")
    )
    todo = pre.isna().to_numpy()
    out = pre.astype("Int64").copy()
    if todo.any():
        texts = df.loc[todo, "thinking"].fillna("").astype(str).tolist()
        out.loc[todo] = np.asarray(counter(texts), dtype=np.int64)
    return out.astype(np.int64)
