"""Office appointments in the database: free slots of the one schedule, booking, rescheduling, cancelling.

Every channel (phone, MAX, staff in the UI/API) books through these functions. No double booking: the
partial unique index `uq_office_appointments_slot_booked` lets only one live booking hold a slot, so of
concurrent attempts on one slot exactly one commits and the others get `SlotTaken`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voicebot.db.models import OfficeAppointment, OfficeSlot
from voicebot.db.session import Database


class SlotTaken(Exception):
    """The slot is booked by someone else, closed, past, or does not exist."""


async def free_slots(db: Database, *, after: datetime, until: datetime, limit: int = 50) -> list[OfficeSlot]:
    booked = select(OfficeAppointment.slot_id).where(OfficeAppointment.status == "booked")
    stmt = (
        select(OfficeSlot)
        .where(OfficeSlot.starts_at > after, OfficeSlot.starts_at < until, OfficeSlot.closed.is_(False))
        .where(OfficeSlot.id.not_in(booked))
        .order_by(OfficeSlot.starts_at, OfficeSlot.window)
        .limit(limit)
    )
    async with db.session() as s:
        return list(await s.scalars(stmt))


async def book(
    db: Database,
    slot_id: int,
    *,
    phone: str,
    channel: str,
    now: datetime,
    name: str = "",
    topic: str = "",
    call_id: uuid.UUID | None = None,
) -> OfficeAppointment:
    try:
        async with db.transaction() as s:
            await _open_slot(s, slot_id, now)
            appointment = OfficeAppointment(slot_id=slot_id, phone=phone, name=name, topic=topic,
                                            channel=channel, call_id=call_id, status="booked")  # fmt: skip
            s.add(appointment)
    except IntegrityError:
        raise SlotTaken(f"slot {slot_id} is already booked") from None
    return await get(db, appointment.id)


async def reschedule(db: Database, appointment_id: int, slot_id: int, *, now: datetime) -> OfficeAppointment:
    try:
        async with db.transaction() as s:
            await _open_slot(s, slot_id, now)
            appointment = await s.get(OfficeAppointment, appointment_id, with_for_update=True)
            if appointment is None or appointment.status != "booked":
                raise LookupError(f"no live appointment {appointment_id}")
            appointment.slot_id = slot_id
            appointment.confirmed_at = None
            appointment.reminded_at = None
    except IntegrityError:
        raise SlotTaken(f"slot {slot_id} is already booked") from None
    return await get(db, appointment_id)


async def set_status(
    db: Database, appointment_id: int, status: str, *, confirmed_at: datetime | None = None
) -> OfficeAppointment:
    async with db.transaction() as s:
        appointment = await s.get(OfficeAppointment, appointment_id, with_for_update=True)
        if appointment is None:
            raise LookupError(f"no appointment {appointment_id}")
        appointment.status = status
        if confirmed_at is not None:
            appointment.confirmed_at = confirmed_at
    return await get(db, appointment_id)


async def get(db: Database, appointment_id: int) -> OfficeAppointment:
    async with db.session() as s:
        appointment = await s.get(OfficeAppointment, appointment_id)
    if appointment is None:
        raise LookupError(f"no appointment {appointment_id}")
    return appointment


async def upcoming_for_phone(db: Database, phone: str | None, now: datetime) -> OfficeAppointment | None:
    if not phone:
        return None
    stmt = (
        select(OfficeAppointment)
        .join(OfficeSlot, OfficeSlot.id == OfficeAppointment.slot_id)
        .where(
            OfficeAppointment.phone == phone, OfficeAppointment.status == "booked", OfficeSlot.starts_at > now
        )
        .order_by(OfficeSlot.starts_at)
        .limit(1)
    )
    async with db.session() as s:
        return await s.scalar(stmt)


async def _open_slot(s, slot_id: int, now: datetime) -> OfficeSlot:  # noqa: ANN001 (an AsyncSession)
    slot = await s.get(OfficeSlot, slot_id)
    if slot is None or slot.closed or slot.starts_at <= now:
        raise SlotTaken(f"slot {slot_id} is not open for booking")
    return slot
