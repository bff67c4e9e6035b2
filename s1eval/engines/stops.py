"""Stop-string matching over generated token ids, shared by the in-process engines."""

from __future__ import annotations

from collections.abc import Sequence

from s1eval.engines.base import Tokenizer


class StopStringMatcher:
    """Finds the first stop string in the decoded output and the tokens to keep before it.

    Only a window at the end of the output is decoded each step, so the check is O(window), not O(length).
    """

    def __init__(self, tokenizer: Tokenizer, stop_strings: Sequence[str]):
        self.tokenizer = tokenizer
        self.stop_strings = tuple(s for s in stop_strings if s)
        self.window = max((len(s) for s in self.stop_strings), default=0) + 8

    def __bool__(self) -> bool:
        return bool(self.stop_strings)

    def check(self, output_ids: Sequence[int]) -> tuple[str, int] | None:
        """(matched string, number of tokens to keep) if a stop string appeared, else None."""
        if not self.stop_strings:
            return None
        tail = self.tokenizer.decode(output_ids[-self.window :], skip_special_tokens=False)
        if not any(s in tail for s in self.stop_strings):
            return None
        text = self.tokenizer.decode(output_ids, skip_special_tokens=False)
        hits = [(text.find(s), s) for s in self.stop_strings if s in text]
        start, matched = min(hits)
        keep = len(output_ids)
        while keep > 0 and len(self.tokenizer.decode(output_ids[:keep], skip_special_tokens=False)) > start:
            keep -= 1
        return matched, keep
