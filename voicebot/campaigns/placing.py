"""The real `place_call`: announce the call to the voice channel, then AMI Originate it.

The announcement comes first so the AudioSocket connection that follows the callee's answer finds its
scenario and variables. The Originate follows telephony/extensions.conf: the dial string from
VOICEBOT_DIALER_CHANNEL, then `[voicebot-outbound]`, extension `s`, with VOICEBOT_UUID (our call id),
VOICEBOT_SCENARIO, VOICEBOT_CAMPAIGN, VOICEBOT_AMD and (several bot processes) VOICEBOT_AUDIOSOCKET as
channel variables.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from voicebot.asterisk.ami_originate import (
    CALL_ID_VARIABLE,
    OriginateRequest,
    OriginateResult,
    result_from_cause,
)
from voicebot.asterisk.ami_protocol import AMIActionError, AMIConnectionLost, AMIMessage
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


class HangupCauses:
    """The Q.850 cause each dialled channel hung up with, by our call id (its `ChanVariable VOICEBOT_UUID`,
    manager.conf channelvars): a SIP trunk's busy comes back as Reason 0 plus Hangup Cause 17."""

    def __init__(self, keep: int = 2000) -> None:
        self._causes: dict[str, int] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._keep = keep

    def attach(self, ami: Any) -> None:
        ami.on("Hangup", self.on_hangup)

    def on_hangup(self, event: AMIMessage) -> None:
        call_id = event.variables("ChanVariable").get(CALL_ID_VARIABLE)
        cause = event.get("Cause") or ""
        if not call_id or not cause.isdigit() or call_id in self._causes:
            return  # the first channel to go down carries the cause
        self._causes[call_id] = int(cause)
        while len(self._causes) > self._keep:
            self._causes.pop(next(iter(self._causes)))
        waiter = self._waiters.pop(call_id, None)
        if waiter is not None:
            waiter.set()

    async def cause(self, call_id: str, wait: float = 1.0) -> int | None:
        """The cause, waiting briefly: the Hangup may come just after the OriginateResponse."""
        if call_id not in self._causes:
            waiter = self._waiters.setdefault(call_id, asyncio.Event())
            try:
                await asyncio.wait_for(waiter.wait(), wait)
            except TimeoutError:
                self._waiters.pop(call_id, None)
        return self._causes.pop(call_id, None)


AMD_EVENT = "VoicebotAMD"


class MachineWatcher:
    """`UserEvent(VoicebotAMD, Status: MACHINE)` from `[voicebot-outbound]`: the dialer records an answering
    machine at once instead of waiting minutes for a dialogue that never comes."""

    def __init__(self, on_machine: Any) -> None:
        self.on_machine = on_machine  # async (call id) -> bool, e.g. Dialer.machine

    def attach(self, ami: Any) -> None:
        ami.on("UserEvent", self.on_user_event)

    async def on_user_event(self, event: AMIMessage) -> None:
        if (event.get("UserEvent") or "") != AMD_EVENT or (event.get("Status") or "").upper() != "MACHINE":
            return
        call_id = event.get("VoicebotUUID") or event.variables("ChanVariable").get(CALL_ID_VARIABLE)
        if call_id:
            try:
                await self.on_machine(call_id)
            except Exception:
                log.exception("answering machine not recorded", extra={"call_id": call_id})


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
        causes: HangupCauses | None = None,
    ) -> None:
        self.ami = ami
        self.causes = causes
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
        if outcome.result is OriginateResult.ANSWERED or self.causes is None:
            return outcome.result
        cause = await self.causes.cause(str(request.call_id))
        refined = result_from_cause(cause) or outcome.result
        if refined is not outcome.result:
            log.info("originate result from the hang-up cause",
                     extra={"call_id": str(request.call_id), "reason": outcome.reason, "cause": cause,
                            "result": refined.value})  # fmt: skip
        return refined
