"""Outbound conversations in MAX: a visit confirmation with buttons and slots, and debt reminders within
230-ФЗ's message limits (2 a day), counted apart from the call limits."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.max.conftest import Resident
from voicebot.db.models import Call, Visit
from voicebot.max.channel import MaxUnavailable


async def test_visit_warning_rescheduled_with_slot_buttons(db, bot, max_api) -> None:
    natalia = Resident(max_api, 4001)
    await natalia.start()
    _, menu = await natalia.share_phone("+79161234501")
    await natalia.write("нет, спасибо")  # leaves the menu
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    later = day + timedelta(days=1)
    await bot.channel.start_outbound("+79161234501", "visit_warning", {
        "visit_id": "V-9", "visit_date": day.isoformat(), "window_from": "10:00", "window_to": "13:00",
        "specialist": "слесарь", "slots": f"{later} 09:00-12:00;{later} 15:00-18:00"})  # fmt: skip
    (ask,) = await natalia._replies(1)
    assert "Вы будете дома?" in ask.text
    assert [b["text"] for b in ask.buttons] == ["Да", "Нет", "Перенести", "Откроет другой человек"]
    (slots,) = await natalia.press(ask, "Перенести")
    assert [b["text"] for b in slots.buttons] == [f"{later:%d.%m} 09:00–12:00"]
    (done,) = await natalia.press(slots, f"{later:%d.%m}")
    assert "Записала" in done.text
    async with db.session() as s:
        visit = await s.scalar(select(Visit))
        call = await s.scalar(select(Call).where(Call.scenario == "visit_warning"))
    assert visit.status == "rescheduled" and visit.new_slot.startswith(later.isoformat())
    assert (call.channel, call.direction, call.outcome) == ("max", "outbound", "visit_rescheduled")


def _moscow_noon() -> datetime:
    """Today 12:00 in Moscow: inside the 230-ФЗ hours on any day, and after the test's own rows' day began."""
    moscow = ZoneInfo("Europe/Moscow")
    return datetime.combine(datetime.now(moscow).date(), time(12, 0), tzinfo=moscow).astimezone(UTC)


async def test_debt_reminders_in_max_stop_at_two_a_day_apart_from_calls(db, bot, max_api) -> None:
    bot.channel.clock = _moscow_noon
    sergey = Resident(max_api, 4002)
    await sergey.start()
    await sergey.share_phone("+79161234504")
    await sergey.write("нет, спасибо")
    async with db.transaction() as s:  # two debt calls today by phone do not use up the messages
        for minutes in (60, 30):
            s.add(Call(direction="outbound", channel="voice", scenario="debt_reminder", phone="+79161234504",
                       started_at=datetime.now(UTC) - timedelta(minutes=minutes), variables={"account": "33000031"}))  # fmt: skip
    variables = {"account": "33000031", "full_name": "Козлов Сергей Николаевич", "amount": "4870.50",
                 "period": "сентябрь и октябрь"}  # fmt: skip
    for _ in range(2):
        await bot.channel.start_outbound("+79161234504", "debt_reminder", variables)
        (greeting,) = await sergey._replies(1)
        assert "рубл" not in greeting.text  # identity first: no amount before the resident says it is them
        await sergey.write("До свидания")
    with pytest.raises(MaxUnavailable, match="2 a day"):
        await bot.channel.start_outbound("+79161234504", "debt_reminder", variables)
    with pytest.raises(MaxUnavailable, match="no MAX user"):
        await bot.channel.start_outbound("+79161234599", "debt_reminder", variables)


async def test_no_debt_message_at_night_in_the_debtors_time(db, bot, max_api) -> None:
    sergey = Resident(max_api, 4003)
    await sergey.start()
    await sergey.share_phone("+79161234504")
    await sergey.write("нет, спасибо")
    moscow = ZoneInfo("Europe/Moscow")
    night = datetime.combine(datetime.now(moscow).date(), time(23, 30), tzinfo=moscow)
    bot.channel.clock = lambda: night.astimezone(UTC)
    variables = {"account": "33000031", "full_name": "Козлов Сергей Николаевич", "amount": "4870.50"}
    with pytest.raises(MaxUnavailable, match="quiet hours"):
        await bot.channel.start_outbound("+79161234504", "debt_reminder", variables)
    # the same hour in Vladivostok is morning there: 230-ФЗ counts the debtor's own time
    bot.channel.clock = lambda: night.replace(hour=5).astimezone(UTC)  # 12:00 in Vladivostok
    await bot.channel.start_outbound(
        "+79161234504", "debt_reminder", variables | {"timezone": "Asia/Vladivostok"}
    )
    (greeting,) = await sergey._replies(1)
    assert greeting.text
