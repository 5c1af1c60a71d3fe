"""The service centre's schedule and the day's appointments for staff; reminders the day before.

One schedule for every channel: slots come from a CSV import or are added in the UI/API; the phone and
MAX dialogues and staff all book through voicebot/db/appointments.py, whose unique index forbids two
live bookings of one slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from voicebot.db import appointments
from voicebot.db.models import OfficeAppointment, OfficeSlot, SmsOutbox
from voicebot.db.session import Database
from voicebot.importers.csvfile import CsvFormatError, ImportReport, read_rows

log = logging.getLogger(__name__)

SCHEDULE_COLUMNS = ("date", "start", "end")


class ScheduleError(ValueError):
    """What was wrong with a slot or a booking request; nothing was saved."""


@dataclass(frozen=True)
class DayRow:
    slot: OfficeSlot
    appointment: OfficeAppointment | None


class Reminder(Protocol):
    """A channel that can remind a resident (the MAX channel); returns False when it cannot reach them."""

    async def remind(self, appointment: OfficeAppointment) -> bool: ...


class Schedule:
    def __init__(self, db: Database, timezone: str) -> None:
        self.db = db
        self.zone = ZoneInfo(timezone)

    # --- slots ------------------------------------------------------------------------------------------

    async def import_csv(self, text: str) -> ImportReport:
        """`date,start,end[,window]` rows (e.g. 2026-12-03,09:00,09:30,1); existing slots are kept."""
        report = ImportReport("office_slots")
        try:
            rows = list(read_rows(text, SCHEDULE_COLUMNS))
        except CsvFormatError:
            raise
        good: list[dict[str, Any]] = []
        for row in rows:
            report.read += 1
            if "__error__" in row.values:
                report.reject(row.line, row.values["__error__"])
                continue
            try:
                good.append(
                    self._slot_values(row.get("date"), row.get("start"), row.get("end"), row.get("window"))
                )
            except ScheduleError as exc:
                report.reject(row.line, str(exc))
        if good:
            async with self.db.transaction() as s:
                result = await s.execute(
                    pg_insert(OfficeSlot).values(good).on_conflict_do_nothing().returning(OfficeSlot.id)
                )
                report.inserted = len(result.all())
        return report

    async def add_slots(self, day: date, first: time, last: time, minutes: int, windows: int = 1) -> int:
        """Slots of `minutes` from `first` until `last` in each of `windows` windows; returns how many are new."""
        if minutes < 5 or minutes > 480 or not 1 <= windows <= 20:
            raise ScheduleError("a slot lasts 5–480 minutes and there are 1–20 windows")
        start = datetime.combine(day, first, self.zone)
        end_of_day = datetime.combine(day, last, self.zone)
        if end_of_day <= start:
            raise ScheduleError("the end of reception must be later than its start")
        values = []
        while start + timedelta(minutes=minutes) <= end_of_day:
            for window in range(1, windows + 1):
                values.append(
                    {"starts_at": start, "ends_at": start + timedelta(minutes=minutes), "window": str(window)}
                )
            start += timedelta(minutes=minutes)
        if not values:
            return 0
        async with self.db.transaction() as s:
            result = await s.execute(
                pg_insert(OfficeSlot).values(values).on_conflict_do_nothing().returning(OfficeSlot.id)
            )
            return len(result.all())

    async def close_slot(self, slot_id: int) -> None:
        """A free slot is closed (no longer offered); a booked one must be cancelled or moved first."""
        async with self.db.transaction() as s:
            slot = await s.get(OfficeSlot, slot_id, with_for_update=True)
            if slot is None:
                raise LookupError(f"no slot {slot_id}")
            booked = await s.scalar(select(OfficeAppointment.id).where(
                OfficeAppointment.slot_id == slot_id, OfficeAppointment.status == "booked"))  # fmt: skip
            if booked:
                raise ScheduleError("the slot is booked: cancel or move the appointment first")
            slot.closed = True

    def _slot_values(self, day: str, start: str, end: str, window: str | None) -> dict[str, Any]:
        try:
            the_day = date.fromisoformat(day)
            starts = datetime.combine(the_day, time.fromisoformat(start), self.zone)
            ends = datetime.combine(the_day, time.fromisoformat(end), self.zone)
        except ValueError:
            raise ScheduleError(f"date {day!r} or time {start!r}–{end!r} is not YYYY-MM-DD / HH:MM") from None
        if ends <= starts:
            raise ScheduleError(f"the slot ends ({end}) before it starts ({start})")
        return {"starts_at": starts, "ends_at": ends, "window": (window or "1").strip()[:32] or "1"}

    # --- the day's appointments --------------------------------------------------------------------------

    async def day(self, day: date) -> list[DayRow]:
        start = datetime.combine(day, time(0), self.zone)
        end = start + timedelta(days=1)
        async with self.db.session() as s:
            slots = list(await s.scalars(select(OfficeSlot).where(
                OfficeSlot.starts_at >= start, OfficeSlot.starts_at < end).order_by(OfficeSlot.starts_at, OfficeSlot.window)))  # fmt: skip
            booked = {a.slot_id: a for a in await s.scalars(select(OfficeAppointment).where(
                OfficeAppointment.slot_id.in_([x.id for x in slots]), OfficeAppointment.status != "cancelled"))}  # fmt: skip
        return [DayRow(slot, booked.get(slot.id)) for slot in slots]

    async def book(self, slot_id: int, *, phone: str, name: str = "", topic: str = "") -> OfficeAppointment:
        return await appointments.book(self.db, slot_id, phone=phone, channel="staff", now=datetime.now(UTC),
                                       name=name, topic=topic)  # fmt: skip

    async def move(self, appointment_id: int, slot_id: int) -> OfficeAppointment:
        return await appointments.reschedule(self.db, appointment_id, slot_id, now=datetime.now(UTC))

    async def set_status(self, appointment_id: int, status: str) -> OfficeAppointment:
        if status not in ("cancelled", "done", "missed", "booked"):
            raise ScheduleError(f"unknown status {status!r}")
        return await appointments.set_status(self.db, appointment_id, status)

    # --- reminders the day before ------------------------------------------------------------------------

    async def due_reminders(self, now: datetime) -> list[OfficeAppointment]:
        """Live bookings of tomorrow (company time) nobody has reminded yet."""
        tomorrow = now.astimezone(self.zone).date() + timedelta(days=1)
        start = datetime.combine(tomorrow, time(0), self.zone)
        async with self.db.session() as s:
            return list(await s.scalars(
                select(OfficeAppointment).join(OfficeSlot, OfficeSlot.id == OfficeAppointment.slot_id).where(
                    OfficeAppointment.status == "booked", OfficeAppointment.reminded_at.is_(None),
                    OfficeSlot.starts_at >= start, OfficeSlot.starts_at < start + timedelta(days=1))))  # fmt: skip

    async def send_reminders(self, now: datetime, messenger: Reminder | None) -> dict[str, int]:
        """Remind each booking of tomorrow once: in MAX when the resident is there, otherwise by SMS."""
        sent = {"max": 0, "sms": 0}
        for appointment in await self.due_reminders(now):
            via = "sms"
            if messenger is not None:
                try:
                    via = "max" if await messenger.remind(appointment) else "sms"
                except Exception as exc:  # MAX down: the SMS still goes
                    log.warning(
                        "max reminder failed", extra={"appointment_id": appointment.id, "error": repr(exc)}
                    )
            async with self.db.transaction() as s:
                if via == "sms":
                    s.add(
                        SmsOutbox(
                            phone=appointment.phone,
                            template="office_reminder",
                            text=self.reminder_text(appointment),
                        )
                    )
                row = await s.get(OfficeAppointment, appointment.id)
                if row is not None:
                    row.reminded_at = now
            sent[via] += 1
        return sent

    def reminder_text(self, appointment: OfficeAppointment) -> str:
        local = appointment.slot.starts_at.astimezone(self.zone)
        return (f"Напоминаем: завтра, {local:%d.%m}, в {local:%H:%M} вы записаны на приём в офис управляющей "
                f"компании. Перенести или отменить запись можно по телефону или в чате MAX.")  # fmt: skip


def day_view(rows: list[DayRow], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The day as staff read it (API and UI): slot times in company time, the booking if any."""
    view = []
    for row in rows:
        a = row.appointment
        view.append({
            "slot_id": row.slot.id,
            "start": row.slot.starts_at.astimezone(zone).strftime("%H:%M"),
            "end": row.slot.ends_at.astimezone(zone).strftime("%H:%M"),
            "window": row.slot.window,
            "closed": row.slot.closed,
            "appointment": None if a is None else {
                "id": a.id, "phone": a.phone, "name": a.name, "topic": a.topic, "status": a.status,
                "channel": a.channel, "confirmed": a.confirmed_at is not None, "reminded": a.reminded_at is not None,
            },
        })  # fmt: skip
    return view
