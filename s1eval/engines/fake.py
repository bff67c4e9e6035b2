"""A scripted engine for unit tests of control logic: real tokens, real stop semantics, no model.

The script decides what the "model" would write next; the engine applies the request exactly as a real
backend does (max new tokens, stop token ids suppressed for `min_new_tokens` steps, stop strings), so
control code is tested against the same shapes the hf, vllm and openai engines return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from s1eval.engines.base import EngineBase, GenerationRequest, GenerationResult, Tokenizer
from s1eval.engines.stops import StopStringMatcher
from s1eval.formats.base import ThinkingFormat

Script = Callable[[str, int], str]
"""(context text, how many calls this cache_key has had) -> the text the model would write from here."""


class FakeEngine(EngineBase):
    name = "fake"

    def __init__(
        self, tokenizer: Tokenizer, script: Script, *, model_id: str = "fake", max_batch_size: int = 64
    ):
        self.tokenizer = tokenizer
        self.script = script
        self.model_id = model_id
        self.max_batch_size = max_batch_size
        self.calls: dict[Hashable, int] = defaultdict(int)
        self.requests: list[GenerationRequest] = []
        self.stats = {"generated_tokens": 0, "calls": 0}

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        self.stats["calls"] += 1
        out = []
        for i, req in enumerate(requests):
            self.requests.append(req)
            key = req.cache_key if req.cache_key is not None else ("anon", self.stats["calls"], i)
            text = self.tokenizer.decode(req.context_ids, skip_special_tokens=False)
            continuation = self.script(text, self.calls[key])
            self.calls[key] += 1
            out.append(self._apply(req, self.tokenizer.encode(continuation, add_special_tokens=False)))
        return out

    def _apply(self, req: GenerationRequest, planned: list[int]) -> GenerationResult:
        stops = set(req.stop_token_ids)
        matcher = StopStringMatcher(self.tokenizer, req.stop_strings)
        output: list[int] = []
        for token in planned:
            if len(output) >= req.max_new_tokens:
                break
            if token in stops:
                if len(output) < req.min_new_tokens:
                    continue  # suppressed: the model writes its next planned token instead
                return self._done(output, "stop_token", stop_token=token)
            output.append(token)
            hit = matcher.check(output) if matcher else None
            if hit is not None:
                matched, keep = hit
                return self._done(
                    output[:keep], "stop_string", stop_string=matched, discarded=len(output) - keep
                )
        if len(output) >= req.max_new_tokens:
            return self._done(output, "length")
        # the script ran out: the model ends its turn
        return self._done(
            output, "stop_token", stop_token=req.stop_token_ids[0] if req.stop_token_ids else None
        )

    def _done(self, ids: list[int], reason: str, **kw) -> GenerationResult:
        self.stats["generated_tokens"] += len(ids)
        discarded = kw.pop("discarded", 0)
        return GenerationResult(
            text=self.tokenizer.decode(ids, skip_special_tokens=False),
            token_ids=ids,
            stop_reason=reason,  # type: ignore[arg-type]
            discarded_tokens=discarded,
            **kw,
        )


@dataclass
class ThinkingScript:
    """A reasoner that thinks `segments[k]` on its k-th thinking call, then tries to end thinking.

    In the answer phase (the context already holds the end-of-thinking delimiter) it writes `answer`.
    """

    fmt: ThinkingFormat
    segments: Sequence[str]
    answer: str = "The answer is \\boxed{42}."
    end_of_turn: str = "<|im_end|>"

    def __call__(self, context: str, call_index: int) -> str:
        if self._in_answer_phase(context):
            return self.answer + self.end_of_turn
        segment = self.segments[min(call_index, len(self.segments) - 1)] if self.segments else ""
        return segment + self.fmt.think_end + self.answer + self.end_of_turn

    def _in_answer_phase(self, context: str) -> bool:
        start = context.rfind(self.fmt.think_start)
        return start >= 0 and self.fmt.think_end in context[start + len(self.fmt.think_start) :]
