"""What a dialogue writes, as journal operations: each applies one record inside one transaction.

`DialogueStore` builds the payloads (the values are fixed when the caller hears "saved"); these
functions put them into PostgreSQL, straight away (`DirectWriter`) or when the journal replays them.
Every one is safe to apply after the call row's own upsert, in journal order.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from voicebot.db import callbacks as db_callbacks
from voicebot.db.models import (
    CallTurn,
    DoNotCall,
    HumanTask,
    Meter,
    NpsAnswer,
    OfficeAppointment,
    OfficeSlot,
    Promise,
    Reading,
    Ticket,
    TicketEvent,
    Visit,
    VoiceMessage,
)
from voicebot.security.masking import mask_phone

log = logging.getLogger(__name__)


async def add_turns(session: AsyncSession, p: dict[str, Any]) -> None:
    # One multi-row INSERT needs the same keys in every row: bot turns carry fewer than caller turns.
    keys = {k for t in p["turns"] for k in t}
    blank = {k: ([] if k == "entities" else None) for k in keys}
    rows = [{**blank, **t, "call_id": p["call_id"]} for t in p["turns"]]
    stmt = pg_insert(CallTurn).values(rows).on_conflict_do_nothing(index_elements=["call_id", "seq"])
    await session.execute(stmt)


async def save_readings(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(insert(Reading), p["readings"])
    for r in p["readings"]:
        if r["status"] == "accepted":
            await session.execute(
                update(Meter)
                .where(Meter.id == r["meter_pk"])
                .values(last_value=r["value"], last_date=p["date"])
            )


async def save_promise(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(insert(Promise).values(**p))


async def withdraw_promises(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(delete(Promise).where(Promise.call_id == p["call_id"]))


async def create_ticket(session: AsyncSession, p: dict[str, Any]) -> None:
    ticket = Ticket(**p["ticket"])
    session.add(ticket)
    await session.flush()
    session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, actor="bot", call_id=ticket.call_id,
                            at=ticket.created_at))  # fmt: skip


async def update_ticket(session: AsyncSession, p: dict[str, Any]) -> None:
    ticket = await session.scalar(select(Ticket).where(Ticket.number == p["number"]).with_for_update())
    if ticket is None:
        return
    for key, value in p["values"].items():
        setattr(ticket, key, value)
    status = p.get("status")
    if status:
        ticket.status = status
        ticket.closed_at = p["at"] if status in ("done", "cancelled") else None
    session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, comment=p.get("comment"), actor="bot",
                            call_id=p["call_id"], at=p["at"]))  # fmt: skip


async def save_nps(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(insert(NpsAnswer).values(**p))


async def save_visit(session: AsyncSession, p: dict[str, Any]) -> None:
    row = p["row"]
    stmt = pg_insert(Visit).values(row)
    set_ = {k: stmt.excluded[k] for k in row if k != "visit_id"}
    await session.execute(stmt.on_conflict_do_update(index_elements=[Visit.visit_id], set_=set_))


async def schedule_callback(session: AsyncSession, p: dict[str, Any]) -> None:
    """Through the one callback creator (one open callback per phone), a delay or a requested time.
    A refused number (not the caller's, not on the resident's account) is logged, never retried."""
    try:
        await _schedule_callback(session, p)
    except db_callbacks.CallbackRefused as exc:
        log.warning("callback refused", extra={"phone": mask_phone(str(p.get("phone"))), "reason": str(exc)})


async def _schedule_callback(session: AsyncSession, p: dict[str, Any]) -> None:
    await db_callbacks.schedule_callback(
        session,
        p["phone"],
        p["reason"],
        missed_at=p.get("missed_at"),
        delay=timedelta(seconds=p.get("delay_seconds", db_callbacks.DEFAULT_DELAY.total_seconds())),
        due_at=p.get("due_at"),
        source_call_id=p.get("source_call_id"),
        scenario=p.get("scenario"),
        account_id=p.get("account_id"),
        **({"max_per_hour": p["max_per_hour"]} if p.get("max_per_hour") else {}),
        asterisk_event=bool(p.get("asterisk_event")),
    )


async def create_task(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(insert(HumanTask).values(**p))


async def add_do_not_call(session: AsyncSession, p: dict[str, Any]) -> None:
    stmt = pg_insert(DoNotCall).values(**p)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[DoNotCall.phone], set_={"reason": p["reason"]})
    )


async def create_voice_message(session: AsyncSession, p: dict[str, Any]) -> None:
    await session.execute(insert(VoiceMessage).values(**p))


APPOINTMENT_BOOK = "appointment.book"
APPOINTMENT_MOVE = "appointment.move"
APPOINTMENT_STATUS = "appointment.status"


async def _slot_open(session: AsyncSession, slot_id: int, now: Any) -> bool:
    slot = await session.get(OfficeSlot, slot_id)
    return slot is not None and not slot.closed and slot.starts_at > now


async def _appointment_of(session: AsyncSession, p: dict[str, Any]) -> OfficeAppointment | None:
    """The appointment an entry means: by id, or (id 0: booked through the journal in this very call) the
    call's latest booking."""
    if p.get("appointment_id"):
        return await session.get(OfficeAppointment, p["appointment_id"], with_for_update=True)
    if p.get("call_id") is None:
        return None
    return await session.scalar(
        select(OfficeAppointment).where(OfficeAppointment.call_id == p["call_id"])
        .order_by(OfficeAppointment.id.desc()).limit(1).with_for_update()
    )  # fmt: skip


async def _slot_lost(session: AsyncSession, p: dict[str, Any], phone: str, topic: str) -> None:
    """The slot the caller was promised went while the database was away: staff call the resident."""
    session.add(HumanTask(kind="office_appointment", call_id=p.get("call_id"),
                          payload={"phone": phone, "topic": topic, "slot_id": p["slot_id"],
                                   "reason": "slot taken while the database was away"}))  # fmt: skip


async def book_appointment(session: AsyncSession, p: dict[str, Any]) -> None:
    """A booking the caller heard confirmed while the database was away (voicebot.db.appointments.book
    when it answers). Booked now if the slot is still open; otherwise a task for staff."""
    if p.get("call_id") is not None:
        done = await session.scalar(
            select(OfficeAppointment.id).where(OfficeAppointment.call_id == p["call_id"],
                                               OfficeAppointment.slot_id == p["slot_id"],
                                               OfficeAppointment.status == "booked")
        )  # fmt: skip
        if done is not None:  # the first attempt did commit after all
            return
    if await _slot_open(session, p["slot_id"], p["now"]):
        try:
            async with session.begin_nested():
                session.add(OfficeAppointment(slot_id=p["slot_id"], phone=p["phone"], name="", topic=p["topic"],
                                              channel=p["channel"], call_id=p["call_id"], status="booked"))  # fmt: skip
            return
        except IntegrityError:  # booked by someone else meanwhile
            pass
    await _slot_lost(session, p, p["phone"], p["topic"])


async def move_appointment(session: AsyncSession, p: dict[str, Any]) -> None:
    appointment = await _appointment_of(session, p)
    if appointment is None or appointment.status != "booked" or appointment.slot_id == p["slot_id"]:
        return
    if await _slot_open(session, p["slot_id"], p["now"]):
        try:
            async with session.begin_nested():
                appointment.slot_id, appointment.confirmed_at, appointment.reminded_at = (
                    p["slot_id"],
                    None,
                    None,
                )
            return
        except IntegrityError:
            await session.refresh(appointment)
    await _slot_lost(session, p, appointment.phone, appointment.topic or "")


async def set_appointment_status(session: AsyncSession, p: dict[str, Any]) -> None:
    appointment = await _appointment_of(session, p)
    if appointment is None:
        return
    appointment.status = p["status"]
    if p.get("confirmed_at") is not None:
        appointment.confirmed_at = p["confirmed_at"]


RECORD_OPS = {
    APPOINTMENT_BOOK: book_appointment,
    APPOINTMENT_MOVE: move_appointment,
    APPOINTMENT_STATUS: set_appointment_status,
    "turns.add": add_turns,
    "readings.save": save_readings,
    "promise.save": save_promise,
    "promises.withdraw": withdraw_promises,
    "ticket.create": create_ticket,
    "ticket.update": update_ticket,
    "nps.save": save_nps,
    "visit.save": save_visit,
    "callback.schedule": schedule_callback,
    "task.create": create_task,
    "do_not_call.add": add_do_not_call,
    "voice_message.create": create_voice_message,
}
