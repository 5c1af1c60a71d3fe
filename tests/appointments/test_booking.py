"""One schedule, no double booking: concurrent bookings and moves of one slot, the staff day, CSV import."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from voicebot.db import appointments
from voicebot.db.appointments import SlotTaken
from voicebot.db.models import OfficeAppointment, SmsOutbox
from voicebot.services.appointments import Schedule

TZ = "Europe/Moscow"


def _tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


async def test_concurrent_bookings_of_one_slot_leave_exactly_one(db) -> None:
    schedule = Schedule(db, TZ)
    assert await schedule.add_slots(_tomorrow(), time(9), time(9, 30), 30) == 1
    (row,) = await schedule.day(_tomorrow())
    now = datetime.now(UTC)

    async def attempt(i: int) -> str:
        try:
            await appointments.book(db, row.slot.id, phone=f"+7916000{i:04d}", channel="max" if i % 2 else "voice",
                                    now=now)  # fmt: skip
            return "booked"
        except SlotTaken:
            return "taken"

    results = await asyncio.gather(*(attempt(i) for i in range(12)))
    assert sorted(results).count("booked") == 1 and results.count("taken") == 11
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(OfficeAppointment)) == 1


async def test_concurrent_moves_into_one_free_slot_leave_exactly_one(db) -> None:
    schedule = Schedule(db, TZ)
    await schedule.add_slots(_tomorrow(), time(9), time(10, 30), 30)
    first, second, free = (r.slot.id for r in await schedule.day(_tomorrow()))
    now = datetime.now(UTC)
    a = await appointments.book(db, first, phone="+79160000001", channel="voice", now=now)
    b = await appointments.book(db, second, phone="+79160000002", channel="max", now=now)
    results = await asyncio.gather(
        *(appointments.reschedule(db, x.id, free, now=now) for x in (a, b)), return_exceptions=True
    )
    assert sum(isinstance(r, SlotTaken) for r in results) == 1, results
    day = await schedule.day(_tomorrow())
    assert [r.appointment is not None for r in day].count(True) == 2


async def test_closed_past_or_missing_slots_cannot_be_booked(db) -> None:
    schedule = Schedule(db, TZ)
    await schedule.add_slots(_tomorrow(), time(9), time(10), 30)
    first, second = (r.slot.id for r in await schedule.day(_tomorrow()))
    await schedule.close_slot(second)
    now = datetime.now(UTC)
    for slot_id, at in ((second, now), (first, now + timedelta(days=3)), (999999, now)):
        with pytest.raises(SlotTaken):
            await appointments.book(db, slot_id, phone="+79160000001", channel="voice", now=at)
    booked = await schedule.book(first, phone="+79160000001")
    with pytest.raises(ValueError, match="booked"):
        await schedule.close_slot(first)
    await schedule.set_status(booked.id, "cancelled")
    again = await schedule.book(first, phone="+79160000002")  # a cancelled booking frees the slot
    assert again.status == "booked"


async def test_csv_import_keeps_good_rows_and_says_why_others_were_rejected(db) -> None:
    day = _tomorrow().isoformat()
    text = (f"date,start,end,window\n{day},09:00,09:30,1\n{day},09:00,09:30,2\n"
            f"{day},10:00,09:30,1\nзавтра,09:00,09:30,1\n{day},09:00,09:30,1\n")  # fmt: skip
    report = await Schedule(db, TZ).import_csv(text)
    assert (report.read, report.inserted, len(report.rejected)) == (5, 2, 2)
    assert [r.line for r in report.rejected] == [4, 5]
    assert "before it starts" in report.rejected[0].reason


async def test_sms_reminder_for_residents_outside_max(db) -> None:
    schedule = Schedule(db, TZ)
    await schedule.add_slots(_tomorrow(), time(11), time(11, 30), 30)
    (row,) = await schedule.day(_tomorrow())
    await schedule.book(row.slot.id, phone="+79160000009")
    sent = await schedule.send_reminders(datetime.now(UTC), None)
    assert sent == {"max": 0, "sms": 1}
    assert await schedule.send_reminders(datetime.now(UTC), None) == {"max": 0, "sms": 0}  # once only
    async with db.session() as s:
        sms = await s.scalar(select(SmsOutbox))
    assert sms.phone == "+79160000009" and "11:00" in sms.text
