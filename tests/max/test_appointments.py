"""Office appointments on the phone and in MAX against one schedule: book, remind, reschedule, cancel."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.max.conftest import Resident
from voicebot.db.models import Call, OfficeAppointment
from voicebot.dialogue.context import CallerInput
from voicebot.dialogue.session import open_dialogue
from voicebot.services.appointments import Schedule

TZ = ZoneInfo("Europe/Moscow")


async def _phone_call(bot, lines: list[str], phone: str) -> tuple[list[str], str | None]:
    """A phone conversation through the same runtime (the voice channel's label, text in and out)."""
    channel = bot.channel
    dialogue = await open_dialogue(db=channel.db, settings=channel.settings, nlu=channel.nlu,
                                   library=channel.library, scenario="inbound_router", phone=phone,
                                   channel="voice")  # fmt: skip
    said = [(await dialogue.start()).display]
    for line in lines:
        turn = await dialogue.respond(CallerInput("text", line))
        said.append(turn.display)
        if turn.end:
            break
    return said, dialogue.ctx.outcome


async def test_phone_booking_then_max_reschedule_reminder_and_cancel(db, bot, max_api) -> None:
    schedule = Schedule(db, "Europe/Moscow")
    day1 = datetime.now(TZ).date() + timedelta(days=2)
    day2 = day1 + timedelta(days=1)
    await schedule.add_slots(day1, time(10), time(11), 30)
    await schedule.add_slots(day2, time(14), time(15), 30)
    said, outcome = await _phone_call(bot, ["хочу записаться на приём", "по поводу перерасчёта",
                                            f"{day1.day} числа в десять", "да"], "+79161234501")  # fmt: skip
    assert outcome == "appointment_booked", said
    assert "10:00" in said[-1]
    # A second phone caller is not offered the booked 10:00.
    said2, _ = await _phone_call(bot, ["запишите меня на приём", "справка"], "+79161234503")
    assert "10:30" in said2[-1] and "10:00" not in said2[-1]

    natalia = Resident(max_api, 3001)
    await natalia.start()
    _, menu = await natalia.share_phone("+79161234501")
    (existing,) = await natalia.press(menu, "Записаться в офис")
    assert "10:00" in existing.text
    assert [b["text"] for b in existing.buttons] == ["Перенести", "Отменить запись", "Оставить как есть"]
    (offer,) = await natalia.press(existing, "Перенести")
    labels = [b["text"] for b in offer.buttons]
    assert labels == [f"{day1:%d.%m} 10:30–11:00", f"{day2:%d.%m} 14:00–14:30"]
    (confirm,) = await natalia.press(offer, labels[1])
    assert "14:00" in confirm.text and [b["text"] for b in confirm.buttons][:2] == ["Да", "Нет"]
    (done,) = await natalia.press(confirm, "Да")
    assert "Перенесла запись" in done.text
    async with db.session() as s:
        booked = list(await s.scalars(select(OfficeAppointment).where(OfficeAppointment.status == "booked")))
    assert len(booked) == 1 and booked[0].slot.starts_at.astimezone(TZ).hour == 14
    # The staff day shows it; the 10:00 of day 1 is free again for everyone.
    assert [r.appointment is None for r in await schedule.day(day1)] == [True, True]

    # The day before: the reminder goes to MAX as a conversation; the resident confirms with a button.
    the_day_before = datetime.combine(day2 - timedelta(days=1), time(12), TZ)
    assert await schedule.send_reminders(the_day_before, bot.channel) == {"max": 1, "sms": 0}
    (reminder,) = await natalia._replies(1)
    assert "Напоминаю" in reminder.text and "14:00" in reminder.text
    (ok,) = await natalia.press(reminder, "Да, приду")
    assert "ждём вас" in ok.text.lower()
    async with db.session() as s:
        confirmed = await s.get(OfficeAppointment, booked[0].id)
        calls = list(
            await s.scalars(
                select(Call).where(Call.scenario == "office_appointment").order_by(Call.started_at)
            )
        )
    assert confirmed.confirmed_at is not None and confirmed.reminded_at is not None
    assert [(c.channel, c.direction, c.outcome) for c in calls] == [
        ("voice", "inbound", "appointment_booked"), ("voice", "inbound", None),  # the second caller only looked
        ("max", "inbound", "appointment_rescheduled"), ("max", "outbound", "appointment_confirmed"),
    ]  # fmt: skip

    # Cancelling by free text in MAX frees the slot.
    _, existing2 = await natalia.write("хочу отменить запись на приём", replies=2)
    (cancelled,) = await natalia.press(existing2, "Отменить запись")
    assert "отменила" in cancelled.text
    assert all(r.appointment is None or r.appointment.status == "cancelled" for r in await schedule.day(day2))
