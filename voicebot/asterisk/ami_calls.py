"""Call state built from AMI events, keyed by our call id, Uniqueid and Linkedid.

A "call" is the set of channels sharing a Linkedid (Asterisk gives every channel created on behalf of
another the other's Linkedid). The two halves of a Local channel (``Local/x@ctx-0000000c;1`` and
``;2``) are joined by name as well, because events may arrive before their Linkedid is settled. Our call
id comes from ``VOICEBOT_UUID``: in a ``VarSet`` event, in a ``ChanVariable`` header (manager.conf
``channelvars``), or from the Originate that created the call (``OriginateResponse`` by ActionID).

The tracker is a plain synchronous consumer: hook it up with ``client.on_any(tracker.handle)``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voicebot.asterisk.ami_originate import CALL_ID_VARIABLE, OriginateOutcome, OriginateResult
from voicebot.asterisk.ami_protocol import AMIMessage

if TYPE_CHECKING:
    from voicebot.asterisk.ami import AMIClient

logger = logging.getLogger(__name__)

TRACKED_VARIABLE_PREFIX = "VOICEBOT_"
_NULL_IDS = frozenset({"", "<null>", "(null)"})


@dataclass
class ChannelState:
    name: str
    uniqueid: str
    linkedid: str
    state: str = "Down"
    hung_up: bool = False
    hangup_cause: int | None = None
    hangup_cause_txt: str | None = None

    @property
    def local_base(self) -> str | None:
        """``Local/x@ctx-0000000c`` for both ``;1`` and ``;2``; ``None`` for other technologies."""
        if self.name.startswith("Local/") and self.name[-2:] in (";1", ";2"):
            return self.name[:-2]
        return None


@dataclass
class CallState:
    linkedid: str
    call_id: str | None = None
    channels: dict[str, ChannelState] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    dial_status: str | None = None
    originate_result: OriginateResult | None = None
    originate_reason: int | None = None
    abandoned: bool = False
    hangup_cause: int | None = None
    hangup_cause_txt: str | None = None
    ended: bool = False
    started_at: float = field(default_factory=time.monotonic)
    ended_at: float | None = None

    @property
    def active_channels(self) -> list[ChannelState]:
        return [ch for ch in self.channels.values() if not ch.hung_up]


EndListener = Callable[[CallState], None]


class CallStateTracker:
    def __init__(self, *, keep_ended: int = 1000) -> None:
        self._by_uniqueid: dict[str, CallState] = {}
        self._by_linkedid: dict[str, CallState] = {}
        self._by_call_id: dict[str, CallState] = {}
        self._by_local_base: dict[str, CallState] = {}
        self._originates: dict[str, str] = {}  # ActionID -> call id
        self._ended: OrderedDict[str, CallState] = OrderedDict()
        self._keep_ended = keep_ended
        self._listeners: list[EndListener] = []

    # --- queries ------------------------------------------------------------------------------
    def get(self, key: str) -> CallState | None:
        """A call by our call id, any channel's Uniqueid, or its Linkedid (ended calls too, for a while)."""
        for index in (self._by_call_id, self._by_uniqueid, self._by_linkedid):
            if key in index:
                return index[key]
        return self._ended.get(key)

    @property
    def active_calls(self) -> list[CallState]:
        return list({id(call): call for call in self._by_linkedid.values()}.values())

    def on_end(self, listener: EndListener) -> None:
        self._listeners.append(listener)

    def attach(self, client: AMIClient) -> None:
        """Feed this tracker every event of ``client`` and tell it about each Originate it sends."""
        client.on_any(self.handle)
        client.on_originate(self.expect_originate)

    def expect_originate(self, action_id: str, call_id: str) -> None:
        """Remember which call an Originate belongs to, so its OriginateResponse can be attributed."""
        self._originates[action_id] = call_id

    # --- event intake -------------------------------------------------------------------------
    def handle(self, event: AMIMessage) -> None:
        name = (event.event or "").lower()
        handler = getattr(self, f"_on_{name}", None)
        try:
            if handler is not None:
                handler(event)
            self._bind_chan_variables(event)
        except (KeyError, ValueError):
            logger.warning("malformed AMI event ignored", extra={"ami_event": repr(event)})

    def _on_newchannel(self, event: AMIMessage) -> None:
        channel = ChannelState(
            name=event["Channel"],
            uniqueid=event["Uniqueid"],
            linkedid=event.get("Linkedid") or event["Uniqueid"],
            state=event.get("ChannelStateDesc") or "Down",
        )
        call = self._by_linkedid.get(channel.linkedid)
        if call is None and channel.local_base:
            call = self._by_local_base.get(channel.local_base)
        if call is None:
            call = CallState(linkedid=channel.linkedid)
            self._by_linkedid[call.linkedid] = call
        self._attach(call, channel)

    def _on_newstate(self, event: AMIMessage) -> None:
        channel, call = self._channel(event)
        if channel is None or call is None:
            return
        channel.state = event.get("ChannelStateDesc") or channel.state
        if channel.state == "Up":
            call.answered = True
        self._follow_linkedid(call, event)

    def _on_dialend(self, event: AMIMessage) -> None:
        # An Originate's DialEnd has no caller side, only the Dest* fields of the dialled channel.
        call = self._by_uniqueid.get(event.get("Uniqueid") or event.get("DestUniqueid") or "")
        if call is not None:
            call.dial_status = event.get("DialStatus")

    def _on_varset(self, event: AMIMessage) -> None:
        _, call = self._channel(event)
        variable, value = event.get("Variable") or "", event.get("Value") or ""
        if call is None or not variable.startswith(TRACKED_VARIABLE_PREFIX):
            return
        call.variables[variable] = value
        if variable == CALL_ID_VARIABLE and value:
            self._bind_call_id(call, value)

    def _on_queuecallerabandon(self, event: AMIMessage) -> None:
        _, call = self._channel(event)
        if call is not None:
            call.abandoned = True

    def _on_originateresponse(self, event: AMIMessage) -> None:
        call_id = self._originates.pop(event.get("ActionID") or "", None)
        uniqueid = event.get("Uniqueid") or ""
        call = self._by_uniqueid.get(uniqueid) or (self._by_call_id.get(call_id) if call_id else None)
        outcome = OriginateOutcome.from_event(event, call_id or "")
        ended = self._ended.get(uniqueid)
        if call is None and ended is not None:
            # A failed leg may be hung up before its OriginateResponse: complete the record afterwards.
            ended.originate_result, ended.originate_reason = outcome.result, outcome.reason
            if call_id and not ended.call_id:
                ended.call_id = call_id
                self._ended[call_id] = ended
            return
        if call is None:
            # The channel never came to life (no such number, congestion before creation): report the
            # attempt as one finished call so listeners still learn its outcome.
            call = CallState(linkedid=uniqueid if uniqueid not in _NULL_IDS else f"originate:{call_id}")
            call.originate_result, call.originate_reason = outcome.result, outcome.reason
            if call_id:
                call.call_id = call_id
            self._finish(call)
            return
        call.originate_result, call.originate_reason = outcome.result, outcome.reason
        if call_id:
            self._bind_call_id(call, call_id)

    def _on_hangup(self, event: AMIMessage) -> None:
        channel, call = self._channel(event)
        if channel is None or call is None:
            return
        channel.hung_up = True
        cause = event.get("Cause")
        channel.hangup_cause = int(cause) if cause and cause.isdigit() else None
        channel.hangup_cause_txt = event.get("Cause-txt")
        if call.hangup_cause is None:
            # The first channel to go down carries the cause that ended the call.
            call.hangup_cause, call.hangup_cause_txt = channel.hangup_cause, channel.hangup_cause_txt
        if not call.active_channels:
            self._finish(call)

    # --- helpers ------------------------------------------------------------------------------
    def _channel(self, event: AMIMessage) -> tuple[ChannelState | None, CallState | None]:
        call = self._by_uniqueid.get(event.get("Uniqueid") or "")
        if call is None:
            return None, None
        channel = call.channels.get(event.get("Uniqueid") or "")
        if channel is not None and event.get("Channel"):
            channel.name = event.get("Channel") or channel.name  # Rename/masquerade keeps it current
        return channel, call

    def _attach(self, call: CallState, channel: ChannelState) -> None:
        call.channels[channel.uniqueid] = channel
        self._by_uniqueid[channel.uniqueid] = call
        if channel.local_base:
            self._by_local_base[channel.local_base] = call

    def _bind_chan_variables(self, event: AMIMessage) -> None:
        variables = event.variables("ChanVariable")
        if not variables:
            return
        _, call = self._channel(event)
        if call is None:
            return
        for name, value in variables.items():
            if name.startswith(TRACKED_VARIABLE_PREFIX) and value:
                call.variables[name] = value
        if variables.get(CALL_ID_VARIABLE):
            self._bind_call_id(call, variables[CALL_ID_VARIABLE])

    def _bind_call_id(self, call: CallState, call_id: str) -> None:
        other = self._by_call_id.get(call_id)
        if other is not None and other is not call:
            self._merge(into=other, source=call)
            return
        call.call_id = call_id
        call.variables.setdefault(CALL_ID_VARIABLE, call_id)
        self._by_call_id[call_id] = call

    def _follow_linkedid(self, call: CallState, event: AMIMessage) -> None:
        # Bridging can hand a channel an older Linkedid; the two calls are then one.
        linkedid = event.get("Linkedid")
        other = self._by_linkedid.get(linkedid or "")
        if other is not None and other is not call:
            self._merge(into=other, source=call)

    def _merge(self, *, into: CallState, source: CallState) -> None:
        for channel in source.channels.values():
            self._attach(into, channel)
        into.variables = source.variables | into.variables
        into.answered = into.answered or source.answered
        into.abandoned = into.abandoned or source.abandoned
        into.originate_result = into.originate_result or source.originate_result
        if into.originate_reason is None:
            into.originate_reason = source.originate_reason
        into.call_id = into.call_id or source.call_id
        self._by_linkedid.pop(source.linkedid, None)
        if source.call_id and self._by_call_id.get(source.call_id) is source:
            self._by_call_id[source.call_id] = into

    def _finish(self, call: CallState) -> None:
        call.ended, call.ended_at = True, time.monotonic()
        for uniqueid, channel in call.channels.items():
            self._by_uniqueid.pop(uniqueid, None)
            if channel.local_base:
                self._by_local_base.pop(channel.local_base, None)
        self._by_linkedid.pop(call.linkedid, None)
        if call.call_id:
            self._by_call_id.pop(call.call_id, None)
        for key in filter(None, (call.call_id, call.linkedid, *call.channels)):
            self._ended[key] = call
        while len(self._ended) > self._keep_ended:
            self._ended.popitem(last=False)
        logger.info(
            "call ended",
            extra={"call_id": call.call_id, "cause": call.hangup_cause, "originate": call.originate_result},
        )
        for listener in self._listeners:
            try:
                listener(call)
            except Exception:
                logger.exception("call end listener failed", extra={"call_id": call.call_id})
