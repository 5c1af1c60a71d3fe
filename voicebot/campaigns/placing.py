"""The real `place_call`: announce the call to the voice channel, then AMI Originate it.

The announcement comes first so the AudioSocket connection that follows the callee's answer finds its
scenario and variables. The Originate follows telephony/extensions.conf: the dial string from
VOICEBOT_DIALER_CHANNEL, then `[voicebot-outbound]`, extension `s`, with VOICEBOT_UUID (our call id),
VOICEBOT_SCENARIO, VOICEBOT_CAMPAIGN, VOICEBOT_AMD and (several bot processes) VOICEBOT_AUDIOSOCKET as
channel variables.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from voicebot.asterisk.ami_originate import OriginateRequest, OriginateResult
from voicebot.asterisk.ami_protocol import AMIActionError, AMIConnectionLost
from voicebot.asterisk.channels import ChannelBook
from voicebot.campaigns.calls import CallRequest

log = logging.getLogger(__name__)

OUTBOUND_CONTEXT = "voicebot-outbound"


class CallAnnouncer(Protocol):
    """What the voice channel's CallRegistry offers (voicebot.calls.registry)."""

    def announce(
        self,
        call_uuid: Any,
        scenario: str,
        phone: str | None = None,
        variables: dict[str, Any] | None = None,
        direction: Any = None,
        campaign_id: int | None = None,
        contact_id: int | None = None,
    ) -> Any: ...


class Originator(Protocol):
    async def originate(self, request: OriginateRequest | None = None, /, **kwargs: object) -> Any: ...


def dial_string(template: str, phone: str) -> str:
    """`{number}`: digits without '+'; `{phone}`: E.164 as stored."""
    if not phone.lstrip("+").isdigit():
        raise ValueError(f"refusing to dial {phone!r}: not a phone number")
    return template.format(number=phone.lstrip("+"), phone=phone)


class AMIPlacer:
    def __init__(
        self,
        ami: Originator,
        registry: CallAnnouncer | None,
        *,
        channel_template: str = "PJSIP/{number}@voicebot-trunk",
        ring_seconds: float = 30.0,
        caller_id: str | None = None,
        audiosocket_target: str | None = None,
        channels: ChannelBook | None = None,
    ) -> None:
        self.ami = ami
        self.channels = channels
        self.registry = registry
        self.channel_template = channel_template
        self.ring_seconds = ring_seconds
        self.caller_id = caller_id
        self.audiosocket_target = audiosocket_target

    async def __call__(self, request: CallRequest) -> OriginateResult:
        if self.registry is not None:
            self.registry.announce(
                request.call_id,
                request.scenario,
                request.phone,
                request.variables,
                request.direction,
                request.campaign_id,
                request.contact_id,
            )
        variables = {"VOICEBOT_SCENARIO": request.scenario}
        if request.campaign_id is not None:
            variables["VOICEBOT_CAMPAIGN"] = str(request.campaign_id)
        if self.audiosocket_target:  # a channel variable shadows the dialplan global of the same name
            variables["VOICEBOT_AUDIOSOCKET"] = self.audiosocket_target
        if request.amd:
            variables["VOICEBOT_AMD"] = "1"
        originate = OriginateRequest(
            channel=dial_string(self.channel_template, request.phone),
            call_id=str(request.call_id),
            context=OUTBOUND_CONTEXT,
            exten="s",
            variables=variables,
            caller_id=self.caller_id,
            timeout=self.ring_seconds,
        )
        try:
            call = await self.ami.originate(originate)
        except AMIConnectionLost:
            raise  # could not even try: the dialer puts the work back
        except AMIActionError as exc:
            # Asterisk refused this one call (bad dial string, no route): a failed attempt, not an outage.
            log.warning("originate refused", extra={"call_id": str(request.call_id), "error": str(exc)})
            return OriginateResult.FAILED
        outcome = await call.wait()
        if self.channels is not None:
            self.channels.remember(request.call_id, outcome.channel)  # the leg that runs the dialplan
        return outcome.result
