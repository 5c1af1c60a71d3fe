"""Per-day answer-time accounting in the company's time zone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from voicebot.db.models import Call, Callback
from voicebot.sla.report import call_answer_times, daily_sla

# 23:30 UTC on 10 March is already 11 March in Moscow.
LATE = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


async def add_call(db, offered, *, answered=None, outcome="hangup", phone="+79160000001", **extra):
    call_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(insert(Call).values(
            id=call_id, direction=extra.pop("direction", "inbound"), channel=extra.pop("channel", "voice"),
            phone=phone, offered_at=offered, answered_at=answered, started_at=offered, outcome=outcome, **extra,
        ))  # fmt: skip
    return call_id


async def test_daily_shares(db):
    await add_call(db, LATE, answered=LATE + timedelta(seconds=3))
    await add_call(db, LATE, answered=LATE + timedelta(minutes=6))  # answered, but late
    await add_call(db, LATE, answered=LATE, outcome="overflow", phone="+79160000002")
    await add_call(db, LATE, outcome="missed", phone="+79160000003")
    await add_call(db, LATE, outcome="missed", phone="+79160000004")
    await add_call(db, LATE, channel="text")  # a simulation: not an offered call
    async with db.transaction() as session:
        await session.execute(insert(Callback).values([
            dict(phone="+79160000002", reason="overflow", missed_at=LATE, due_at=LATE, status="done", attempts=1,
                 last_attempt_at=LATE + timedelta(minutes=2)),
            dict(phone="+79160000003", reason="missed", missed_at=LATE, due_at=LATE, status="failed", attempts=3,
                 last_attempt_at=LATE + timedelta(minutes=25)),
        ]))  # fmt: skip
    # +79160000004 was called back by an outbound call row (a callback that reached the resident).
    await add_call(db, LATE + timedelta(minutes=4), direction="outbound", phone="+79160000004",
                   variables={"callback": "1"})  # fmt: skip
    days = await daily_sla(db, date(2026, 3, 10), date(2026, 3, 11))
    assert days[0].offered == 0 and days[0].answered_within_5_share is None
    day = days[1]
    assert (day.offered, day.answered, day.answered_within_5, day.missed) == (5, 2, 1, 3)
    assert day.called_back_within_10 == 2 and day.called_back_within_10_share == pytest.approx(2 / 3)
    assert day.answered_within_5_share == pytest.approx(1 / 5)
    assert day.max_wait_seconds == 360
    assert day.as_dict()["day"] == "2026-03-11"
    calls = await call_answer_times(db, LATE - timedelta(hours=1), LATE + timedelta(hours=1))
    assert sorted(c.wait_seconds or -1 for c in calls) == [-1, -1, -1, 3, 360]


async def test_report_range_is_checked(db):
    with pytest.raises(ValueError):
        await daily_sla(db, date(2026, 3, 11), date(2026, 3, 10))
