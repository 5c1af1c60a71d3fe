"""Scenario flows: `scenarios/<name>/flow.yml` loaded into typed steps and checked before use.

A flow is a graph of steps. A step either speaks (`say`), asks and listens (`prompt`), runs a named
Python action (`action`), or ends the call (`end`). Actions return a result name that the step maps to the
next step (`results`); prompts hand the caller's parsed answer to a handler action the same way. All the
bot's words live in the flow (prompts and `texts`), so they can be checked, pre-synthesised and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GLOBAL_INTENTS = (
    "operator", "repeat", "are_you_robot", "goodbye", "wait", "wrong_number", "callback_later", "owner_changed",
)  # fmt: skip
# Steps every flow gets unless it defines its own (scenarios/common/steps.yml): the global turns' branches.
COMMON_FLOW = "common"


class FlowError(ValueError):
    """A flow file is not valid; the message names the file, the step and the problem."""


@dataclass(frozen=True)
class Prompt:
    text: str
    key: str
    barge_in: bool = True
    asr_hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    name: str
    say: tuple[Prompt, ...] = ()
    prompt: Prompt | None = None
    action: str | None = None
    handler: str | None = None
    results: dict[str, str] = field(default_factory=dict)
    next: str | None = None
    end: str | None = None  # outcome code; "auto" lets the scenario's outcome action decide
    expect_intents: tuple[str, ...] = ()
    expect_entities: tuple[str, ...] = ()
    dtmf: bool = False
    date_preference: str = "future"
    reprompt: Prompt | None = None
    no_match: Prompt | None = None
    retries: int = 2
    on_fail: str | None = None
    on_silence: str | None = None
    replay: bool = False  # on entry, first try the answer that led here before asking

    @property
    def listens(self) -> bool:
        return self.prompt is not None


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    directions: tuple[str, ...]
    outcomes: tuple[str, ...]
    variables: tuple[str, ...]
    required: tuple[str, ...]  # variables a campaign contact must bring (checked on upload)
    start: dict[str, str]
    steps: dict[str, Step]
    texts: dict[str, Prompt]
    outcome_action: str | None
    path: Path
    data: dict[str, Any]
    global_turns: dict[str, str] = field(default_factory=dict)  # intent → step, at every step

    @property
    def takes_campaigns(self) -> bool:
        """Whether a campaign may run it: outbound, and not only the callbacks callers asked for."""
        return "outbound" in self.directions and bool(self.data.get("campaigns", True))

    def step(self, name: str) -> Step:
        try:
            return self.steps[name]
        except KeyError:
            raise FlowError(f"{self.name}: no step {name!r}") from None

    def text(self, key: str) -> Prompt:
        try:
            return self.texts[key]
        except KeyError:
            raise FlowError(f"{self.name}: no text {key!r}") from None

    def prompts(self) -> list[Prompt]:
        """Every fixed utterance of the flow (for checks and pre-synthesis)."""
        found = list(self.texts.values())
        for step in self.steps.values():
            found.extend(step.say)
            found.extend(p for p in (step.prompt, step.reprompt, step.no_match) if p is not None)
        return found


def _required(raw: dict[str, Any], path: Path) -> tuple[str, ...]:
    required = _tuple(raw.get("required"))
    unknown = set(required) - set(_tuple(raw.get("variables")))
    if unknown:
        raise FlowError(f"{path}: 'required' lists {', '.join(sorted(unknown))}, which 'variables' does not")
    return required


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _prompt(raw: Any, key: str, where: str) -> Prompt:
    if isinstance(raw, str):
        return Prompt(text=raw.strip(), key=key)
    if isinstance(raw, dict) and isinstance(raw.get("text"), str):
        return Prompt(
            text=raw["text"].strip(),
            key=key,
            barge_in=bool(raw.get("barge_in", True)),
            asr_hints=_tuple(raw.get("asr_hints")),
        )
    raise FlowError(f"{where}: a prompt is a string or a mapping with 'text'")


STEP_KEYS = {
    "say", "prompt", "action", "handler", "results", "next", "end", "expect", "dtmf", "date_preference",
    "reprompt", "no_match", "retries", "on_fail", "on_silence", "barge_in", "asr_hints", "replay",
}  # fmt: skip


def _key(value: Any) -> str:
    # YAML 1.1 reads bare yes/no as booleans; in `results` they are the names of answers.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _step(flow_name: str, name: str, raw: Any) -> Step:
    where = f"{flow_name}: step {name!r}"
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: must be a mapping")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise FlowError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    key = f"{flow_name}.{name}"
    says = raw.get("say")
    say_list = says if isinstance(says, list) else ([says] if says is not None else [])
    prompt = _prompt(raw["prompt"], f"{key}.prompt", where) if "prompt" in raw else None
    if prompt is not None and ("barge_in" in raw or "asr_hints" in raw):
        prompt = Prompt(
            prompt.text,
            prompt.key,
            bool(raw.get("barge_in", prompt.barge_in)),
            _tuple(raw.get("asr_hints")) or prompt.asr_hints,
        )
    expect = raw.get("expect") or {}
    step = Step(
        name=name,
        say=tuple(
            _prompt(s, f"{key}.say{i}", where)
            if not isinstance(s, str) or "barge_in" not in raw
            else Prompt(s.strip(), f"{key}.say{i}", bool(raw["barge_in"]))
            for i, s in enumerate(say_list)
        ),
        prompt=prompt,
        action=raw.get("action"),
        handler=raw.get("handler"),
        results={_key(k): str(v) for k, v in (raw.get("results") or {}).items()},
        next=raw.get("next"),
        end=raw.get("end"),
        expect_intents=_tuple(expect.get("intents")),
        expect_entities=_tuple(expect.get("entities")),
        dtmf=bool(raw.get("dtmf", False)),
        date_preference=str(raw.get("date_preference", "future")),
        reprompt=_prompt(raw["reprompt"], f"{key}.reprompt", where) if "reprompt" in raw else None,
        no_match=_prompt(raw["no_match"], f"{key}.no_match", where) if "no_match" in raw else None,
        retries=int(raw.get("retries", 2)),
        on_fail=raw.get("on_fail"),
        on_silence=raw.get("on_silence"),
        replay=bool(raw.get("replay", False)),
    )
    kinds = [bool(step.prompt), bool(step.action), step.end is not None]
    if sum(kinds) > 1:
        raise FlowError(f"{where}: a step has one of prompt, action or end")
    if not any(kinds) and not step.say:
        raise FlowError(f"{where}: a step needs say, prompt, action or end")
    if step.prompt and not step.handler and not step.results:
        raise FlowError(f"{where}: a prompt needs a handler (or results keyed by intent)")
    if step.date_preference not in ("future", "past"):
        raise FlowError(f"{where}: date_preference is 'future' or 'past'")
    return step


def load_flow(folder: Path) -> Flow:
    path = folder / "flow.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise FlowError(f"{path}: must be a mapping")
    name = raw.get("name") or folder.name
    if name != folder.name:
        raise FlowError(f"{path}: name {name!r} differs from its folder {folder.name!r}")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, dict) or not steps_raw:
        raise FlowError(f"{path}: 'steps' must be a non-empty mapping")
    start = raw.get("start")
    start_map = {"inbound": start, "outbound": start} if isinstance(start, str) else dict(start or {})
    texts = {
        str(k): _prompt(v, f"{name}.text.{k}", f"{name}: text {k!r}")
        for k, v in (raw.get("texts") or {}).items()
    }
    steps = {str(k): _step(name, str(k), v) for k, v in steps_raw.items()}
    common = folder.parent / COMMON_FLOW / "steps.yml"
    if name != COMMON_FLOW and common.exists():
        for key, step in _common_steps(common).items():
            steps.setdefault(key, step)
    global_turns = {str(k): str(v) for k, v in (raw.get("global") or {}).items()}
    for intent, target in global_turns.items():
        if target not in steps:
            raise FlowError(f"{path}: global turn {intent!r} goes to unknown step {target!r}")
    return Flow(
        name=name,
        title=str(raw.get("title", name)),
        directions=_tuple(raw.get("direction")) or ("inbound", "outbound"),
        outcomes=_tuple(raw.get("outcomes")),
        variables=_tuple(raw.get("variables")),
        required=_required(raw, path),
        start=start_map,
        steps=steps,
        texts=texts,
        outcome_action=raw.get("outcome_action"),
        path=path,
        data={k: v for k, v in raw.items() if k not in {"steps", "texts"}},
        global_turns=global_turns,
    )


def _common_steps(path: Path) -> dict[str, Step]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): _step(COMMON_FLOW, str(k), v) for k, v in (raw.get("steps") or {}).items()}
