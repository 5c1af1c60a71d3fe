"""What the dialer asks the telephony side to do: one outbound call, and the shape of its answer."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from voicebot.asterisk.ami_originate import OriginateResult


@dataclass(frozen=True)
class CallRequest:
    call_id: uuid.UUID
    phone: str
    scenario: str
    variables: dict[str, Any] = field(default_factory=dict)
    direction: Literal["inbound", "outbound"] = "outbound"
    campaign_id: int | None = None
    contact_id: int | None = None
    callback_id: int | None = None
    amd: bool = False
    channel: str = "voice"  # "max": a conversation in the MAX messenger instead of a phone call
    timezone: str | None = None  # the contact's zone (campaign contacts): legal hours are counted in it


# Places the call and returns how the originate ended (answered / busy / ...). Must not raise for a
# call that simply failed; raising means "could not even try" (AMI down) and the work is put back.
PlaceCall = Callable[[CallRequest], Awaitable[OriginateResult]]
