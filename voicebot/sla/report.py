"""Answer-time accounting (DOMAIN.md §3): answered within 5 minutes, or called back within 10.

An inbound voice call is *offered* when it reaches the FastAGI router (calls.offered_at) and *answered*
when a dialogue picks it up (calls.answered_at). Calls no dialogue served — overflow, or the caller hung
up first — are *missed*; a missed call counts as called back when a callback attempt to the same number
was made within 10 minutes of the offer (callbacks.last_attempt_at, or an outbound call to the number).
Call backs themselves (variables.callback = "1") and text/web simulations are not inbound offers.
Days are calendar days in the company's time zone.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from voicebot import rules
from voicebot.db.session import Database

UNSERVED_OUTCOMES = ("overflow", "missed")


@dataclass(frozen=True)
class CallAnswerTime:
    call_id: uuid.UUID
    phone: str | None
    offered_at: datetime
    answered_at: datetime | None
    wait_seconds: float | None  # None: missed
    outcome: str | None
    called_back_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v)
                for k, v in asdict(self).items()}  # fmt: skip


@dataclass(frozen=True)
class DaySLA:
    day: date
    offered: int
    answered: int
    answered_within_5: int
    missed: int
    called_back_within_10: int
    max_wait_seconds: float | None

    @property
    def answered_within_5_share(self) -> float | None:
        return self.answered_within_5 / self.offered if self.offered else None

    @property
    def called_back_within_10_share(self) -> float | None:
        return self.called_back_within_10 / self.missed if self.missed else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self) | {
            "answered_within_5_share": self.answered_within_5_share,
            "called_back_within_10_share": self.called_back_within_10_share,
        }
        data["day"] = self.day.isoformat()
        return data


_CALLS = text(
    """
    SELECT c.id, c.phone, c.offered_at, c.outcome,
           CASE WHEN c.outcome = ANY(:unserved) THEN NULL ELSE c.answered_at END AS answered_at,
           (SELECT min(t) FROM (
                SELECT b.last_attempt_at AS t FROM callbacks b
                 WHERE b.phone = c.phone AND b.attempts > 0
                   AND b.last_attempt_at >= c.offered_at
                UNION ALL
                SELECT o.started_at FROM calls o
                 WHERE o.phone = c.phone AND o.id <> c.id AND o.started_at >= c.offered_at
                   AND (o.direction = 'outbound' OR o.variables->>'callback' = '1')
            ) AS attempts) AS called_back_at
      FROM calls c
     WHERE c.direction = 'inbound' AND c.channel = 'voice'
       AND COALESCE(c.variables->>'callback', '') <> '1'
       AND c.offered_at >= :since AND c.offered_at < :until
     ORDER BY c.offered_at
    """
)


async def call_answer_times(db: Database, since: datetime, until: datetime) -> list[CallAnswerTime]:
    """Every inbound call offered in [since, until) with its wait and, if missed, its call back."""
    async with db.session() as session:
        rows = (
            await session.execute(
                _CALLS, {"since": since, "until": until, "unserved": list(UNSERVED_OUTCOMES)}
            )
        ).all()
    result = []
    for row in rows:
        wait = (row.answered_at - row.offered_at).total_seconds() if row.answered_at else None
        result.append(
            CallAnswerTime(
                row.id, row.phone, row.offered_at, row.answered_at, wait, row.outcome, row.called_back_at
            )
        )
    return result


async def daily_sla(db: Database, first: date, last: date, timezone: str = "Europe/Moscow") -> list[DaySLA]:
    """One DaySLA per calendar day from `first` to `last` inclusive (company time zone)."""
    if last < first:
        raise ValueError("the last day is before the first")
    if (last - first).days > 366:
        raise ValueError("at most one year per report")
    zone = ZoneInfo(timezone)
    since = datetime.combine(first, time(0), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    calls = await call_answer_times(db, since, until)
    days: dict[date, list[CallAnswerTime]] = {
        first + timedelta(days=i): [] for i in range((last - first).days + 1)
    }
    for call in calls:
        days[call.offered_at.astimezone(zone).date()].append(call)
    return [_summarise(day, items) for day, items in days.items()]


def _summarise(day: date, calls: list[CallAnswerTime]) -> DaySLA:
    answered = [c for c in calls if c.wait_seconds is not None]
    missed = [c for c in calls if c.wait_seconds is None]
    within_5 = sum(1 for c in answered if c.wait_seconds <= rules.ANSWER_WITHIN.total_seconds())  # type: ignore[operator]
    called_back = sum(
        1
        for c in missed
        if c.called_back_at is not None and c.called_back_at - c.offered_at <= rules.CALLBACK_WITHIN
    )
    waits = [c.wait_seconds for c in answered if c.wait_seconds is not None]
    return DaySLA(
        day, len(calls), len(answered), within_5, len(missed), called_back, max(waits) if waits else None
    )
