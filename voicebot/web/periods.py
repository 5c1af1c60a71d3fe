"""Date ranges the UI filters by: calendar days in the company's time zone turned into [since, until)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = {"today": "Сегодня", "7d": "7 дней", "30d": "30 дней", "custom": "Свои даты"}
MAX_DAYS = 93  # the hourly series the dashboard draws covers at most this much


class PeriodError(ValueError):
    """A user-facing (Russian) reason the dates cannot be used."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    since: datetime
    until: datetime
    preset: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"дата «{text[:20]}» не в формате ГГГГ-ММ-ДД") from None
    if not 2000 <= day.year <= 2100:
        raise PeriodError("дата вне 2000–2100 годов")
    return day


def bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    since = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return since, until


def today(zone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


def choose(preset: str, date_from: str | None, date_to: str | None, zone: str) -> Period:
    """A period from the dashboard's preset or its two date fields."""
    last = today(zone)
    if preset == "7d":
        first = last - timedelta(days=6)
    elif preset == "30d":
        first = last - timedelta(days=29)
    elif preset == "custom":
        first = parse_day(date_from) or last
        last = parse_day(date_to) or last
    else:
        preset, first = "today", last
    if last < first:
        raise PeriodError("дата «по» раньше даты «с»")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"период длиннее {MAX_DAYS} дней; выберите покороче")
    return Period(first, last, *bounds(first, last, zone), preset)
