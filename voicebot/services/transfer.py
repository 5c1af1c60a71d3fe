"""Handing a caller to a human, and telling the dialplan how the bot left the call.

When the bot ends its AudioSocket leg the dialplan goes on in `[voicebot-after]` (telephony/extensions.conf)
and reads `VOICEBOT_ACTION`, which the bot sets on the caller's channel over AMI just before it hangs up
its leg: `hangup` (a goodbye), `transfer` (with `VOICEBOT_TRANSFER` = `operators` or `dispatcher`, the
queue or dial string and the wait limit). A leg that ends with the action still unset is a bot that died
mid-call: the dialplan plays the overflow message and takes a voice message (and a callback follows).

A transfer is "offered" at that moment: the call card goes to the web UI (CardHub) and the webhook
outbox. Its outcome comes from AMI: `AgentConnect` (queue) or `DialEnd ANSWER` (dispatcher) = answered;
`QueueCallerAbandon` or the caller's `Hangup` while waiting = abandoned; the dialplan's
`UserEvent(VoicebotTransfer, Status: fallback)` when nobody answered in time = fell back (voice message and
callback). Each is stored in `calls.meta.handover` with its times.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, text, update
from sqlalchemy.dialects.postgresql import JSONB

from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.ami_protocol import AMIError, AMIMessage
from voicebot.asterisk.channels import ChannelBook
from voicebot.clock import Clock, utc_now
from voicebot.db.models import Call
from voicebot.db.session import Database
from voicebot.services.callcard import CardHub, build_card, queue_webhook

log = logging.getLogger(__name__)

TRANSFER_EVENT = "VoicebotTransfer"
SETVAR_TIMEOUT = 3.0


@dataclass
class Handover:
    call_id: str
    target: str  # what the dialogue asked for (queue name or dial string)
    exten: str  # operators / dispatcher
    channel: str
    offered_at: datetime
    offered_clock: float = field(default_factory=time.monotonic)
    card: dict[str, Any] = field(default_factory=dict)
    status: str = "offered"
    settled_at: datetime | None = None
    detail: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        wait = (
            None if self.settled_at is None else round((self.settled_at - self.offered_at).total_seconds(), 3)
        )
        return {"target": self.exten, "status": self.status, "offered_at": self.offered_at.isoformat(),
                "settled_at": self.settled_at.isoformat() if self.settled_at else None,
                "wait_seconds": wait, **self.detail}  # fmt: skip


class TransferDesk:
    def __init__(
        self,
        db: Database,
        ami: AMIClient,
        channels: ChannelBook,
        hub: CardHub | None = None,
        *,
        operator_queue: str | None = None,
        dispatcher: str | None = None,
        wait_seconds: int = 60,
        clock: Clock = utc_now,
    ) -> None:
        self.db, self.ami, self.channels, self.hub = db, ami, channels, hub
        self.operator_queue, self.dispatcher = operator_queue, dispatcher
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.handovers: dict[str, Handover] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, ami: AMIClient | None = None) -> None:
        (ami or self.ami).on_any(self.handle)

    # --- the bot leaves the call ---------------------------------------------------------------------

    async def leave(self, call_id: uuid.UUID, action: str, target: str | None = None) -> bool:
        """Tell the dialplan why the bot's leg ends; False when it could not (it then treats it as a crash)."""
        channel = self.channels.get(call_id)
        if channel is None:
            log.warning(
                "no dialplan channel known for the call; cannot set its action",
                extra={"call_id": str(call_id)},
            )
            return False
        try:
            if action == "transfer":
                await self._offer(call_id, channel, target or self.operator_queue or "operators")
            else:
                await self._setvar("VOICEBOT_ACTION", action, channel)
        except (AMIError, TimeoutError, OSError) as exc:
            log.error(
                "could not tell the dialplan how the bot left",
                extra={"call_id": str(call_id), "error": repr(exc)},
            )
            return False
        return True

    def route(self, target: str) -> tuple[str, dict[str, str]]:
        """(dialplan extension, channel variables) for a transfer target of the dialogue."""
        variables = {"VOICEBOT_QUEUE_TIMEOUT": str(self.wait_seconds)}
        if target in ("dispatcher", self.dispatcher) and target:
            if "/" in target:
                variables["VOICEBOT_DISPATCHER"] = target  # a dial string, e.g. PJSIP/dispatcher
            return "dispatcher", variables
        if target not in ("operators", "") and "/" not in target:
            variables["VOICEBOT_OPERATOR_QUEUE"] = target
        return "operators", variables

    async def _offer(self, call_id: uuid.UUID, channel: str, target: str) -> None:
        exten, variables = self.route(target)
        for name, value in {**variables, "VOICEBOT_TRANSFER": exten}.items():
            await self._setvar(name, value, channel)
        await self._setvar("VOICEBOT_ACTION", "transfer", channel)  # last: the dialplan acts on it
        handover = Handover(str(call_id), target, exten, channel, self.clock())
        self.handovers[handover.call_id] = handover
        log.info("transfer offered", extra={"call_id": handover.call_id, "target": exten})
        try:
            handover.card = await build_card(self.db, call_id, exten)
        except Exception:  # the caller is handed over either way; the card is a courtesy
            log.exception("call card could not be built", extra={"call_id": handover.call_id})
            handover.card = {"call_id": handover.call_id, "target": exten}
        await self._announce(handover, "offered")

    async def _setvar(self, name: str, value: str, channel: str) -> None:
        await asyncio.wait_for(self.ami.setvar(name, value, channel), SETVAR_TIMEOUT)

    # --- what became of it (AMI events) ----------------------------------------------------------------

    def handle(self, event: AMIMessage) -> None:
        name = (event.event or "").lower()
        if name == "rename":
            self.channels.rename(
                event.get("Channel") or event.get("Oldname") or "", event.get("Newname") or ""
            )
            return
        handover = self._handover_of(event)
        if handover is None or handover.status != "offered":
            return
        if name == "agentconnect":
            self._settle(handover, "answered", {"operator": event.get("MemberName") or event.get("Interface") or "",
                                                "hold_seconds": event.get("HoldTime") or ""})  # fmt: skip
        elif name == "dialend" and self._dispatcher_answered(handover, event):
            self._settle(handover, "answered", {"operator": event.get("DestChannel") or ""})
        elif name == "queuecallerabandon":
            self._settle(handover, "abandoned", {"hold_seconds": event.get("HoldTime") or ""})
        elif name == "userevent" and (event.get("UserEvent") or "") == TRANSFER_EVENT:
            if (event.get("Status") or "").lower() == "fallback":
                self._settle(handover, "fell_back", {"reason": event.get("Reason") or ""})
        elif name == "hangup" and event.get("Channel") == handover.channel:
            self._settle(handover, "abandoned", {})

    @staticmethod
    def _dispatcher_answered(handover: Handover, event: AMIMessage) -> bool:
        destination = event.get("DestChannel") or ""
        return (
            handover.exten == "dispatcher"
            and (event.get("DialStatus") or "") == "ANSWER"
            and not destination.startswith("AudioSocket/")
        )

    def _handover_of(self, event: AMIMessage) -> Handover | None:
        call_id = event.variables("ChanVariable").get("VOICEBOT_UUID") or event.get("VoicebotUUID")
        if not call_id and event.get("Channel"):
            call_id = self.channels.call_of(event.get("Channel") or "")
        return self.handovers.get(call_id or "")

    def _settle(self, handover: Handover, status: str, detail: dict[str, str]) -> None:
        handover.status, handover.settled_at = status, self.clock()
        handover.detail = {k: v for k, v in detail.items() if v}
        log.info(
            "transfer " + status,
            extra={"call_id": handover.call_id, "wait": handover.record()["wait_seconds"]},
        )
        task = asyncio.ensure_future(self._announce(handover, status))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self, handover: Handover, status: str) -> None:
        card = {**handover.card, "transfer": handover.record()}
        handover.card = card
        if self.hub is not None:
            self.hub.publish(card)
        try:
            await self._save(handover)
            await queue_webhook(self.db, card, status)
        except Exception:
            log.exception("transfer record not stored", extra={"call_id": handover.call_id})
        if status != "offered":
            self.handovers.pop(handover.call_id, None)

    async def _save(self, handover: Handover) -> None:
        merged = func.coalesce(Call.meta, text("'{}'::jsonb")).op("||")(
            literal({"handover": handover.record()}, type_=JSONB)
        )
        async with self.db.transaction() as session:
            await session.execute(
                update(Call).where(Call.id == uuid.UUID(handover.call_id)).values(meta=merged)
            )

    async def flush(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
