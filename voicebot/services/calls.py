"""Calls as reviewers see them: filtered pages of calls, one call with its turns and the records it wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from voicebot.db.models import (
    Call,
    Callback,
    CallTurn,
    HumanTask,
    NpsAnswer,
    Promise,
    Reading,
    Ticket,
    Visit,
    VoiceMessage,
)
from voicebot.db.session import Database
from voicebot.services.errors import ServiceError
from voicebot.services.paging import Page, PageParams, like_pattern, paginate, to_dict


class TimeRange(BaseModel):
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class CallFilter:
    direction: str | None = None
    scenario: str | None = None
    outcome: str | None = None
    phone: str | None = None
    campaign_id: int | None = None
    text: str | None = None  # words said by the bot or the caller (transcript search)
    has_recording: bool | None = None
    hour: int | None = None  # hour of day (0–23) in `zone`: the dashboard's by-hour chart drills down here
    zone: str = "Europe/Moscow"


def aware(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def within(query: Any, column: Any, span: TimeRange) -> Any:
    if span.since is not None:
        query = query.where(column >= span.since)
    if span.until is not None:
        query = query.where(column < span.until)
    return query


async def page_of(db: Database, query: Any, page: PageParams, *order: Any) -> Page:
    async with db.session() as s:
        return await paginate(s, query, page, order)


async def list_calls(db: Database, span: TimeRange, where: CallFilter, page: PageParams) -> Page:
    """Newest first."""
    query = within(select(Call), Call.started_at, span)
    for column, value in (
        (Call.direction, where.direction),
        (Call.scenario, where.scenario),
        (Call.outcome, where.outcome),
        (Call.phone, where.phone),
        (Call.campaign_id, where.campaign_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return await page_of(db, _narrowed(query, where), page, Call.started_at.desc(), Call.id)


def _narrowed(query: Any, where: CallFilter) -> Any:
    if where.text and where.text.strip():
        pattern = like_pattern(where.text)
        said = select(CallTurn.id).where(CallTurn.call_id == Call.id, CallTurn.text.ilike(pattern))
        query = query.where(said.exists())
    if where.has_recording is not None:
        has = Call.recording_path.is_not(None)
        query = query.where(has if where.has_recording else ~has)
    if where.hour is not None:
        local_hour = func.extract("hour", func.timezone(where.zone, Call.started_at))
        query = query.where(local_hour == where.hour)
    return query


async def load_call(db: Database, call_id: uuid.UUID) -> Call:
    async with db.session() as s:
        call = await s.get(Call, call_id)
    if call is None:
        raise ServiceError(404, f"call {call_id} not found")
    return call


async def call_turns(db: Database, call_id: uuid.UUID) -> list[dict[str, Any]]:
    async with db.session() as s:
        turns = await s.scalars(select(CallTurn).where(CallTurn.call_id == call_id).order_by(CallTurn.seq))
        return [to_dict(t) for t in turns]


_RECORDS = {
    "readings": (Reading, Reading.call_id),
    "tickets": (Ticket, Ticket.call_id),
    "promises": (Promise, Promise.call_id),
    "nps": (NpsAnswer, NpsAnswer.call_id),
    "visits": (Visit, Visit.call_id),
    "voice_messages": (VoiceMessage, VoiceMessage.call_id),
    "callbacks": (Callback, Callback.source_call_id),
    "tasks": (HumanTask, HumanTask.call_id),
}


async def get_call(db: Database, call_id: uuid.UUID) -> dict[str, Any]:
    """The call's columns, its turns, and every record it wrote by kind."""
    call = await load_call(db, call_id)
    records: dict[str, list[dict[str, Any]]] = {}
    async with db.session() as s:
        for name, (model, column) in _RECORDS.items():
            rows = await s.scalars(select(model).where(column == call_id).order_by(model.id))
            records[name] = [to_dict(r) for r in rows]
    return {**to_dict(call), "turns": await call_turns(db, call_id), "records": records}
