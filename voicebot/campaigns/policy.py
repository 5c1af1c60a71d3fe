"""A campaign's rules, read from `campaigns.settings` (JSONB): calling windows, retries, legal limits.

Shape of `campaigns.settings` (every key optional):

    {"windows": {"weekday": ["09:00", "21:00"], "weekend": ["10:00", "19:00"]},
     "retry": {"busy": {"delay_minutes": 15, "max_attempts": 3}, "no_answer": {...}, "failed": {...},
               "machine": {...}},
     "debt_limits": true, "amd": false, "channel": "voice"}

`channel`: `voice` (phone calls, the default) or `max` (a conversation in the MAX messenger with the
resident who shared that phone; the same scenario and outcome codes). A contact whose own `channel`
column says `max` is reached in MAX from a phone campaign too, when the MAX channel runs (claims.py). Debt conversations in MAX count against 230-ФЗ's
message limits instead of the call limits; the quiet hours are the same.

Debt campaigns (scenario `debt_reminder`, or `debt_limits: true`) never call outside the 230-ФЗ windows:
a custom window is clipped to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voicebot import rules
from voicebot.asterisk.ami_originate import OriginateResult

DEBT_SCENARIOS = frozenset({"debt_reminder"})
CHANNELS = ("voice", "max")


@dataclass(frozen=True)
class Retry:
    delay: timedelta
    max_attempts: int


DEFAULT_RETRY: dict[str, Retry] = {
    "busy": Retry(timedelta(minutes=15), 3),
    "no_answer": Retry(timedelta(hours=1), 3),
    "failed": Retry(timedelta(minutes=30), 2),
    "machine": Retry(timedelta(hours=2), 2),  # an answering machine took it: a person may answer later
}

# Which retry rule each originate result falls under; congestion and a lost response are "failed".
RESULT_RULE = {
    OriginateResult.BUSY: "busy",
    OriginateResult.NO_ANSWER: "no_answer",
    OriginateResult.CONGESTION: "failed",
    OriginateResult.FAILED: "failed",
    OriginateResult.UNKNOWN: "failed",
    OriginateResult.MACHINE: "machine",
}


@dataclass(frozen=True)
class CampaignPolicy:
    weekday: rules.Window = rules.WEEKDAY_WINDOW
    weekend: rules.Window = rules.WEEKEND_WINDOW
    retry: dict[str, Retry] = field(default_factory=lambda: dict(DEFAULT_RETRY))
    debt_limits: bool = False
    amd: bool = False
    channel: str = "voice"

    @classmethod
    def from_settings(cls, scenario: str, raw: dict[str, Any] | None) -> CampaignPolicy:
        """Validated policy; raises ValueError with a message fit for an API error."""
        raw = raw or {}
        unknown = set(raw) - {"windows", "retry", "debt_limits", "amd", "channel"}
        if unknown:
            raise ValueError(f"unknown campaign settings: {', '.join(sorted(unknown))}")
        debt = bool(raw.get("debt_limits", scenario in DEBT_SCENARIOS))
        windows = raw.get("windows") or {}
        if not isinstance(windows, dict):
            raise ValueError("settings.windows must be an object with 'weekday' and/or 'weekend'")
        weekday = _window(windows.get("weekday"), rules.WEEKDAY_WINDOW, "weekday")
        weekend = _window(windows.get("weekend"), rules.WEEKEND_WINDOW, "weekend")
        if debt:  # the law's windows are the outer bound
            weekday = _clip(weekday, rules.WEEKDAY_WINDOW)
            weekend = _clip(weekend, rules.WEEKEND_WINDOW)
        channel = str(raw.get("channel") or "voice")
        if channel not in CHANNELS:
            raise ValueError(f"settings.channel must be one of {', '.join(CHANNELS)}")
        return cls(weekday, weekend, _retry(raw.get("retry")), debt, bool(raw.get("amd", False)), channel)

    def window_for(self, day: Any) -> rules.Window:
        return self.weekend if rules.is_day_off(day) else self.weekday

    def next_call_time(self, now: datetime, timezone: str) -> datetime:
        """`now` if the contact may be called now (their local time), else the next window start (UTC)."""
        local = now.astimezone(ZoneInfo(timezone))
        for offset in range(15):
            day = local.date() + timedelta(days=offset)
            window = self.window_for(day)
            start = datetime.combine(day, window.start, tzinfo=local.tzinfo)
            end = datetime.combine(day, window.end, tzinfo=local.tzinfo)
            if start <= local < end:
                return now
            if local < start:
                return start.astimezone(now.tzinfo)
        raise ValueError("no calling window in the next two weeks")

    def retry_after(self, result: OriginateResult, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` attempts ended with `result`; None: give up."""
        rule = self.retry[RESULT_RULE.get(result, "failed")]
        return now + rule.delay if attempts < rule.max_attempts else None


def _parse_time(value: Any, what: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"settings.windows.{what}: {value!r} is not a time like 09:00") from None


def _window(value: Any, default: rules.Window, what: str) -> rules.Window:
    if value is None:
        return default
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"settings.windows.{what} must be [start, end], e.g. ['09:00', '21:00']")
    start, end = _parse_time(value[0], what), _parse_time(value[1], what)
    if start >= end:
        raise ValueError(f"settings.windows.{what}: the start must be before the end")
    return rules.Window(start, end)


def _clip(window: rules.Window, legal: rules.Window) -> rules.Window:
    start, end = max(window.start, legal.start), min(window.end, legal.end)
    if start >= end:
        raise ValueError("the calling window lies outside the hours 230-ФЗ allows")
    return rules.Window(start, end)


def _retry(raw: Any) -> dict[str, Retry]:
    result = dict(DEFAULT_RETRY)
    if raw is None:
        return result
    if not isinstance(raw, dict):
        raise ValueError("settings.retry must be an object keyed by busy / no_answer / failed / machine")
    for key, value in raw.items():
        if key not in DEFAULT_RETRY:
            raise ValueError(f"settings.retry: unknown result {key!r} (busy, no_answer, failed, machine)")
        if not isinstance(value, dict):
            raise ValueError(f"settings.retry.{key} must be an object")
        base = DEFAULT_RETRY[key]
        try:
            delay = timedelta(minutes=float(value.get("delay_minutes", base.delay.total_seconds() / 60)))
            attempts = int(value.get("max_attempts", base.max_attempts))
        except (TypeError, ValueError):
            raise ValueError(
                f"settings.retry.{key}: delay_minutes and max_attempts must be numbers"
            ) from None
        if delay < timedelta(0) or not 1 <= attempts <= 20:
            raise ValueError(f"settings.retry.{key}: delay ≥ 0 and 1 ≤ max_attempts ≤ 20")
        result[key] = Retry(delay, attempts)
    return result
