"""Turning a question into the prompt text that opens the thinking, detecting a model's format, preflight."""

from __future__ import annotations

import re
from typing import Any

from s1eval.errors import PreflightError, option
from s1eval.formats.base import FORMATS, R1, S1, ThinkingFormat, get_format

_CHATML_FALLBACK = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def detect_format(tokenizer: Any) -> ThinkingFormat:
    """Guess the thinking format from the tokenizer's chat template and vocabulary."""
    template = getattr(tokenizer, "chat_template", None) or ""
    if isinstance(template, dict):
        template = " ".join(str(v) for v in template.values())
    vocab = _special_vocab(tokenizer)
    if "<|im_start|>think" in template or "<|im_start|>answer" in template:
        return S1
    if "</think>" in template or "<think>" in template:
        return R1
    if "<|im_start|>" in vocab:
        return S1
    if "</think>" in vocab:
        return R1
    raise PreflightError(
        "cannot detect the thinking format from this tokenizer's chat template; pass format=s1 or format=r1"
    )


def resolve_format(name: str | ThinkingFormat | None, tokenizer: Any) -> ThinkingFormat:
    """`None` or 'auto' detects; anything else is looked up by name."""
    if name is None or (isinstance(name, str) and name.strip().lower() in ("", "auto")):
        return detect_format(tokenizer)
    return get_format(name)


def _special_vocab(tokenizer: Any) -> set[str]:
    tokens: set[str] = set()
    for attr in ("all_special_tokens", "additional_special_tokens"):
        tokens.update(getattr(tokenizer, attr, None) or [])
    added = getattr(tokenizer, "get_added_vocab", None)
    if callable(added):
        tokens.update(added().keys())
    return tokens


def single_token_id(tokenizer: Any, text: str) -> int | None:
    """The id of `text` if the tokenizer encodes it as exactly one token, else None."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def preflight(tokenizer: Any, fmt: ThinkingFormat, model_id: str = "the model") -> None:
    """Refuse a tokenizer that cannot carry the format's delimiters, with a one-line fix."""
    if single_token_id(tokenizer, fmt.end_marker) is None:
        n = len(tokenizer.encode(fmt.end_marker, add_special_tokens=False))
        others = ", ".join(f for f in FORMATS if f != fmt.name)
        raise PreflightError(
            f"the tokenizer of {model_id} encodes the end-of-thinking marker {fmt.end_marker!r} as {n} tokens, "
            f"not one special token; use a model trained with the {fmt.name!r} format or pass "
            f"{option('format', others)}"
        )
    for text in (fmt.think_start, fmt.think_end):
        round_trip = tokenizer.decode(
            tokenizer.encode(text, add_special_tokens=False), skip_special_tokens=False
        )
        if round_trip != text:
            raise PreflightError(
                f"the tokenizer of {model_id} does not round-trip the delimiter {text!r} (got {round_trip!r}); "
                f"pass the format that matches its chat template ({option('format', 's1')} or {option('format', 'r1')})"
            )


def build_prompt(
    tokenizer: Any,
    fmt: ThinkingFormat,
    question: str,
    system: str | None = None,
    *,
    use_default_system: bool = True,
) -> str:
    """The text the model continues: chat template with a generation prompt, then the opening of the thinking."""
    messages = []
    sys_text = system if system is not None else (fmt.default_system if use_default_system else None)
    if sys_text:
        messages.append({"role": "system", "content": sys_text})
    messages.append({"role": "user", "content": question})
    return render_messages(tokenizer, fmt, messages)


_SYSTEM_MARK, _QUESTION_MARK = "\ue000s1eval-system\ue000", "\ue000s1eval-question\ue000"


def read_back_prompt(tokenizer: Any, fmt: ThinkingFormat, prompt: str) -> tuple[str | None, str] | None:
    """A (system, question) that `build_prompt` renders to exactly `prompt`, found through the template with
    marker strings; None when there is none (another template, or a prompt that is not one of ours).

    Where several splits render the same text (a template that folds the system text into the user turn), the
    one returned renders identically, so a method prompted with it sees the same tokens.
    """
    for system in (_SYSTEM_MARK, None):
        try:
            template = build_prompt(tokenizer, fmt, _QUESTION_MARK, system)
        except Exception:  # noqa: BLE001 - a template may refuse a system message: try without one
            continue
        pattern = re.escape(template).replace(re.escape(_QUESTION_MARK), "(?P<question>.*)", 1)
        pattern = pattern.replace(re.escape(_SYSTEM_MARK), "(?P<system>.*)", 1)
        match = re.fullmatch(pattern, prompt, flags=re.DOTALL)
        if match is None:
            continue
        parts = (match.groupdict().get("system"), match.group("question"))
        try:
            if build_prompt(tokenizer, fmt, parts[1], parts[0]) == prompt:
                return parts
        except Exception:  # noqa: BLE001
            continue
    return None


def split_continuation(tokenizer: Any, text: str) -> tuple[list[dict], str] | None:
    """The chat a rendered context continues: (system and user messages, assistant text so far), or None.

    For providers that take messages, not tokens: `text` is a prompt from `build_prompt` plus what the model
    and the method have written since; the assistant text is everything after the template's generation
    prompt (the opening of the thinking included). The split is accepted only when the template renders
    the messages plus the assistant text, continued (`continue_final_message`), back to `text` exactly.
    """
    raw = _raw_template(tokenizer)
    for system in (_SYSTEM_MARK, None):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": _QUESTION_MARK}
        ]
        try:
            header = raw(messages, add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - a template may refuse a system message: try without one
            continue
        pattern = re.escape(header).replace(re.escape(_QUESTION_MARK), "(?P<question>.*?)", 1)
        pattern = pattern.replace(re.escape(_SYSTEM_MARK), "(?P<system>.*?)", 1)
        match = re.match(pattern + "(?P<rest>.*)", text, flags=re.DOTALL)
        if match is None:
            continue
        found = ([{"role": "system", "content": match.group("system")}] if system else []) + [
            {"role": "user", "content": match.group("question")}
        ]
        assistant = match.group("rest")
        try:
            if raw(found, add_generation_prompt=True) + assistant == text and (
                not assistant
                or raw([*found, {"role": "assistant", "content": assistant}], continue_final_message=True)
                == text
            ):
                return found, assistant
        except Exception:  # noqa: BLE001
            continue
    return None


def _raw_template(tokenizer: Any) -> Any:
    """apply_chat_template as text, with the ChatML fallback for tokenizers that have no template."""
    kwargs: dict[str, Any] = {"tokenize": False}
    if not getattr(tokenizer, "chat_template", None):
        kwargs["chat_template"] = _CHATML_FALLBACK

    def render(messages: list[dict], **flags: Any) -> str:
        return str(tokenizer.apply_chat_template(messages, **kwargs, **flags))

    return render


def render_messages(tokenizer: Any, fmt: ThinkingFormat, messages: list[dict]) -> str:
    """Render chat messages with the tokenizer's template and open the thinking (once)."""
    template = getattr(tokenizer, "chat_template", None)
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": True}
    if not template:
        kwargs["chat_template"] = _CHATML_FALLBACK
    text = tokenizer.apply_chat_template(messages, **kwargs)
    if not isinstance(text, str):  # some tokenizers return a BatchEncoding-like object
        text = str(text)
    return open_thinking(text, fmt)


def open_thinking(prompt: str, fmt: ThinkingFormat) -> str:
    """Append the think-start delimiter unless the template already did (R1 distills do)."""
    stripped = fmt.think_start.rstrip("\n")
    if prompt.rstrip("\n").endswith(stripped):
        return (
            prompt
            if prompt.endswith(fmt.think_start)
            else prompt.rstrip("\n") + fmt.think_start[len(stripped) :]
        )
    return prompt + fmt.think_start
