"""What a dialogue knows about its call, and what actions use to speak, remember and write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from voicebot.dialogue.templates import render

if TYPE_CHECKING:
    from voicebot.dialogue.flow import Flow, Prompt
    from voicebot.dialogue.store import DialogueStore
    from voicebot.nlu import NLU, ParseResult
    from voicebot.settings import Settings

RECORD_KINDS = (
    "readings", "promises", "tickets", "nps", "visits", "callbacks", "tasks", "voice_messages", "appointments",
)  # fmt: skip


@dataclass(frozen=True)
class CallerInput:
    """One turn of the caller: words, silence, keypad digits or the end of the call."""

    kind: Literal["text", "silence", "dtmf", "hangup"]
    text: str = ""
    start_ms: int | None = None
    end_ms: int | None = None

    @classmethod
    def parse_line(cls, line: str) -> CallerInput:
        """The text channel's line syntax: `<silence>`, `<dtmf:123>`, `<hangup>` or words."""
        stripped = line.strip()
        lowered = stripped.lower()
        if lowered in ("<silence>", ""):
            return cls("silence")
        if lowered == "<hangup>":
            return cls("hangup")
        if lowered.startswith("<dtmf:") and lowered.endswith(">"):
            return cls("dtmf", stripped[6:-1].strip())
        return cls("text", stripped)


@dataclass
class Utterance:
    text: str
    display: str
    key: str | None = None
    barge_in: bool = True
    asr_hints: tuple[str, ...] = ()


@dataclass
class CallInfo:
    call_id: uuid.UUID
    direction: Literal["inbound", "outbound"]
    channel: str
    phone: str | None
    started_at: datetime
    variables: dict[str, Any]
    campaign_id: int | None = None
    contact_id: int | None = None
    callback: bool = False  # the bot calls back (an outbound call) a resident who called or left a message
    start_as: str | None = None  # a callback running an inbound-only flow starts at its inbound step

    @property
    def start_direction(self) -> str:
        return self.start_as or self.direction


@dataclass
class DialogueContext:
    call: CallInfo
    flow: Flow
    store: DialogueStore
    nlu: NLU
    settings: Settings
    timezone: str
    slots: dict[str, Any] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in RECORD_KINDS})
    output: list[Utterance] = field(default_factory=list)
    parse: ParseResult | None = None
    input: CallerInput | None = None
    outcome: str | None = None
    finished: bool = False
    transfer_to: str | None = None
    switch_to: tuple[str, str, bool] | None = None
    clock_offset: Any = None

    # --- time ---------------------------------------------------------------------------------------

    @property
    def instant(self) -> datetime:
        """The call's current time, UTC, to the microsecond (stored times: ended_at after answered_at)."""
        from datetime import UTC

        current = datetime.now(UTC)
        return current if self.clock_offset is None else current + self.clock_offset

    @property
    def now(self) -> datetime:
        """The call's current time in the resident's zone (simulations may fix the start time)."""
        from datetime import UTC

        current = datetime.now(UTC) if self.clock_offset is None else datetime.now(UTC) + self.clock_offset
        return current.replace(microsecond=0).astimezone(ZoneInfo(self.timezone))

    # --- speaking ---------------------------------------------------------------------------------------

    def variables(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "company": self.settings.company_name,
            "readings_end_day": self.settings.readings_window_end_day,
            "phone": self.call.phone,
            **self.call.variables,
            **self.slots,
            **(extra or {}),
        }

    def say_prompt(self, prompt: Prompt, **extra: Any) -> None:
        speech, display = render(prompt.text, self.variables(extra), today=self.now.date())
        if speech:
            self.output.append(Utterance(speech, display, prompt.key, prompt.barge_in, prompt.asr_hints))

    def say(self, key: str, **extra: Any) -> None:
        """Say one of the flow's `texts`."""
        self.say_prompt(self.flow.text(key), **extra)

    # --- remembering and ending -------------------------------------------------------------------------

    def record(self, kind: str, data: dict[str, Any]) -> None:
        self.records[kind].append(data)

    def end(self, outcome: str | None = None) -> None:
        if outcome is not None:
            self.outcome = outcome
        self.finished = True

    def transfer(self, target: str) -> None:
        self.transfer_to = target
        self.end("transferred")

    def switch(self, scenario: str, step: str | None = None, *, replay: bool = False) -> None:
        """Hand the call to another scenario (the router does this); `replay` re-reads the last answer."""
        self.switch_to = (scenario, step or "", replay)

    # --- the caller's last answer -----------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.parse.text if self.parse else ""

    @property
    def intent(self) -> str | None:
        return self.parse.intent if self.parse else None

    def entity(self, name: str, *, skip_roles: tuple[str, ...] = ()) -> Any:
        """The value the bot uses for an entity type: the last one said (a correction comes last)."""
        if not self.parse:
            return None
        found = [e for e in self.parse.entities if e.entity == name and e.role not in skip_roles]
        return found[-1].value if found else None

    def entities(self, name: str) -> list[Any]:
        if not self.parse:
            return []
        return [e for e in self.parse.entities if e.entity == name]

    def said(self, *stems: str) -> bool:
        """Whether the caller's words contain any of these stems (for cues the classifier has no intent for)."""
        lowered = self.text.lower().replace("ё", "е")
        return any(stem in lowered for stem in stems)
