"""Fakes shared by the dialer tests: a settable clock and a recording place_call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.calls import CallRequest
from voicebot.db.models import Call
from voicebot.db.session import Database


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakePhone:
    """Answers each call with a scripted result per phone (default: answered) and records every dial."""

    def __init__(
        self,
        db: Database | None = None,
        results: dict[str, list[OriginateResult]] | None = None,
        *,
        outcome: str | None = "promise_to_pay",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.results = results or {}
        self.outcome = outcome
        self.clock = clock
        self.dialled: list[CallRequest] = []
        self.hold: asyncio.Event | None = None

    async def __call__(self, request: CallRequest) -> OriginateResult:
        self.dialled.append(request)
        if self.hold is not None:
            await self.hold.wait()
        script = self.results.get(request.phone)
        result = script.pop(0) if script else OriginateResult.ANSWERED
        if result is OriginateResult.ANSWERED and self.db is not None and self.outcome:
            await write_dialogue_row(self.db, request, self.outcome, self.clock() if self.clock else None)
        return result


async def write_dialogue_row(
    db: Database, request: CallRequest, outcome: str, at: datetime | None = None, **extra: Any
) -> None:
    """What the dialogue runtime leaves behind for an answered call."""
    values: dict[str, Any] = dict(
        id=request.call_id,
        direction=request.direction,
        channel="voice",
        scenario=request.scenario,
        phone=request.phone,
        campaign_id=request.campaign_id,
        contact_id=request.contact_id,
        status="ended",
        outcome=outcome,
        variables={k: str(v) for k, v in request.variables.items()},
    )
    if at is not None:
        values |= {"started_at": at, "answered_at": at, "offered_at": at, "ended_at": at}
    values |= extra
    async with db.transaction() as session:
        await session.execute(insert(Call).values(**values))


def call_uuid() -> uuid.UUID:
    return uuid.uuid4()
