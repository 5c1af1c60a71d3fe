"""/api/v1: calls and what they wrote — readings, promises, tickets, NPS answers, visits, voice messages,
callbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from voicebot.api.access import authorize
from voicebot.api.errors import ApiError
from voicebot.api.paging import page_params
from voicebot.db.models import (
    TICKET_STATUSES,
    Callback,
    NpsAnswer,
    Promise,
    Reading,
    Ticket,
    TicketEvent,
    Visit,
    VoiceMessage,
)
from voicebot.services import calls
from voicebot.services.calls import TimeRange
from voicebot.services.keys import Principal
from voicebot.services.paging import Page, PageParams, to_dict
from voicebot.values import parse_phone

router = APIRouter(tags=["calls and results"], dependencies=[Depends(authorize)])

PHONE_QUERY = Query(
    None,
    max_length=32,
    description="Phone: +79161234567, 89161234567 or 8 916 123-45-67 (normalised to E.164)",
)


def phone_filter(phone: str | None) -> str | None:
    """The one phone normaliser (voicebot.values.parse_phone) for API filters, as the web UI uses it."""
    if phone is None or not phone.strip():
        return None
    try:
        return parse_phone(phone)
    except ValueError as exc:
        raise ApiError(
            422,
            str(exc),
            details=[{"location": "query", "field": "phone", "reason": str(exc), "code": "phone"}],
        ) from None


TicketNumber = Annotated[str, Path(min_length=1, max_length=32, description="Ticket number")]


def time_range(
    since: datetime | None = Query(None, description="From (inclusive), ISO 8601"),
    until: datetime | None = Query(None, description="Until (exclusive), ISO 8601"),
) -> TimeRange:
    for value in (since, until):
        if value is not None and not (1970 <= value.year <= 9000):
            raise ApiError(422, "times must be between 1970 and 9000")
    return TimeRange(since=calls.aware(since), until=calls.aware(until))


async def _page(request: Request, query: Any, page: PageParams, *order: Any) -> Page:
    return await calls.page_of(request.app.state.db, query, page, *order)


@router.get("/calls", name="list_calls", summary="Calls, newest first, with filters")
async def list_calls(
    request: Request,
    span: TimeRange = Depends(time_range),
    direction: Literal["inbound", "outbound"] | None = None,
    scenario: str | None = Query(None, max_length=64),
    outcome: str | None = Query(None, max_length=32),
    phone: str | None = PHONE_QUERY,
    campaign_id: int | None = Query(None, ge=1, le=2**63 - 1),
    page: PageParams = Depends(page_params),
) -> Page:
    return await calls.list_calls(
        request.app.state.db,
        span,
        calls.CallFilter(direction, scenario, outcome, phone_filter(phone), campaign_id),
        page,
    )


@router.get("/calls/{call_id}", name="get_call", summary="A call with its turns and the records it wrote")
async def get_call(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    return await calls.get_call(request.app.state.db, call_id)


@router.get("/readings", name="list_readings", summary="Meter readings taken by calls")
async def list_readings(
    request: Request,
    span: TimeRange = Depends(time_range),
    status: Literal["accepted", "suspicious"] | None = None,
    period: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    account_id: int | None = Query(None, ge=1, le=2**63 - 1),
    page: PageParams = Depends(page_params),
) -> Page:
    query = calls.within(select(Reading), Reading.created_at, span)
    for column, value in (
        (Reading.status, status),
        (Reading.period, period),
        (Reading.account_id, account_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return await _page(request, query, page, Reading.id.desc())


@router.get("/promises", name="list_promises", summary="Promises to pay")
async def list_promises(
    request: Request,
    span: TimeRange = Depends(time_range),
    status: Literal["pending", "kept", "broken"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = calls.within(select(Promise), Promise.created_at, span)
    if status:
        query = query.where(Promise.status == status)
    return await _page(request, query, page, Promise.id.desc())


@router.get("/tickets", name="list_tickets", summary="Requests (заявки)")
async def list_tickets(
    request: Request,
    span: TimeRange = Depends(time_range),
    status: Literal["new", "in_progress", "done", "cancelled"] | None = None,
    priority: Literal["emergency", "routine"] | None = None,
    overdue: bool = Query(False, description="Only open tickets past their deadline"),
    page: PageParams = Depends(page_params),
) -> Page:
    query = calls.within(select(Ticket), Ticket.created_at, span)
    if status:
        query = query.where(Ticket.status == status)
    if priority:
        query = query.where(Ticket.priority == priority)
    if overdue:
        query = query.where(Ticket.status.in_(("new", "in_progress")), Ticket.due_at < datetime.now(UTC))
    return await _page(request, query, page, Ticket.id.desc())


async def _ticket(session: Any, number: str, lock: bool = False) -> Ticket:
    ticket = await session.scalar(
        select(Ticket).where(Ticket.number == number).with_for_update()
        if lock
        else select(Ticket).where(Ticket.number == number)
    )
    if ticket is None:
        raise ApiError(404, f"ticket {number} not found")
    return ticket


@router.get("/tickets/{number}", name="get_ticket", summary="A ticket with its status history")
async def get_ticket(number: TicketNumber, request: Request) -> dict[str, Any]:
    async with request.app.state.db.session() as s:
        ticket = await _ticket(s, number)
        events = await s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        return {**to_dict(ticket), "events": [to_dict(e) for e in events]}


class TicketStatusIn(BaseModel):
    status: Literal[TICKET_STATUSES]  # type: ignore[valid-type]
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/tickets/{number}/status", name="change_ticket_status", summary="Change a ticket's status")
async def change_ticket_status(
    number: TicketNumber, body: TicketStatusIn, request: Request, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    async with request.app.state.db.transaction() as s:
        ticket = await _ticket(s, number, lock=True)
        ticket.status = body.status
        ticket.closed_at = datetime.now(UTC) if body.status in ("done", "cancelled") else None
        s.add(
            TicketEvent(ticket_id=ticket.id, status=body.status, comment=body.comment, actor=principal.actor)
        )
    return to_dict(ticket)


@router.get("/nps", name="list_nps_answers", summary="NPS survey answers")
async def list_nps_answers(
    request: Request, span: TimeRange = Depends(time_range), page: PageParams = Depends(page_params)
) -> Page:
    return await _page(
        request, calls.within(select(NpsAnswer), NpsAnswer.created_at, span), page, NpsAnswer.id.desc()
    )


@router.get("/visits", name="list_visits", summary="Specialist visits and their confirmation")
async def list_visits(
    request: Request,
    status: Literal["planned", "confirmed", "rescheduled", "declined", "confirmed_by_proxy"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = select(Visit)
    if status:
        query = query.where(Visit.status == status)
    return await _page(request, query, page, Visit.id.desc())


@router.get("/voice-messages", name="list_voice_messages", summary="Voice messages left by callers")
async def list_voice_messages(
    request: Request,
    span: TimeRange = Depends(time_range),
    unreviewed: bool = Query(False, description="Only messages nobody has reviewed"),
    page: PageParams = Depends(page_params),
) -> Page:
    query = calls.within(select(VoiceMessage), VoiceMessage.created_at, span)
    if unreviewed:
        query = query.where(VoiceMessage.reviewed_at.is_(None))
    return await _page(request, query, page, VoiceMessage.id.desc())


@router.get("/callbacks", name="list_callbacks", summary="Callbacks owed to callers")
async def list_callbacks(
    request: Request,
    status: Literal["pending", "in_progress", "done", "failed", "cancelled"] | None = None,
    page: PageParams = Depends(page_params),
) -> Page:
    query = select(Callback)
    if status:
        query = query.where(Callback.status == status)
    return await _page(request, query, page, Callback.id.desc())
