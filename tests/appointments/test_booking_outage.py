"""An office appointment booked while PostgreSQL is away is kept in the local journal, not lost: booked
when the database is back, or, when the slot went meanwhile, left to staff as a task to call back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from voicebot.db import appointments
from voicebot.db.models import Call, HumanTask, OfficeAppointment
from voicebot.services.appointments import Schedule

pytestmark = pytest.mark.faults

PHONE = "+79161230001"


async def _call(db) -> SimpleNamespace:  # noqa: ANN001
    """A call row (as the ledger writes it first) and the dialogue context's parts a booking reads."""
    call_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with db.transaction() as s:
        s.add(
            Call(
                id=call_id, direction="inbound", channel="voice", phone=PHONE, status="active", started_at=now
            )
        )
    return SimpleNamespace(call=SimpleNamespace(call_id=call_id, phone=PHONE, channel="voice"), now=now)


async def _slots(db) -> None:  # noqa: ANN001
    day = datetime.now(UTC).date() + timedelta(days=2)
    await Schedule(db, "Europe/Moscow").add_slots(day, time(9), time(10), 30)


async def test_booking_during_an_outage_is_booked_once_the_database_is_back(db, records, pg_proxy):
    await _slots(db)
    ctx = await _call(db)
    store = records.store()
    offered = await store.free_office_slots(ctx.now, ctx.now + timedelta(days=5))
    slot = offered[0]
    await pg_proxy.cut("refuse")
    booked = await store.book_appointment(ctx, slot.id, "справка")
    assert booked.slot.starts_at == slot.starts_at  # the caller hears the time they chose
    assert (await records.journal.backlog()).pending >= 1

    pg_proxy.restore()
    assert await records.replayer.drain(within=30)
    async with db.session() as s:
        rows = (
            await s.scalars(select(OfficeAppointment).where(OfficeAppointment.call_id == ctx.call.call_id))
        ).all()
    assert [(r.slot_id, r.status, r.phone, r.topic) for r in rows] == [(slot.id, "booked", PHONE, "справка")]


async def test_a_slot_taken_during_the_outage_becomes_a_task_for_staff(db, records, pg_proxy):
    await _slots(db)
    ctx = await _call(db)
    store = records.store()
    slot = (await store.free_office_slots(ctx.now, ctx.now + timedelta(days=5)))[0]
    await pg_proxy.cut("refuse")
    await store.book_appointment(ctx, slot.id, "")
    # meanwhile staff book the same slot in the office (their path to the database still works)
    await appointments.book(db, slot.id, phone="+79160000077", channel="web", now=datetime.now(UTC))

    pg_proxy.restore()
    assert await records.replayer.drain(within=30)
    async with db.session() as s:
        mine = await s.scalar(select(OfficeAppointment).where(OfficeAppointment.call_id == ctx.call.call_id))
        tasks = (await s.scalars(select(HumanTask).where(HumanTask.call_id == ctx.call.call_id))).all()
    assert mine is None
    assert [(t.kind, t.payload["phone"], t.payload["slot_id"]) for t in tasks] == [
        ("office_appointment", PHONE, slot.id)
    ]
    assert (await records.journal.backlog()).failed == 0


async def test_cancelling_a_journalled_booking_in_the_same_call(db, records, pg_proxy):
    await _slots(db)
    ctx = await _call(db)
    store = records.store()
    slot = (await store.free_office_slots(ctx.now, ctx.now + timedelta(days=5)))[0]
    await pg_proxy.cut("refuse")
    booked = await store.book_appointment(ctx, slot.id, "")
    await store.appointment_status(booked.id, "cancelled", call_id=ctx.call.call_id)

    pg_proxy.restore()
    assert await records.replayer.drain(within=30)
    async with db.session() as s:
        mine = await s.scalar(select(OfficeAppointment).where(OfficeAppointment.call_id == ctx.call.call_id))
    assert mine is not None and mine.status == "cancelled"
