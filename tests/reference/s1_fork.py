"""Reference: the s1 paper's lm-evaluation-harness fork (budget forcing), transcribed onto transformers.

Source: simplescaling/s1 @ 77272c6, ``eval/lm-evaluation-harness/lm_eval/models/vllm_causallms.py``
(below: "the fork", cited as ``vllm_causallms.py:L<a>-L<b>``). ``ForkVLLM.tok_encode``,
``ForkVLLM._model_generate`` (``generate=True`` branch: the thinking path and the plain path) and
``ForkVLLM.generate_until`` (and ``modify_gen_kwargs``) are the fork's text verbatim -- control flow, names,
comments, ``print`` calls and formatting (kept under ``# fmt: off``) -- so ``diff`` against L194-L462, L500-L609
and L730-L744 shows only the edits marked ``# [transcription]`` (plus blank lines without their trailing
whitespace). What was left out:
rejection sampling (raises ``NotImplementedError``), data parallelism / ray, LoRA, the loglikelihood path,
tqdm and lm-eval's cache hook. s1's requirements.txt pins ``vllm==0.6.4.post1``; ``eval/commands.sh`` runs
every budget-forcing config with ``--batch_size auto --apply_chat_template``.

The only thing replaced is ``self.model.generate(prompt_token_ids=..., sampling_params=...)``: ``TransformersLLM``
runs a transformers causal LM greedily, one token per step with a KV cache, and emulates vLLM's stopping and
detokenisation. Only greedy decoding (temperature 0) is supported.

vLLM semantics emulated (sources read through the code index; ``vllm-project/vllm`` unless stated)
-----------------------------------------------------------------------------------------------------
S1. ``SamplingParams`` defaults and validation (``vllm/sampling_params.py`` @ 00388f6): ``temperature=1.0`` (so
    a gen_kwargs without ``temperature``/``do_sample=False`` would *sample* in the fork; the shim raises
    ``NotImplementedError`` instead of guessing), ``max_tokens=16``, ``min_tokens=0``, ``skip_special_tokens=True``,
    ``spaces_between_special_tokens=True``, ``include_stop_str_in_output=False``; a ``str`` stop becomes
    ``[stop]``; ``stop_token_ids`` are de-duplicated in order; ``max_tokens < 1``, ``min_tokens < 0``,
    ``min_tokens > max_tokens`` and an empty stop string are ``ValueError`` s (so ``max_tokens_thinking="auto"``
    that comes out <= 0 fails as in vLLM). ``temperature < 1e-5`` (``_SAMPLING_EPS``) means greedy.
S2. EOS (``SamplingParams.update_from_generation_config``, same file): the request's ``eos_token_id`` is the
    tokenizer's ``eos_token_id`` (unless ``ignore_eos``); the ids in the model's ``generation_config.eos_token_id``
    other than that one are added to ``stop_token_ids`` (unless ``ignore_eos``); all of them plus
    ``stop_token_ids`` form ``_all_stop_token_ids`` (used by min_tokens).
S3. Stop checks after each sampled token (v1 scheduler ``check_stop``, ``vllm/v1/core/sched/utils.py`` @ 018d5dc;
    v0 ``vllm/engine/output_processor/stop_checker.py`` @ 0531c22 has the same order): while
    ``num_output_tokens < min_tokens`` nothing stops; then EOS -> ``"stop"``; then a ``stop_token_ids`` hit ->
    ``"stop"``; then ``num_tokens >= max_model_len`` or ``num_output_tokens >= max_tokens`` -> ``"length"``.
    So a stop token sampled as the max_tokens-th token gives ``"stop"``, not ``"length"``.
S4. Text of a token-stopped output (v1 ``vllm/v1/engine/detokenizer.py`` ``BaseIncrementalDetokenizer.update``
    @ e372329, PR #14624; v0 stop_checker strips ``new_char_count`` chars the same way): when the engine
    stopped on EOS or a stop token id and ``include_stop_str_in_output`` is False, that last token is NOT
    detokenised -- it is absent from ``text`` even with ``skip_special_tokens=False`` -- but it IS appended to
    ``token_ids``. (The docstring of ``stop_token_ids`` says "the returned output will contain the stop tokens
    unless the stop tokens are special tokens"; that is about ``token_ids``/special-ness, the code drops the
    text of the stopping token in both cases.)
S5. Stop strings (``check_stop_strings`` in the v1 detokenizer / ``StopChecker`` in v0): after each decoded token,
    each stop string, in list order, is searched in the text from ``1 - new_char_count - len(stop)``; the first
    one found truncates ``text`` to just before it and sets ``finish_reason="stop"`` (overriding a ``"length"``
    from S3 in the same step: ``vllm/v1/engine/output_processor.py`` ``process_outputs`` @ d078226). ``token_ids``
    keep every generated token, including the one that completed the stop string and any text after it.
S6. ``min_tokens``: logits of ``_all_stop_token_ids`` (S2) are set to -inf while fewer than ``min_tokens`` tokens
    have been generated (v1 ``MinTokensLogitsProcessor``; v0 sampler ``_apply_min_tokens_penalty``). Stop strings
    are never masked; vLLM v1 (PR #22014, merged 2025-07) only ignores text of the first ``min_tokens`` tokens
    for stop-string matching and matches only once ``num_output_tokens > min_tokens``; v0 (the fork's 0.6.4)
    skipped all stop checks while ``output_len < min_tokens``. The shim does v1. The fork never combines stop
    strings with min_tokens in the thinking phase (``vllm_causallms.py:L273-L282`` switches to stop_token_ids
    for exactly this reason), so the difference does not reach its budget forcing.
S7. Detokenisation (v1 ``FastIncrementalDetokenizer`` @ e372329): a ``tokenizers.decoders.DecodeStream`` with the
    request's ``skip_special_tokens``, primed with a prompt suffix (the shortest suffix of >= 4 and < 24 tokens
    whose decode has no U+FFFD, else the whole prompt), stepped one token at a time; with
    ``spaces_between_special_tokens=False`` (the fork's ``modify_gen_kwargs``) two consecutive added tokens
    render as their raw content. Incomplete UTF-8 at the end never reaches ``text``. A tokenizer without a
    Rust backend falls back to ``tokenizer.decode`` of the output so far (a diff per step).
S8. ``max_model_len``: a prompt longer than it is a ``ValueError`` (v1 processor; v0's scheduler instead warns
    "Input prompt (N tokens) is too long and exceeds limit of M" and finishes it FINISHED_IGNORED, no tokens,
    finish_reason "length"); generation stops with ``"length"`` once prompt + output
    reaches it (v1 ``>=``; some v0 versions used ``>``, one token more). In the fork ``max_model_len`` is
    lm-eval's ``max_length`` (``vllm_causallms.py:L78,L91``). This matters for the fork's real runs: with
    ``max_gen_toks=32768`` on a 32768-token model the answer phase is bounded by max_model_len, not max_tokens.
S9. ``LLM.generate(prompt_token_ids=...)`` uses the ids as given (no BOS added) and returns one
    ``RequestOutput`` per prompt, in order, with ``outputs[0]`` a ``CompletionOutput(text, token_ids,
    finish_reason in {"stop", "length"})``; greedy argmax ties go to the lowest id (``torch.argmax``).

Fork behaviours kept on purpose (they are the fork's, not the transcription's)
------------------------------------------------------------------------------
* ``thinking_n_ignore`` rounds all reuse the same SamplingParams: each round may generate up to
  ``max_tokens_thinking`` tokens again, and ``min_tokens=1`` applies to the first round too; only afterwards
  are the accumulated ``token_ids`` cut to ``max_tokens_thinking`` (L381-L384) -- the *text* is not cut, and the
  ``finish_reason`` stays that of the last round, so a cut thinking that ended on "stop" gets
  ``thinking_end`` (no "Final Answer:") and loses its last tokens.
* The ignore string's tokens (``tok_encode(thinking_n_ignore_str)``, encoded alone) count towards the cut.
* The "already ends in a newline" test is ``text[-1] == "\\n" or thinking_start[0] == "\\n"`` (L404): it looks at
  the *text* of the thinking (the last round's text appended to the earlier rounds'), and at the *first*
  character of ``thinking_start``. It sees vLLM's text, so a trailing incomplete UTF-8 token is not in it (S7),
  and an empty capped thinking text (e.g. ``max_tokens_thinking=1`` and that one token is an incomplete UTF-8
  byte) raises ``IndexError`` as the fork would.
* ``max_tokens_thinking="auto"`` is ``max_gen_toks - longest prompt in the batch - len(start) - len(end +
  "\\nFinal Answer:") - 100`` (L264); with ``--batch_size auto`` the batch is every request of the task.
* The answer phase gets ``max_tokens=max_gen_toks`` and ``stop=until + [eos string]``; lm-eval's response is the
  thinking text (with ``thinking_start``/``thinking_end`` strings) + the answer text (L458-L461).
* ``max_ctx_len = max_length - max_gen_toks`` and ``x[-max_ctx_len:]`` (L572-L573): 0 keeps the whole context
  (the paper's runs: ``max_gen_toks=32768`` = max_model_len), a negative value drops that many tokens from the
  *front*.

The s1 README's "vLLM with budget forcing" loop is a different procedure (text prompts re-tokenised by vLLM,
``max_tokens`` decremented by the tokens already used, ``min_tokens=1`` only in the ignore rounds, stop ids
``tok("<|im_start|><|im_end|>")``, no newline/"Final Answer:" cap); this module transcribes the lm-eval fork.
"""

# The transcribed fork code keeps its typing.List/Union/Optional annotations, unused loop variables and zip()s
# without strict=, so that it reads line for line like the original.
# ruff: noqa: UP006, UP035, UP045, B007, B020, B905
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

# ----------------------------------------------------------------------------------------------------------
# vLLM shim
# ----------------------------------------------------------------------------------------------------------

_SAMPLING_EPS = 1e-5  # vllm/sampling_params.py: temperature below this is greedy


@dataclass
class SamplingParams:
    """The subset of ``vllm.SamplingParams`` the fork uses, with vLLM's defaults and checks (S1)."""

    max_tokens: int | None = 16
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    min_tokens: int = 0
    temperature: float = 1.0
    ignore_eos: bool = False
    skip_special_tokens: bool = True
    spaces_between_special_tokens: bool = True
    include_stop_str_in_output: bool = False
    detokenize: bool = True
    n: int = 1
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.stop is None:
            self.stop = []
        elif isinstance(self.stop, str):
            self.stop = [self.stop]
        else:
            self.stop = list(self.stop)
        if self.stop_token_ids is None:
            self.stop_token_ids = []
        else:
            self.stop_token_ids = list(dict.fromkeys(int(x) for x in self.stop_token_ids))
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if self.min_tokens < 0:
            raise ValueError(f"min_tokens must be greater than or equal to 0, got {self.min_tokens}.")
        if self.max_tokens is not None and self.min_tokens > self.max_tokens:
            raise ValueError(
                f"min_tokens must be less than or equal to max_tokens={self.max_tokens}, got {self.min_tokens}."
            )
        if any(not s for s in self.stop):
            raise ValueError("stop cannot contain an empty string.")
        # [shim] greedy only: anything that would change what vLLM's greedy decoding returns is refused.
        if self.temperature >= _SAMPLING_EPS:
            raise NotImplementedError(
                f"the reference shim decodes greedily only; got temperature={self.temperature} (vLLM's default "
                "is 1.0, so gen_kwargs need temperature=0 or do_sample=False)"
            )
        if self.n != 1 or (self.presence_penalty, self.frequency_penalty, self.repetition_penalty) != (
            0,
            0,
            1,
        ):
            raise NotImplementedError("the reference shim supports n=1 and no penalties only")
        if self.include_stop_str_in_output or not self.detokenize:
            raise NotImplementedError(
                "the reference shim supports include_stop_str_in_output=False, detokenize=True"
            )


@dataclass
class CompletionOutput:
    """Shaped like ``vllm.outputs.CompletionOutput`` (mutable: the fork edits ``text``/``token_ids`` in place)."""

    index: int
    text: str
    token_ids: list[int]
    finish_reason: str | None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    """Shaped like ``vllm.outputs.RequestOutput``."""

    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    finished: bool = True


class _IncrementalDetokenizer:
    """vLLM v1's ``FastIncrementalDetokenizer`` (S7) over a transformers tokenizer's Rust backend."""

    def __init__(self, tokenizer: Any, prompt_token_ids: list[int], params: SamplingParams):
        self.hf_tokenizer = tokenizer
        self.skip_special_tokens = params.skip_special_tokens
        self.backend = getattr(tokenizer, "_tokenizer", None)
        if self.backend is None or not hasattr(self.backend, "get_added_tokens_decoder"):
            # [shim] no Rust tokenizer: decode the whole output each step and emit the difference
            self.backend = None
            self.ids: list[int] = []
            self.emitted = ""
            return
        from tokenizers.decoders import DecodeStream

        self.stream = DecodeStream(skip_special_tokens=params.skip_special_tokens)
        # Find a safe place to start.
        prompt_suffix = prompt_token_ids
        prompt_len = len(prompt_suffix)
        if prompt_len > 4:
            for i in range(4, min(prompt_len + 1, 24)):
                suffix = prompt_token_ids[-i:]
                if "\ufffd" not in self.backend.decode(suffix):
                    prompt_suffix = suffix
                    break
        # Prime the stream.
        for tid in prompt_suffix:
            self.stream.step(self.backend, tid)
        self.spaces_between_special_tokens = (
            params.skip_special_tokens or params.spaces_between_special_tokens
        )
        if not self.spaces_between_special_tokens:
            added_token_ids = {
                tid: tok.content for tid, tok in self.backend.get_added_tokens_decoder().items()
            }
            if added_token_ids:
                self.last_special = False
                self.added_token_ids = added_token_ids
            else:
                self.spaces_between_special_tokens = True

    def decode_next(self, next_token_id: int) -> str:
        if self.backend is None:
            self.ids.append(next_token_id)
            text = self.hf_tokenizer.decode(self.ids, skip_special_tokens=self.skip_special_tokens)
            if text.endswith("\ufffd"):
                return ""
            new, self.emitted = text[len(self.emitted) :], text
            return new
        token = self.stream.step(self.backend, next_token_id)
        if not self.spaces_between_special_tokens:
            special_token = self.added_token_ids.get(next_token_id)
            is_special = special_token is not None
            if is_special and self.last_special:
                # Return raw token string without any prefixed spaces.
                token = special_token
            self.last_special = is_special
        return token or ""


def check_stop_strings(
    output_text: str, new_char_count: int, stop: list[str], include_in_output: bool
) -> tuple[str, int] | None:
    """vLLM's ``check_stop_strings`` (S5): (stop string, index to truncate the text to) or None."""
    if not new_char_count or not stop:
        return None
    for stop_str in stop:
        stop_string_len = len(stop_str)
        # Avoid searching already-searched text.
        stop_index = output_text.find(stop_str, 1 - new_char_count - stop_string_len)
        if stop_index == -1:
            continue
        if include_in_output:
            stop_index += stop_string_len
            if stop_index >= len(output_text):
                return stop_str, -1
        return stop_str, stop_index
    return None


def _as_id_list(x: Any) -> list[int]:
    if x is None:
        return []
    if isinstance(x, int):
        return [x]
    return [int(i) for i in x]


class TransformersLLM:
    """Stands in for ``vllm.LLM``: ``generate(prompt_token_ids=..., sampling_params=...)`` over a transformers
    causal LM, greedy, one token per step with a KV cache. ``calls`` records every (prompts, params) it got."""

    def __init__(self, model: Any, tokenizer: Any, *, max_model_len: int):
        self.model = model
        self.tokenizer = tokenizer
        self.max_model_len = int(max_model_len)
        self.tokenizer_eos_token_id = tokenizer.eos_token_id
        gen_cfg = getattr(model, "generation_config", None)
        self.generation_config_eos_ids = _as_id_list(getattr(gen_cfg, "eos_token_id", None))
        self.calls: list[tuple[list[list[int]], SamplingParams]] = []
        # transformers 5.x renamed `past_key_values` to `cache` (the old name warns); support both spellings
        params = inspect.signature(model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self._extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    def generate(
        self,
        prompt_token_ids: list[list[int]],
        sampling_params: SamplingParams,
        use_tqdm: bool = False,
        lora_request: Any = None,
    ) -> list[RequestOutput]:
        if lora_request is not None:
            raise NotImplementedError("LoRA")
        prompts = [list(p) for p in prompt_token_ids]
        self.calls.append((prompts, copy.deepcopy(sampling_params)))
        return [self._generate_one(p, sampling_params) for p in prompts]

    def _stops(self, params: SamplingParams) -> tuple[int | None, list[int], set[int]]:
        """(eos_token_id, stop_token_ids, all_stop_token_ids) as update_from_generation_config sets them (S2)."""
        eos = self.tokenizer_eos_token_id
        stop_token_ids = list(params.stop_token_ids)
        all_stop = set(stop_token_ids)
        if eos is not None:
            all_stop.add(eos)
        extra = {i for i in self.generation_config_eos_ids if i != eos}
        all_stop |= extra
        if not params.ignore_eos:
            stop_token_ids = list(dict.fromkeys(sorted(extra) + stop_token_ids))
        return (None if params.ignore_eos else eos), stop_token_ids, all_stop

    def _generate_one(self, prompt: list[int], params: SamplingParams) -> RequestOutput:
        import torch

        if not prompt:
            raise ValueError("The decoder prompt cannot be empty")
        if len(prompt) > self.max_model_len:
            raise ValueError(
                f"The decoder prompt (length {len(prompt)}) is longer than the maximum model length of "
                f"{self.max_model_len}."
            )
        eos_token_id, stop_token_ids, all_stop_token_ids = self._stops(params)
        stop_token_set = set(stop_token_ids)
        mask_ids = torch.tensor(sorted(all_stop_token_ids), dtype=torch.long)
        max_tokens = params.max_tokens if params.max_tokens is not None else self.max_model_len
        min_tokens = params.min_tokens
        detok = _IncrementalDetokenizer(self.tokenizer, prompt, params)

        output_ids: list[int] = []
        output_text = ""
        finish_reason: str | None = None
        stop_reason: int | str | None = None
        device = next(self.model.parameters()).device
        with torch.no_grad():
            out = self.model(input_ids=torch.tensor([prompt], device=device), use_cache=True, **self._extra)
            while True:
                logits = out.logits[0, -1].float().clone()
                # S6: min_tokens masks EOS and stop_token_ids (not stop strings)
                if len(output_ids) < min_tokens and len(mask_ids):
                    logits[mask_ids.to(logits.device)] = float("-inf")
                tok = int(torch.argmax(logits))
                output_ids.append(tok)
                n_out = len(output_ids)

                # S3: scheduler stop check
                if n_out >= min_tokens:
                    if eos_token_id is not None and tok == eos_token_id:
                        finish_reason = "stop"
                    elif tok in stop_token_set:
                        finish_reason, stop_reason = "stop", tok
                    elif len(prompt) + n_out >= self.max_model_len or n_out >= max_tokens:
                        finish_reason = "length"

                # S4/S5: detokenise, unless the token stopped the request; then check stop strings
                if finish_reason != "stop":
                    stop_check_offset = len(output_text)
                    output_text += detok.decode_next(tok)
                    if min_tokens and n_out <= min_tokens:
                        stop_check_offset = len(output_text)
                    if params.stop and n_out > min_tokens:
                        hit = check_stop_strings(
                            output_text, len(output_text) - stop_check_offset, params.stop, False
                        )
                        if hit is not None:
                            stop_string, truncate_to = hit
                            if truncate_to != -1:
                                output_text = output_text[:truncate_to]
                            finish_reason, stop_reason = "stop", stop_string

                if finish_reason is not None:
                    break
                cache = out.get("cache", None)
                if cache is None:
                    cache = out.get("past_key_values", None)
                out = self.model(
                    input_ids=torch.tensor([[tok]], device=device),
                    use_cache=True,
                    **{self._cache_kw: cache},
                    **self._extra,
                )
        completion = CompletionOutput(
            index=0,
            text=output_text,
            token_ids=output_ids,
            finish_reason=finish_reason,
            stop_reason=stop_reason,
        )
        return RequestOutput(prompt_token_ids=list(prompt), outputs=[completion])


# ----------------------------------------------------------------------------------------------------------
# lm-eval stand-ins
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Instance:
    """``lm_eval.api.instance.Instance``, reduced to ``args=(context, gen_kwargs)``."""

    args: tuple[str, dict]


class Collator:
    """``lm_eval.models.utils.Collator`` for ``generate_until``'s use: sort by ``sort_fn`` (stable), group by
    gen_kwargs, batch by ``n`` (0 = the whole group), and restore the original order."""

    def __init__(self, arr: list, sort_fn, group_by: str | None = None):
        self._size = len(arr)
        groups: dict[str, list] = {}
        for i, x in enumerate(arr):
            key = repr(x[1]) if group_by == "gen_kwargs" else ""
            groups.setdefault(key, []).append((i, x))
        self._groups = [sorted(v, key=lambda x: sort_fn(x[1])) for v in groups.values()]
        self._reorder_indices: list[int] = []

    def get_batched(self, n: int = 1, batch_fn=None):
        for values in self._groups:
            self._reorder_indices.extend(i for i, _ in values)
            values = [x for _, x in values]
            step = n if n > 0 else len(values)
            for k in range(0, len(values), step):
                yield values[k : k + step]

    def get_original(self, newarr: list) -> list:
        res: list = [None] * self._size
        cov = [False] * self._size
        for ind, v in zip(self._reorder_indices, newarr, strict=False):
            res[ind] = v
            cov[ind] = True
        assert all(cov)
        return res


@dataclass
class ForkResult:
    """What the fork produced for one request, in token ids."""

    answer_context_ids: list[int]
    """The fork's ``requests[i]`` when the answer phase starts: prompt (+ thinking_start + thinking + forced)."""
    answer_ids: list[int]
    """The answer phase's ``token_ids`` (vLLM semantics: a stopping token is included)."""
    answer_text: str
    """What lm-eval stores as the response: thinking text (with its delimiters) + the answer phase's text."""
    thinking_text: str
    """The fork's ``outputs_thinking[i].outputs[0].text`` after L404-L412 ("" when there is no thinking phase)."""
    thinking_ids: list[int] = field(default_factory=list)
    """``outputs_thinking[i].outputs[0].token_ids`` after the cut (before the until tokens are stripped)."""
    thinking_finish_reason: str | None = None
    answer_phase_text: str = ""
    """The answer phase's own ``text`` (before the thinking text is prepended)."""
    answer_finish_reason: str | None = None


# ----------------------------------------------------------------------------------------------------------
# The fork
# ----------------------------------------------------------------------------------------------------------


class ForkVLLM:
    """The fork's ``VLLM`` model class (vllm_causallms.py:L35-L744), generation path only."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_length: int,
        max_gen_toks: int = 256,
        batch_size: str | int = "auto",
        add_bos_token: bool = False,
    ):
        # [transcription] __init__ (L39-L145): vLLM's LLM is replaced by the transformers shim; max_model_len is
        # max_length (L78, L91), so the engine and lm-eval agree on it.
        self._max_length = max_length
        self.model = TransformersLLM(model, tokenizer, max_model_len=max_length)
        self.tokenizer = tokenizer
        self.batch_size = "auto" if isinstance(batch_size, str) and "auto" in batch_size else batch_size
        self.data_parallel_size = 1
        self.add_bos_token = add_bos_token
        self._max_gen_toks = max_gen_toks
        self.lora_request = None
        # [transcription] what each chunk's answer phase was conditioned on, for ForkResult
        self._records: list[ForkResult] = []

    @property
    def eot_token_id(self):  # L147-L150
        # we use EOT because end of *text* is more accurate for what we're doing than end of *sentence*
        return self.tokenizer.eos_token_id

    @property
    def max_length(self):  # L161-L176 (max_length is always set here)
        return self._max_length

    @property
    def max_gen_toks(self):  # L178-L180
        return self._max_gen_toks

    # fmt: off
    # Below: the fork's text as it is (its formatting too, hence fmt: off), edits marked [transcription].
    # vllm_causallms.py:L194-L217
    def tok_encode(
        self,
        string: Union[str, List[str]],
        left_truncate_len: int = None,
        add_special_tokens: bool = False,
        truncation: bool = False,
    ) -> Union[List[int], List[List[int]]]:
        if not add_special_tokens:
            add_special_tokens = False or self.add_bos_token
        if isinstance(string, tuple):  # [transcription] generate_until passes a tuple; make it a list
            string = list(string)
        encoding: Union[List[List[int]], List[int]] = self.tokenizer(
            string,
            add_special_tokens=add_special_tokens,
            truncation=truncation,
            return_attention_mask=False,
        ).input_ids

        # left-truncate the encoded context to be at most `left_truncate_len` tokens long
        if left_truncate_len:
            if not isinstance(string, str):
                encoding = [enc[-left_truncate_len:] for enc in encoding]
            else:
                encoding = encoding[-left_truncate_len:]

        return encoding

    # vllm_causallms.py:L219-L462
    def _model_generate(
        self,
        requests: List[List[int]] = None,
        generate: bool = False,
        max_tokens: int = None,
        stop: Optional[List[str]] = None,
        **kwargs,
    ):
        if generate:
            kwargs = self.modify_gen_kwargs(kwargs)

            rejection_sample = kwargs.pop("rejection_sample", None)
            if rejection_sample:  # [transcription] rejection sampling (L231-L234, L286-L330) is left out
                raise NotImplementedError("rejection sampling is not part of this reference")
            if rejection_sample:
                if (kwargs.get("temperature_thinking", 0) == 0) and (kwargs.get("temperature", 0) == 0):
                    print("Warning: Rejection sampling works best with temperature/temperature_thinking > 0.")
                assert "max_tokens_thinking" in kwargs, "Rejection sampling requires max_tokens_thinking to be set."

            outputs_thinking = None
            if any(["thinking" in k for k in kwargs]) or rejection_sample:
                print("Separating thinking and answering generation.")
                thinking_start = kwargs.pop("thinking_start", "<|im_start|>think")
                thinking_end = kwargs.pop("thinking_end", "<|im_start|>answer")
                thinking_n_ignore = kwargs.pop("thinking_n_ignore", None)
                thinking_n_ignore_str = kwargs.pop("thinking_n_ignore_str", None) # e.g. "Let me double check step-by-step.")
                if thinking_n_ignore_str is not None:
                    print(f"Thinking ignore string: {thinking_n_ignore_str}")
                    thinking_n_ignore_str_tok = self.tok_encode(thinking_n_ignore_str)
                until_thinking = [kwargs.pop("until_thinking", "<|im_start|>")]
                if "until_thinking_2" in kwargs:
                    until_thinking.append(kwargs.pop("until_thinking_2"))
                if stop is not None:
                    until_thinking.extend(stop)
                print(f"Thinking start: {thinking_start}, Thinking end: {thinking_end}, Stop: {until_thinking}")
                thinking_start_tok = self.tok_encode(thinking_start)
                thinking_end_tok = self.tok_encode(thinking_end)
                thinking_end_max = thinking_end + "\nFinal Answer:"
                thinking_end_max_tok = self.tok_encode(thinking_end_max)
                newline_tok = self.tok_encode("\n")
                # Cast to list to avoid `dictionary changed size during iteration`
                sampling_params_thinking = {k.replace("_thinking", ""): kwargs.pop(k) for k, v in list(kwargs.items()) if "thinking" in k}
                # Add all other kwargs but keep sampling_params_thinking version if duplicate key
                sampling_params_thinking = {**kwargs, **sampling_params_thinking}
                if "max_tokens" in sampling_params_thinking:
                    if sampling_params_thinking["max_tokens"] == "auto":
                        # Leave 100 tokens for answer
                        sampling_params_thinking["max_tokens"] = max_tokens - max([len(x) for x in requests]) - len(thinking_start_tok) - len(thinking_end_max_tok) - 100
                        print(f"Auto setting max_tokens_thinking to {sampling_params_thinking['max_tokens']}")
                    else:
                        sampling_params_thinking["max_tokens"] = int(sampling_params_thinking["max_tokens"])
                    if rejection_sample:
                        sampling_params_thinking["max_tokens"] += 1
                else:
                    sampling_params_thinking["max_tokens"] = max_tokens
                until_thinking_tok = self.tok_encode(until_thinking)
                if ("min_tokens" in sampling_params_thinking) or (thinking_n_ignore is not None):
                    if thinking_n_ignore is not None:
                        sampling_params_thinking["min_tokens"] = 1
                    else:
                        sampling_params_thinking["min_tokens"] = int(sampling_params_thinking["min_tokens"])
                    assert all([len(x) == 1 for x in until_thinking_tok]), "min_tokens_thinking only supports until_thinking tokens that are 1 token long"
                    # min_tokens will not ignore `stop`, only `stop_token_ids` are ignored so need to use these
                    sampling_params_thinking["stop_token_ids"] = [x[0] for x in until_thinking_tok]
                else:
                    sampling_params_thinking["stop"] = until_thinking
                requests = [req + thinking_start_tok for req in requests]
                sampling_params = SamplingParams(**sampling_params_thinking)

                if rejection_sample:
                    raise NotImplementedError  # [transcription] L286-L330 left out
                elif thinking_n_ignore is not None:
                    print("Will ignore end of thinking " + str(thinking_n_ignore) + " times.")
                    # Add 1 to account for first generation w/o ignoring
                    thinking_n_ignore = int(thinking_n_ignore) + 1
                    outputs_thinking = [None] * len(requests)
                    requests_tmp = copy.deepcopy(requests)
                    indices = list(range(len(requests)))
                    for i in range(thinking_n_ignore):
                        outputs_tmp = self.model.generate(
                            prompt_token_ids=requests_tmp,
                            sampling_params=sampling_params,
                            use_tqdm=True if self.batch_size == "auto" else False,
                        )
                        indices_new = []
                        requests_tmp_new = []
                        for j, o in enumerate(outputs_tmp):
                            idx = indices[j]
                            assert len(o.outputs) == 1
                            cont = list(o.outputs[0].token_ids)
                            # Final; do not generate further
                            if (o.outputs[0].finish_reason == "length") or (i == thinking_n_ignore - 1):
                                if outputs_thinking[idx] is not None:
                                    outputs_thinking[idx].outputs[0].text += o.outputs[0].text
                                    outputs_thinking[idx].outputs[0].token_ids += cont
                                    outputs_thinking[idx].outputs[0].finish_reason = o.outputs[0].finish_reason
                                else:
                                    outputs_thinking[idx] = o
                                    outputs_thinking[idx].outputs[0].token_ids = cont
                                    outputs_thinking[idx].outputs[0].finish_reason = o.outputs[0].finish_reason
                            else:
                                # When using `stop`, the stop text will not be in the text, but still in the token_ids so remove it
                                for toks in until_thinking_tok:
                                    if cont[-len(toks):] == toks:
                                        cont = cont[:-len(toks)]

                                if thinking_n_ignore_str is not None:
                                    cont += thinking_n_ignore_str_tok
                                    o.outputs[0].text += thinking_n_ignore_str

                                if outputs_thinking[idx] is not None:
                                    outputs_thinking[idx].outputs[0].text += o.outputs[0].text
                                    outputs_thinking[idx].outputs[0].token_ids += cont
                                else:
                                    outputs_thinking[idx] = o
                                    outputs_thinking[idx].outputs[0].token_ids = cont

                                requests_tmp_new.append(requests_tmp[j] + cont)
                                indices_new.append(idx)
                        requests_tmp = requests_tmp_new
                        indices = indices_new
                    for idx in list(range(len(requests))):
                        if len(outputs_thinking[idx].outputs[0].token_ids) > sampling_params_thinking["max_tokens"]:
                            print(f'Warning: Generated more than {sampling_params_thinking["max_tokens"]} tokens. Cutting.')
                            outputs_thinking[idx].outputs[0].token_ids = outputs_thinking[idx].outputs[0].token_ids[:sampling_params_thinking["max_tokens"]]

                else:
                    outputs_thinking = self.model.generate(
                        prompt_token_ids=requests,
                        sampling_params=sampling_params,
                        use_tqdm=True if self.batch_size == "auto" else False,
                    )

                for i, o in enumerate(outputs_thinking):
                    assert len(o.outputs) == 1
                    cont = list(o.outputs[0].token_ids)
                    # When using `stop`, the stop text will not be in the text, but still in the token_ids so remove it
                    for toks in until_thinking_tok:
                        if cont[-len(toks):] == toks:
                            cont = cont[:-len(toks)]

                    if o.outputs[0].finish_reason == "length":
                        assert not rejection_sample, "Rejection sampling should not reach this point."
                        # \n appears a lot so a decent chance it happend to just be the last token in which case we don't need to add a newline
                        if (o.outputs[0].text[-1] == "\n") or (thinking_start[0] == "\n"):
                            requests[i] += cont + thinking_end_max_tok
                            outputs_thinking[i].outputs[0].text = thinking_start + outputs_thinking[i].outputs[0].text + thinking_end_max
                        else:
                            requests[i] += cont + newline_tok + thinking_end_max_tok
                            outputs_thinking[i].outputs[0].text = thinking_start + outputs_thinking[i].outputs[0].text + "\n" + thinking_end_max
                    else:
                        requests[i] += cont + thinking_end_tok
                        outputs_thinking[i].outputs[0].text = thinking_start + outputs_thinking[i].outputs[0].text + thinking_end

            sampling_params = SamplingParams(max_tokens=max_tokens, stop=stop, **kwargs)
        else:
            raise NotImplementedError  # [transcription] L415-L418: the loglikelihood path is left out
        if self.data_parallel_size > 1:
            raise NotImplementedError  # [transcription] L419-L443 (ray data parallelism) left out

        # [transcription] what the answer phase is conditioned on, for ForkResult
        answer_requests = [list(r) for r in requests]
        thinking_records = None if outputs_thinking is None else [
            (list(o.outputs[0].token_ids), o.outputs[0].finish_reason) for o in outputs_thinking
        ]

        if self.lora_request is not None:
            raise NotImplementedError  # [transcription] L445-L451 (LoRA) left out
        else:
            outputs = self.model.generate(
                prompt_token_ids=requests,
                sampling_params=sampling_params,
                use_tqdm=True if self.batch_size == "auto" else False,
            )
            # [transcription] the answer phase's own text, before L461 prepends the thinking text
            answer_phase = [(o.outputs[0].text, o.outputs[0].finish_reason) for o in outputs]
            if outputs_thinking is not None:
                for i, o in enumerate(outputs):
                    assert len(o.outputs) == 1
                    outputs[i].outputs[0].text = outputs_thinking[i].outputs[0].text + outputs[i].outputs[0].text
        # [transcription] one ForkResult per request of this chunk, in chunk order
        self._records = [
            ForkResult(
                answer_context_ids=answer_requests[i],
                answer_ids=list(o.outputs[0].token_ids),
                answer_text=o.outputs[0].text,
                thinking_text="" if outputs_thinking is None else outputs_thinking[i].outputs[0].text,
                thinking_ids=[] if thinking_records is None else thinking_records[i][0],
                thinking_finish_reason=None if thinking_records is None else thinking_records[i][1],
                answer_phase_text=answer_phase[i][0],
                answer_finish_reason=answer_phase[i][1],
            )
            for i, o in enumerate(outputs)
        ]
        return outputs

    # vllm_causallms.py:L500-L609
    def generate_until(
        self, requests: List[Instance], disable_tqdm: bool = False
    ) -> List[str]:
        res = []
        records = []  # [transcription] ForkResult alongside `res`

        # batch tokenize contexts
        context, all_gen_kwargs = zip(*(req.args for req in requests))
        context_encoding: List[List[int]] = self.tok_encode(
            context, add_special_tokens=self.add_bos_token
        )
        requests = [
            ((a, b), c) for a, b, c in zip(context, context_encoding, all_gen_kwargs)
        ]

        def _collate_gen(_requests):
            # the negative sign on len(toks) sorts descending - this has a few advantages:
            # - time estimates will always be over not underestimates, which is more useful for planning
            # - to know the size of a batch when going through the list, you know the first one is always the batch
            #   padded context length. this is useful to simplify the batching logic and more importantly to make
            #   automatic adaptive batches much much easier to implement
            # - any OOMs will happen right away rather than near the end
            return -len(_requests[0][1]), _requests[0][0]

        # we group requests by their generation_kwargs,
        # so that we don't try to execute e.g. greedy sampling and temp=0.8 sampling
        # in the same batch.
        re_ords = Collator(requests, _collate_gen, group_by="gen_kwargs")
        chunks = re_ords.get_batched(
            n=int(self.batch_size) if self.batch_size != "auto" else 0, batch_fn=None
        )

        # [transcription] the tqdm progress bar (L531-L535) is left out
        # for each different set of kwargs, we execute all requests, by batch.
        for chunk in chunks:
            context_and_encoding, all_gen_kwargs = zip(*chunk)
            context, context_encoding = zip(*context_and_encoding)
            # we assume all gen kwargs in the batch are the same
            # this is safe to assume because the `grouper` object ensures it.
            gen_kwargs = all_gen_kwargs[0]
            # unpack our keyword arguments.
            until = None
            if isinstance(gen_kwargs, dict):
                kwargs = copy.deepcopy(gen_kwargs)  # edge case for repeats > 1
                if "until" in kwargs.keys():
                    until = kwargs.pop("until")
                    if isinstance(until, str):
                        until = [until]
                    elif not isinstance(until, list):
                        raise ValueError(
                            f"Expected `kwargs['until']` to be of type Union[str,list] but got {until}"
                        )
            else:
                raise ValueError(
                    f"Expected `kwargs` to be of type `dict` but got {gen_kwargs}"
                )
            # add EOS token to stop sequences
            eos = self.tokenizer.decode(self.eot_token_id)
            if not until:
                until = [eos]
            else:
                until.append(eos)
            if "max_gen_toks" in kwargs.keys():
                max_gen_toks = kwargs.pop("max_gen_toks")
            else:
                max_gen_toks = self.max_gen_toks

            # set the max length in tokens of inputs ("context_enc")
            # max len for inputs = max length, minus room to generate the max new tokens
            max_ctx_len = self.max_length - max_gen_toks
            context_encoding = [x[-max_ctx_len:] for x in context_encoding]

            # perform batched generation
            cont = self._model_generate(
                requests=context_encoding,
                generate=True,
                max_tokens=max_gen_toks,
                stop=until,
                **kwargs,
            )

            # cache generations
            for i, (output, context) in enumerate(zip(cont, context)):  # [transcription] no tqdm
                generated_text = output.outputs[0].text
                # swj hack
                # from ipdb import set_trace as bp
                # bp()
                # check if "Answer:" in generated_text, if not resample cont = self._model_generate(requests=context_encoding, generate=True, max_tokens=max_gen_toks, stop=until, **kwargs) until it reaches "Answer:"
                # max_attemp = 5
                # while "Answer:" not in generated_text:
                #     if max_attemp == 0:
                #         print(f"max_attemp reached, question: {i}")
                #         break
                #     max_attemp -= 1
                #     cont_new = self._model_generate(requests=[context_encoding[i]], generate=True, max_tokens=max_gen_toks, stop=until, **kwargs)
                #     generated_text = cont_new[0].outputs[0].text
                #     print(f"resample until 'Answer:', question: {i}")
                res.append(generated_text)
                records.append(self._records[i])  # [transcription]

                # [transcription] self.cache_hook.add_partial(...) and pbar.update(1) are left out

        # [transcription] pbar.close() left out
        # reorder all group of results back to original unsorted form
        self.last_results = re_ords.get_original(records)  # [transcription]
        return re_ords.get_original(res)

    # vllm_causallms.py:L730-L744
    @staticmethod
    def modify_gen_kwargs(kwargs: dict) -> dict:
        # sampling_params
        do_sample = kwargs.pop("do_sample", None)
        if do_sample is False and "temperature" not in kwargs:
            # [transcription] eval_logger.debug("Got `do_sample=False` and no temperature value, ...") left out
            kwargs["temperature"] = 0.0
        # hf defaults
        kwargs["skip_special_tokens"] = kwargs.get("skip_special_tokens", False)
        kwargs["spaces_between_special_tokens"] = kwargs.get(
            "spaces_between_special_tokens", False
        )
        return kwargs
    # fmt: on


def fork_generate_until(
    model: Any,
    tokenizer: Any,
    contexts: list[str],
    gen_kwargs: dict,
    *,
    max_length: int,
    max_gen_toks_default: int = 256,
    batch_size: str | int = "auto",
    add_bos_token: bool = False,
) -> list[ForkResult]:
    """Run the fork's ``generate_until`` on already chat-templated ``contexts`` with lm-eval's ``gen_kwargs``.

    ``max_length`` is lm-eval's max_length and vLLM's max_model_len; ``max_gen_toks_default`` the model arg
    ``max_gen_toks`` (used when gen_kwargs has none). Results are in the order of ``contexts``.
    """
    fork = ForkVLLM(
        model,
        tokenizer,
        max_length=max_length,
        max_gen_toks=max_gen_toks_default,
        batch_size=batch_size,
        add_bos_token=add_bos_token,
    )
    fork.generate_until([Instance(args=(c, gen_kwargs)) for c in contexts])
    return fork.last_results
