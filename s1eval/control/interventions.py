"""Thinking interventions on the budget-forcing core: small policies that decide what to force and when.

Each published intervention lives in a different engine or paper; here each is a policy object that the
`ThinkingController` consults at its decision points, so every one is measured by the same ledger, metrics
and reports as plain budget forcing (`bf` with `intervention=NAME`):

- `early_stop` (Qwen3's thinking budget): at the cap, the sentence "Considering the limited time by the user, I
  have to give the solution based on the thinking directly now." goes before the end-of-thinking delimiter.
- `wrap_up` (s1eval's soft budget): `grace` tokens before the budget a hint is forced; the model may end its
  thinking within the grace tokens, else the cap comes as in BF.
- `alphaone` (AlphaOne, Zhang et al. 2025): until the alpha moment (a fraction of the budget) an end of thinking
  is replaced by "Wait", and "Wait" is inserted after the insertion token with a probability that falls
  linearly to 0 at the alpha moment; after it, a "Wait" the model writes ends the thinking.
- `dynasor` (Dynasor-CoT, Fu et al. 2025): every `interval` thinking tokens an answer is probed (Dynasor's
  suffix "... **Final Answer**" + a \\boxed{ forked from the thinking); once `agree` certain probes in a row
  give the same answer, the thinking ends.

docs/interventions.md lists where each differs from its paper or code.

Everything an intervention forces is counted as forced tokens in the ledger; a probe's tokens are their own
rounds (phase "probe"), counted in `probe_tokens`, never hidden. The budget invariant holds for every one:
thinking_tokens <= budget. Settings come as `name` or `name:key=value:key=value` (lm-eval's --model_args and
the CLI take that string), or a mapping {"name": ..., key: value} from Python or YAML.
"""

from __future__ import annotations

import dataclasses
import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from s1eval.errors import ConfigError

# --------------------------------------------------------------------------- what an intervention decides


@dataclass(frozen=True)
class Force:
    """Append `text` (forced tokens) and think on; "" only marks the point."""

    text: str
    label: str = "point"
    """The round's stop in the ledger (hint, insert, probe, ...): why the controller took over there."""


@dataclass(frozen=True)
class Probe:
    """Fork an answer from the thinking with `text` forced, then ask the intervention again (`after_probe`)."""

    text: str


@dataclass(frozen=True)
class End:
    """End the thinking here, as if the model had: the delimiter follows and no extension is forced."""

    label: str = "exit"


Action = Force | Probe | End | None
"""None: what plain budget forcing does at that event."""


# --------------------------------------------------------------------------- the policy protocol
class Intervention:
    """A policy the controller consults. Events: "point" (the thinking reached `next_point`), "stop" (the model
    wrote one of `stop_ids`, kept in the thinking) and "end" (the model ended its thinking).

    `sweepable` says whether one trajectory serves every budget (decisions that do not depend on the budget);
    a policy that places its decisions relative to the budget runs each budget as its own trajectory."""

    name: ClassVar[str]
    sweepable: ClassVar[bool] = True

    def check(self, ctl: Any) -> None:
        """Refuse settings this engine's tokenizer cannot carry out (one line naming the fix)."""

    def next_point(self, t: Any, budget: int) -> int | None:
        """The thinking length (generated tokens) at which the controller must stop and call `decide`."""
        return None

    def stop_ids(self, ctl: Any, t: Any, budget: int) -> tuple[int, ...]:
        """Extra stop tokens for the next thinking round (they stay in the thinking when they stop it)."""
        return ()

    def decide(self, ctl: Any, t: Any, event: str, budget: int) -> Action:
        return None

    def after_probe(self, ctl: Any, t: Any, answer: str) -> Action:
        return None

    def cap_delimiter(self, ctl: Any, ctx: list[int]) -> str | None:
        """The text forced at the cap before the answer prefix (None: budget forcing's delimiter)."""
        return None

    def ledger_extra(self, t: Any) -> dict[str, Any]:
        return {}

    def extra_positions(self, encode: Any) -> int:
        """Context positions it may add beyond BF's (checked against the model's context before a run);
        `encode` turns a text into the engine's ids."""
        return 0

    @property
    def spec(self) -> str:
        """The canonical settings string (recorded in every ledger of the run)."""
        parts = [self.name]
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value != f.default:
                text = format(value, "g") if isinstance(value, float) else str(value)
                # one line that parses back: newlines and tabs as \n \t, a colon (the separator) as \:
                text = text.replace("\n", "\\n").replace("\t", "\\t").replace(":", "\\:")
                parts.append(f"{f.name}={text}")
        return ":".join(parts)


# --------------------------------------------------------------------------- the interventions
QWEN3_EARLY_STOP = "Considering the limited time by the user, I have to give the solution based on the thinking directly now."


@dataclass(frozen=True)
class EarlyStop(Intervention):
    """Qwen3's early-stopping sentence before the delimiter at the cap (Qwen3 model card, thinking budget)."""

    name: ClassVar[str] = "early_stop"
    text: str = QWEN3_EARLY_STOP

    def cap_delimiter(self, ctl: Any, ctx: list[int]) -> str | None:
        ends_nl = ctl.decode_tail(ctx).endswith("\n")
        # Qwen3: "\n\n" + sentence + "\n</think>"; the format's delimiter after it, on its own line
        return ("\n" if ends_nl else "\n\n") + self.text + "\n" + ctl.fmt.think_end.lstrip("\n")

    def extra_positions(self, encode: Any) -> int:
        return len(encode("\n" + self.text + "\n"))


WRAP_UP_HINT = "I am running out of thinking budget, so I will wrap up now."


@dataclass(frozen=True)
class WrapUp(Intervention):
    """A soft budget: at `budget - grace` a hint is forced, then the model has `grace` tokens to end on its own.

    No extension is forced after the hint (the hint asked it to stop); a model that keeps thinking is capped at
    the budget as in BF. The hint comes only once, and not at all when grace >= budget."""

    name: ClassVar[str] = "wrap_up"
    sweepable: ClassVar[bool] = False
    grace: int = 32
    text: str = WRAP_UP_HINT

    def __post_init__(self) -> None:
        _positive("wrap_up", "grace", self.grace)

    def _at(self, budget: int) -> int:
        return budget - self.grace

    def next_point(self, t: Any, budget: int) -> int | None:
        at = self._at(budget)
        return at if at > 0 and not t.notes.get("hinted") and t.generated < at else None

    def decide(self, ctl: Any, t: Any, event: str, budget: int) -> Action:
        if event == "point":
            t.notes["hinted"] = t.generated
            ends_nl = ctl.decode_tail(t.context()).endswith("\n")
            return Force(("" if ends_nl else "\n") + self.text + "\n", "hint")
        if event == "end" and t.notes.get("hinted") is not None:
            return End("delimiter")
        return None

    def extra_positions(self, encode: Any) -> int:
        return len(encode("\n" + self.text + "\n"))

    def ledger_extra(self, t: Any) -> dict[str, Any]:
        hinted = t.notes.get("hinted")
        return {} if hinted is None else {"hint_at": hinted}


@dataclass(frozen=True)
class AlphaOne(Intervention):
    """AlphaOne's schedule, on the BF core: slow thinking until the alpha moment, fast after it.

    The alpha moment is `alpha` x the budget, alpha in (0, 1] (AlphaOne's alpha, e.g. 1.4, scales the model's
    average thinking length instead; the values are not comparable). Before it, an end of thinking becomes "Wait"
    (an extension in the ledger), and after each token that ends in `after` "Wait" is inserted with probability
    p_wait x (1 - t / alpha moment), AlphaOne's linear annealing, drawn from a generator seeded by the sample's
    seed (the same draws in every front end, other draws for every repeat). After it, a "Wait" the model writes
    ends the thinking (AlphaOne replaces it with the end of thinking).
    """

    name: ClassVar[str] = "alphaone"
    sweepable: ClassVar[bool] = False
    alpha: float = 0.6
    p_wait: float = 0.3
    after: str = "\n\n"
    word: str = "Wait"

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ConfigError(f"alphaone: alpha is a fraction of the budget in (0, 1], got {self.alpha}")
        if not 0 <= self.p_wait <= 1:
            raise ConfigError(f"alphaone: p_wait is a probability in [0, 1], got {self.p_wait}")

    def check(self, ctl: Any) -> None:
        if self.p_wait > 0 and not ctl.tokens_ending_with(self.after):
            raise ConfigError(
                f"alphaone: no token of this tokenizer ends with after={self.after!r}, so the model's writing it "
                "cannot be caught; give another after (e.g. after=\\n) or p_wait=0"
            )
        if not self._word_ids(ctl):
            raise ConfigError(
                f"alphaone: neither {self.word!r} nor {' ' + self.word!r} is one token of this tokenizer; give "
                "a single-token word"
            )

    def _word_ids(self, ctl: Any) -> tuple[int, ...]:
        """The word as the model writes it after a space or a line start (either may be one token)."""
        ids = (ctl.single_token(self.word), ctl.single_token(" " + self.word))
        return tuple(i for i in ids if i is not None)

    def _moment(self, budget: int) -> int:
        return max(1, int(self.alpha * budget))

    def next_point(self, t: Any, budget: int) -> int | None:
        moment = self._moment(budget)
        return moment if t.generated < moment else None

    def stop_ids(self, ctl: Any, t: Any, budget: int) -> tuple[int, ...]:
        if t.generated < self._moment(budget):
            return ctl.tokens_ending_with(self.after) if self.p_wait > 0 else ()
        return self._word_ids(ctl)

    def decide(self, ctl: Any, t: Any, event: str, budget: int) -> Action:
        moment = self._moment(budget)
        before = t.generated < moment
        if event == "end" and before:
            return Force(self.word)  # as a BF extension: the word right after the thinking
        if event == "stop" and not before and t.generated >= moment:
            return End("alpha")
        if event == "stop":  # a token ending in `after`, before the alpha moment
            # the sample's own seed (sample_seed: run seed, question, repeat); the prompt only for seedless runs
            seed = t.seed if t.seed is not None else zlib.crc32(t.prompt.encode("utf-8"))
            rng = t.notes.setdefault("rng", random.Random(seed))
            p = self.p_wait * max(0.0, 1.0 - t.generated / moment)
            return Force(self.word, "insert") if rng.random() < p else Force("", "insert_point")
        if event == "point":
            return Force("", "alpha_moment")
        return None

    def ledger_extra(self, t: Any) -> dict[str, Any]:
        return {"inserted": sum(1 for r in t.rounds if r.stop == "insert")}  # those that made it in


DYNASOR_PROBE = "... Oh, I suddenly got the answer to the whole problem, **Final Answer**\n\n\\[ \\boxed{"
"""Dynasor-CoT's probing suffix (hao-ai-lab/Dynasor `dynasor/core/cot.py`): the answer is read up to the first
unmatched closing brace."""
UNCERTAIN_WORDS = ("wait", "hold", "but", "okay", "no", "hmm")
"""Dynasor's: a probe whose response contains any of them (as a substring, as upstream) is not certain."""


@dataclass(frozen=True)
class Dynasor(Intervention):
    """Dynasor-CoT's certainty probes: end the thinking once `agree` probes in a row give one answer.

    Every `interval` thinking tokens Dynasor's suffix is forked from the thinking and the answer read; when the
    last `agree` probes gave the same confident answer (no hesitation words), the thinking ends.

    Probes are forks, never part of the thinking: their forced text and generated tokens are rounds of their
    own in the ledger (phase "probe"), so tokens per correct answer counts them."""

    name: ClassVar[str] = "dynasor"
    interval: int = 64
    agree: int = 3
    probe_tokens: int = 20
    text: str = DYNASOR_PROBE

    def __post_init__(self) -> None:
        for key in ("interval", "agree", "probe_tokens"):
            _positive("dynasor", key, getattr(self, key))

    def next_point(self, t: Any, budget: int) -> int | None:
        return (t.generated // self.interval + 1) * self.interval

    def decide(self, ctl: Any, t: Any, event: str, budget: int) -> Action:
        return Probe(self.text) if event == "point" else None

    def after_probe(self, ctl: Any, t: Any, answer: str) -> Action:
        answers = t.notes.setdefault("answers", [])
        answers.append(normalise_probe(answer, self.text))
        last = answers[-self.agree :]
        if len(last) == self.agree and last[0] is not None and len(set(last)) == 1:
            t.notes["exit_answer"] = last[0]
            return End("probes_agree")
        return Force("", "probe")

    def extra_positions(self, encode: Any) -> int:
        return len(encode(self.text)) + self.probe_tokens  # a probe's fork, beyond the thinking so far

    def ledger_extra(self, t: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"probes": len(t.notes.get("answers", []))}
        if "exit_answer" in t.notes:
            out["probe_exit"] = t.notes["exit_answer"]
        return out


def normalise_probe(response: str, probe: str = DYNASOR_PROBE) -> str | None:
    """A probe's answer, comparable across probes (s1eval's `normalize_math` spelling), or None when there is
    none or the response is uncertain (contains one of Dynasor's uncertain words).

    After a probe that opens `\\boxed{` (Dynasor's) the answer runs to the first unmatched `}`, as upstream;
    after any other probe text it is the last \\boxed{} or the first line."""
    from s1eval.scoring import last_boxed, normalize_math

    if any(word in response.lower() for word in UNCERTAIN_WORDS):
        return None
    if probe.rstrip().endswith("\\boxed{"):
        depth, value = 0, None
        for i, ch in enumerate(response):
            depth += (ch == "{") - (ch == "}")
            if depth < 0:
                value = response[:i]
                break
    else:
        boxed = last_boxed(response)
        value = boxed if boxed is not None else (response.strip().splitlines() or [""])[0]
    value = normalize_math(value) if value is not None else ""
    return value or None


# --------------------------------------------------------------------------- the registry
INTERVENTIONS: dict[str, type[Intervention]] = {}


def register_intervention(cls: type[Intervention]) -> type[Intervention]:
    """Add an intervention class under its `name` (a plugin may add its own)."""
    INTERVENTIONS[cls.name] = cls
    return cls


for _cls in (EarlyStop, WrapUp, AlphaOne, Dynasor):
    register_intervention(_cls)


def intervention_names() -> list[str]:
    return list(INTERVENTIONS)


def parse_intervention(value: str | Mapping[str, Any] | Intervention | None) -> Intervention | None:
    """`name`, `name:key=value:...`, a mapping with a "name" key, or an instance -> the intervention."""
    if value is None or isinstance(value, Intervention):
        return value
    if isinstance(value, Mapping):
        options = dict(value)
        name = str(options.pop("name", ""))
    else:
        text = str(value)  # not stripped: a text option may end in a newline
        if text.strip().lower() in ("", "none", "null"):
            return None
        name, *pairs = re.split(r"(?<!\\):", text)  # options are separated by colons; a value's own is \:
        options = {}
        for pair in pairs:
            key, eq, raw = pair.partition("=")
            if not eq:
                raise ConfigError(
                    f"intervention option {pair!r} has no value; write {name}:{pair}=VALUE (a colon inside a "
                    "value is written \\:)"
                )
            options[key.strip()] = raw.replace("\\n", "\n").replace("\\t", "\t").replace("\\:", ":")
    key = name.strip().lower()
    if key not in INTERVENTIONS:
        raise ConfigError(f"unknown intervention {name!r}; use one of: {', '.join(INTERVENTIONS)}")
    cls = INTERVENTIONS[key]
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for intervention {key!r}; valid: {', '.join(fields)}"
        )
    values = {k: _typed(key, k, v, fields[k].default) for k, v in options.items()}
    return cls(**values)


def _typed(name: str, key: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, str) or isinstance(default, str):
        return raw
    try:
        return type(default)(raw)
    except ValueError:
        raise ConfigError(f"intervention {name}: {key}={raw!r} is not a {type(default).__name__}") from None


def _positive(name: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"intervention {name}: {key} must be a positive integer, got {value!r}")


__all__ = [
    "INTERVENTIONS",
    "AlphaOne",
    "Dynasor",
    "EarlyStop",
    "End",
    "Force",
    "Intervention",
    "Probe",
    "WrapUp",
    "intervention_names",
    "normalise_probe",
    "parse_intervention",
    "register_intervention",
]
