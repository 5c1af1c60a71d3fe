"""AMI events that mean "somebody was not served": they become callbacks and voice messages.

* `Hangup` of a channel in `voicebot-inbound` that never reached state Up (6): the caller rang off
  before the call was answered → callback "missed".
* `QueueCallerAbandon`: the caller gave up waiting for a human operator → callback "abandoned".
* `UserEvent` `VoicebotVoiceMessage` → voice_messages.py.

Handlers never raise into the AMI client: a failed write is logged and the event dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from voicebot.asterisk.ami_protocol import AMIMessage
from voicebot.db.callbacks import schedule_callback
from voicebot.db.models import Call
from voicebot.db.session import Database
from voicebot.sla.callbacks import normalize_phone
from voicebot.sla.voice_messages import EVENT_NAME, store_voice_message_event

log = logging.getLogger(__name__)

INBOUND_CONTEXTS = frozenset({"voicebot-inbound"})
UP = "6"


class MissedCallWatcher:
    def __init__(
        self, db: Database, *, clock: Callable[[], datetime], callback_delay: timedelta = timedelta(minutes=1)
    ) -> None:
        self.db = db
        self.clock = clock
        self.callback_delay = callback_delay

    def attach(self, client: object) -> None:
        client.on("Hangup", self.on_hangup)  # type: ignore[attr-defined]
        client.on("QueueCallerAbandon", self.on_abandon)  # type: ignore[attr-defined]
        client.on("UserEvent", self.on_user_event)  # type: ignore[attr-defined]

    async def on_hangup(self, event: AMIMessage) -> None:
        if event.get("Context") not in INBOUND_CONTEXTS or event.get("ChannelState") == UP:
            return
        await self._callback(event, "missed")

    async def on_abandon(self, event: AMIMessage) -> None:
        await self._callback(event, "abandoned")

    async def on_user_event(self, event: AMIMessage) -> None:
        if (event.get("UserEvent") or "") != EVENT_NAME:
            return
        fields = dict(event)
        try:
            await store_voice_message_event(self.db, fields, self.clock(), callback_delay=self.callback_delay)
        except Exception:
            log.exception("could not store a voice message event")

    async def _callback(self, event: AMIMessage, reason: str) -> None:
        phone = normalize_phone(event.get("CallerIDNum"))
        if phone is None:
            return
        call_id = _call_id(event)
        try:
            async with self.db.transaction() as session:
                if call_id and not await session.scalar(select(Call.id).where(Call.id == call_id)):
                    call_id = None
                await schedule_callback(
                    session,
                    phone,
                    reason,
                    missed_at=self.clock(),
                    delay=self.callback_delay,
                    source_call_id=call_id,
                    asterisk_event=call_id is None,  # Asterisk's own report of a caller in its queue
                )
        except Exception:
            log.exception("could not queue a callback", extra={"reason": reason})


def _call_id(event: AMIMessage) -> uuid.UUID | None:
    raw = event.variables("ChanVariable").get("VOICEBOT_UUID")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None
