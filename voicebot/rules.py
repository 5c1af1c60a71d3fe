"""The legal clock: when a resident may be called, and the SLA numbers of DOMAIN.md §3.

230-ФЗ (debt collection, robots count since 01.02.2024): weekdays 08:00–22:00, weekends and public
holidays 09:00–20:00 in the debtor's local time; at most 1 call a day, 2 a week, 8 a month.
Other outbound calls use the same windows by default (a courtesy the customer can change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

ANSWER_WITHIN = timedelta(minutes=5)
CALLBACK_WITHIN = timedelta(minutes=10)
VOICE_MESSAGE_REVIEW_WITHIN = timedelta(minutes=10)

DEBT_LIMITS = {"day": 1, "week": 2, "month": 8}
# 230-ФЗ art. 7 p. 5: messages (SMS, messengers) per debtor, counted apart from calls.
DEBT_MESSAGE_LIMITS = {"day": 2, "week": 4, "month": 16}

# Non-working public holidays of the Labour Code, art. 112 (transfers by decree are not modelled).
_HOLIDAYS = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


@dataclass(frozen=True)
class Window:
    start: time
    end: time


WEEKDAY_WINDOW = Window(time(8, 0), time(22, 0))
WEEKEND_WINDOW = Window(time(9, 0), time(20, 0))


def is_day_off(day: date) -> bool:
    return day.weekday() >= 5 or (day.month, day.day) in _HOLIDAYS


def window_for(day: date) -> Window:
    return WEEKEND_WINDOW if is_day_off(day) else WEEKDAY_WINDOW


def within_calling_hours(moment: datetime) -> bool:
    """`moment` must be in the resident's local time zone."""
    window = window_for(moment.date())
    return window.start <= moment.time() < window.end


def next_calling_time(moment: datetime) -> datetime:
    """The earliest moment at or after `moment` (local, aware) inside the calling window."""
    for offset in range(0, 15):
        day = moment.date() + timedelta(days=offset)
        window = window_for(day)
        start = datetime.combine(day, window.start, tzinfo=moment.tzinfo)
        end = datetime.combine(day, window.end, tzinfo=moment.tzinfo)
        if offset == 0 and start <= moment < end:
            return moment
        if moment < start:
            return start
    raise ValueError("no calling window in the next two weeks")


def next_working_day(day: date) -> date:
    following = day + timedelta(days=1)
    while is_day_off(following):
        following += timedelta(days=1)
    return following


def add_working_days(day: date, count: int) -> date:
    for _ in range(count):
        day = next_working_day(day)
    return day
