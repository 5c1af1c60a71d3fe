"""The call card an operator sees the moment the bot hands a caller over: who is calling, their account
and address, what the bot understood, and the resident's open requests, so nobody repeats themselves.

Built from what the dialogue wrote (the `calls` row and its turns, the account, tickets) and pushed to the
web UI through `CardHub` (server-sent events) and to the webhook outbox (`call.transfer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from voicebot.db.models import Account, Call, CallTurn, Ticket, WebhookOutbox
from voicebot.db.session import Database

OPEN_TICKETS = ("new", "in_progress")
LAST_CALLER_TURNS = 5
WEBHOOK_EVENT = "call.transfer"


async def build_card(db: Database, call_id: uuid.UUID, target: str) -> dict[str, Any]:
    """The card of one call; works with whatever the dialogue learnt (an unidentified caller too)."""
    async with db.session() as session:
        call = await session.get(Call, call_id)
        turns = (
            (
                await session.execute(
                    select(CallTurn)
                    .where(CallTurn.call_id == call_id)
                    .order_by(CallTurn.seq.desc())
                    .limit(40)
                )
            )
            .scalars()
            .all()
        )
        account = await session.get(Account, call.account_id) if call and call.account_id else None
        tickets = []
        if account is not None:
            tickets = (
                (
                    await session.execute(
                        select(Ticket)
                        .where(Ticket.account_id == account.id, Ticket.status.in_(OPEN_TICKETS))
                        .order_by(Ticket.created_at.desc())
                        .limit(10)
                    )
                )
                .scalars()
                .all()
            )
    caller_turns = [t for t in reversed(turns) if t.speaker == "caller" and t.text][-LAST_CALLER_TURNS:]
    return {
        "call_id": str(call_id),
        "target": target,
        "phone": call.phone if call else None,
        "direction": call.direction if call else None,
        "scenario": call.scenario if call else None,
        "outcome": call.outcome if call else None,
        "account": None
        if account is None
        else {
            "number": account.number,
            "address": account.address,
            "owner": account.owner,
            "debt": str(account.debt),
        },  # fmt: skip
        "understood": [{"text": t.text, "intent": t.intent} for t in caller_turns],
        "open_requests": [
            {
                "number": t.number,
                "category": t.category,
                "status": t.status,
                "priority": t.priority,
                "description": t.description,
                "created_at": t.created_at.isoformat(),
                "due_at": t.due_at.isoformat() if t.due_at else None,
            }
            for t in tickets
        ],  # fmt: skip
        "transfer": {"status": "offered"},
    }


async def queue_webhook(db: Database, card: dict[str, Any], status: str) -> None:
    """A `call.transfer` event for the company's webhook (VOICEBOT_WEBHOOK_URL) with the card."""
    async with db.transaction() as session:
        await session.execute(
            insert(WebhookOutbox).values(event_type=WEBHOOK_EVENT, payload={**card, "event": status})
        )


class CardHub:
    """In-process publish/subscribe of call cards for the web UI; keeps the latest few for a page load."""

    def __init__(self, keep: int = 20, queue_size: int = 100) -> None:
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._queue_size = queue_size

    def publish(self, card: dict[str, Any]) -> None:
        card = {**card, "published_at": datetime.now().astimezone().isoformat()}
        self.recent = deque(
            (c for c in self.recent if c["call_id"] != card["call_id"]), maxlen=self.recent.maxlen
        )
        self.recent.append(card)
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled page misses updates, never the bot
                queue.put_nowait(card)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
