"""Originate: building the action and reading its outcome.

``Reason`` in ``OriginateResponse`` is the last control frame Asterisk saw on the dialled channel
(``enum ast_control_frame_type`` in ``include/asterisk/frame.h``): 1 hangup, 2 local ring, 3 remote
ringing, 4 answer, 5 busy, 8 congestion; 0 means no control frame at all (the channel could not be
created, no such extension or number). Only Reason 4 was observed on a real Asterisk; the rest follow the
enum. A call that rang until the Originate timeout ends with 3, one the far end dropped before answering
with 1: both are "nobody answered" for a dialer.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from voicebot.asterisk.ami_protocol import AMIMessage

CALL_ID_VARIABLE = "VOICEBOT_UUID"
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_()]*$")
MAX_CHANNEL_ID = 150  # AST_MAX_PUBLIC_UNIQUEID


class OriginateResult(enum.StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    # The OriginateResponse never arrived (connection lost, or nothing within the deadline).
    UNKNOWN = "unknown"
    # Answered by an answering machine (the dialplan's AMD() said MACHINE): no dialogue took place.
    MACHINE = "machine"


_REASONS: dict[int, OriginateResult] = {
    0: OriginateResult.FAILED,
    1: OriginateResult.NO_ANSWER,
    2: OriginateResult.NO_ANSWER,
    3: OriginateResult.NO_ANSWER,
    4: OriginateResult.ANSWERED,
    5: OriginateResult.BUSY,
    8: OriginateResult.CONGESTION,
}


# Q.850 hang-up cause of the dialled channel -> what it means for the attempt. A SIP trunk's "486 Busy
# Here" comes back as OriginateResponse Reason 0 (failure) with the channel's Hangup Cause 17, so the
# Reason alone cannot tell busy from failure (PROTOCOLS.md §9).
_CAUSES: dict[int, OriginateResult] = {
    17: OriginateResult.BUSY,  # user busy
    18: OriginateResult.NO_ANSWER,  # no user responding
    19: OriginateResult.NO_ANSWER,  # no answer (user alerted)
    20: OriginateResult.NO_ANSWER,  # subscriber absent
    34: OriginateResult.CONGESTION,  # no circuit available
    38: OriginateResult.CONGESTION,  # network out of order
    41: OriginateResult.CONGESTION,  # temporary failure
    42: OriginateResult.CONGESTION,  # switching equipment congestion
}


def result_from_cause(cause: int | None) -> OriginateResult | None:
    """What a dialled channel's hang-up cause says about an unanswered attempt; None: nothing specific."""
    return _CAUSES.get(cause) if cause is not None else None


def result_from_reason(reason: str | int | None) -> OriginateResult:
    try:
        code = int(reason) if reason is not None else 0
    except ValueError:
        return OriginateResult.FAILED
    return _REASONS.get(code, OriginateResult.FAILED)


@dataclass(frozen=True)
class OriginateOutcome:
    """What became of one Originate."""

    result: OriginateResult
    call_id: str
    action_id: str
    reason: int | None = None
    channel: str | None = None
    uniqueid: str | None = None
    event: AMIMessage | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_event(cls, event: AMIMessage, call_id: str) -> OriginateOutcome:
        reason_text = event.get("Reason")
        reason = int(reason_text) if reason_text and reason_text.lstrip("-").isdigit() else None
        result = result_from_reason(reason)
        if event.get("Response", "").lower() == "success" and result is OriginateResult.FAILED:
            result = OriginateResult.ANSWERED  # success with an odd reason still means the leg is up
        return cls(
            result=result,
            call_id=call_id,
            action_id=event.get("ActionID") or "",
            reason=reason,
            channel=event.get("Channel"),
            uniqueid=event.get("Uniqueid"),
            event=event,
        )


@dataclass(frozen=True)
class OriginateRequest:
    """Everything one Originate needs. Either ``context``+``exten`` or ``application`` must be given."""

    channel: str
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    context: str | None = None
    exten: str | None = None
    priority: int | str = 1
    application: str | None = None
    data: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    caller_id: str | None = None
    timeout: float = 30.0
    channel_id: str | None = None
    other_channel_id: str | None = None
    codecs: str | None = None
    account: str | None = None

    def __post_init__(self) -> None:
        if not self.channel.strip():
            raise ValueError("originate: channel is empty")
        if self.application and (self.context or self.exten):
            raise ValueError("originate: give either application or context/exten, not both")
        if not self.application and not (self.context and self.exten):
            raise ValueError("originate: context and exten (or application) are required")
        if self.timeout <= 0:
            raise ValueError("originate: timeout must be positive")
        if self.other_channel_id and not self.channel_id:
            raise ValueError("originate: other_channel_id is only honoured together with channel_id")
        for value in (self.channel_id, self.other_channel_id):
            if value and len(value) > MAX_CHANNEL_ID:
                raise ValueError(f"originate: channel id longer than {MAX_CHANNEL_ID} characters")
        for name in self.variables:
            if not _VARIABLE_NAME.match(name):
                raise ValueError(f"originate: invalid variable name {name!r}")
        given = self.variables.get(CALL_ID_VARIABLE)
        if given is not None and given != self.call_id:
            raise ValueError(f"originate: {CALL_ID_VARIABLE} is set from call_id; do not pass both")

    def fields(self, action_id: str) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = [("Action", "Originate"), ("ActionID", action_id)]
        pairs.append(("Channel", self.channel))
        if self.application:
            pairs.append(("Application", self.application))
            if self.data is not None:
                pairs.append(("Data", self.data))
        else:
            pairs += [("Context", self.context or ""), ("Exten", self.exten or "")]
            pairs.append(("Priority", str(self.priority)))
        pairs.append(("Timeout", str(int(self.timeout * 1000))))
        optional = {
            "CallerID": self.caller_id,
            "ChannelId": self.channel_id,
            "OtherChannelId": self.other_channel_id,
            "Codecs": self.codecs,
            "Account": self.account,
        }
        pairs += [(name, value) for name, value in optional.items() if value]
        pairs.append(("Variable", f"{CALL_ID_VARIABLE}={self.call_id}"))
        extra = {name: value for name, value in self.variables.items() if name != CALL_ID_VARIABLE}
        pairs += [("Variable", f"{name}={value}") for name, value in extra.items()]
        pairs.append(("Async", "true"))
        return pairs
