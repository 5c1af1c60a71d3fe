"""AMI events that mean "somebody was not served": they become callbacks and voice messages.

* `Hangup` of a channel in `voicebot-inbound` that never reached state Up (6): the caller rang off
  before the call was answered → callback "missed".
* `QueueCallerAbandon`: the caller gave up waiting for a human operator → callback "abandoned".
* `UserEvent` `VoicebotVoiceMessage` → voice_messages.py.
* `SoftHangupRequest` with cause 4 (Asterisk stopping or restarting: `core restart now`) on a channel
  of an inbound call still in dialogue (the bot had not set `VOICEBOT_ACTION`): the exchange cut the
  resident off mid-call → callback "missed" (seen on a real Asterisk: the bot took it for a hang-up).

Each event becomes a journal entry (ops `MISSED_OPS`) when the watcher has the voice path's journalled
writer: a database outage as the caller hangs up keeps the message and the callback on local disk until
PostgreSQL is back (seen on the real exchange: written straight, they were dropped). Handlers never
raise into the AMI client: a write that fails even so is logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.asterisk.ami_protocol import AMIMessage
from voicebot.db.callbacks import schedule_callback
from voicebot.db.models import Call
from voicebot.db.session import Database
from voicebot.journal.writer import DirectWriter, Writer
from voicebot.sla.callbacks import normalize_phone
from voicebot.sla.voice_messages import EVENT_NAME, apply_voice_message_event, voice_message_payload

log = logging.getLogger(__name__)

INBOUND_CONTEXTS = frozenset({"voicebot-inbound"})
UP = "6"
SHUTDOWN = "4"  # SoftHangupRequest Cause: AST_SOFTHANGUP_SHUTDOWN
VOICE_MESSAGE_EVENT = "voice_message.event"
MISSED_CALLBACK = "callback.asterisk_event"


async def apply_missed_callback(session: AsyncSession, p: dict[str, Any]) -> None:
    call_id = p.get("call_id")
    if p.get("inbound_call_only"):  # an outbound call cut off is the dialer's retry, not a callback
        if not call_id or await session.scalar(select(Call.direction).where(Call.id == call_id)) != "inbound":
            return
    elif call_id and not await session.scalar(select(Call.id).where(Call.id == call_id)):
        call_id = None
    await schedule_callback(
        session,
        p["phone"],
        p["reason"],
        missed_at=p["missed_at"],
        delay=timedelta(seconds=p["delay_seconds"]),
        source_call_id=call_id,
        asterisk_event=call_id is None,  # Asterisk's own report of a caller in its queue
    )


MISSED_OPS = {VOICE_MESSAGE_EVENT: apply_voice_message_event, MISSED_CALLBACK: apply_missed_callback}


class MissedCallWatcher:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        callback_delay: timedelta = timedelta(minutes=1),
        writer: Writer | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.callback_delay = callback_delay
        self.writer = writer or DirectWriter(db, MISSED_OPS)  # serve passes the journalled one

    def attach(self, client: object) -> None:
        client.on("Hangup", self.on_hangup)  # type: ignore[attr-defined]
        client.on("QueueCallerAbandon", self.on_abandon)  # type: ignore[attr-defined]
        client.on("UserEvent", self.on_user_event)  # type: ignore[attr-defined]
        client.on("SoftHangupRequest", self.on_soft_hangup)  # type: ignore[attr-defined]

    async def on_hangup(self, event: AMIMessage) -> None:
        if event.get("Context") not in INBOUND_CONTEXTS or event.get("ChannelState") == UP:
            return
        await self._callback(event, "missed")

    async def on_soft_hangup(self, event: AMIMessage) -> None:
        variables = event.variables("ChanVariable")
        if event.get("Cause") != SHUTDOWN or variables.get("VOICEBOT_ACTION"):
            return  # not a shutdown, or the bot had finished (goodbye, transfer, voice message)
        if not (event.get("Context") or "").startswith("voicebot-") or _call_id(event) is None:
            return
        await self._callback(event, "missed", inbound_call_only=True)  # one a phone: each leg may report

    async def on_abandon(self, event: AMIMessage) -> None:
        await self._callback(event, "abandoned")

    async def on_user_event(self, event: AMIMessage) -> None:
        if (event.get("UserEvent") or "") != EVENT_NAME:
            return
        payload = voice_message_payload(dict(event), self.clock(), self.callback_delay)
        try:
            await self.writer.write(VOICE_MESSAGE_EVENT, payload)
        except Exception:
            log.exception("could not store a voice message event")

    async def _callback(self, event: AMIMessage, reason: str, *, inbound_call_only: bool = False) -> None:
        phone = normalize_phone(event.get("CallerIDNum"))
        if phone is None:
            return
        payload = {"phone": phone, "reason": reason, "missed_at": self.clock(), "call_id": _call_id(event),
                   "delay_seconds": self.callback_delay.total_seconds(), "inbound_call_only": inbound_call_only}  # fmt: skip
        try:
            await self.writer.write(MISSED_CALLBACK, payload)
        except Exception:
            log.exception("could not queue a callback", extra={"reason": reason})


def _call_id(event: AMIMessage) -> uuid.UUID | None:
    raw = event.variables("ChanVariable").get("VOICEBOT_UUID")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None
