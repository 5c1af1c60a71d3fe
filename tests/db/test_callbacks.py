"""One open callback per phone is a fact of the database: concurrent queueing merges into one row, and a
plain second INSERT is refused by the partial unique index."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from voicebot.db.callbacks import schedule_callback
from voicebot.db.models import Callback

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
PHONE = "+79161234567"


async def test_concurrent_misses_and_a_dialogue_request_make_one_open_callback(db):
    async def queue(delay_s: int) -> int:
        async with db.transaction() as s:
            return await schedule_callback(
                s, PHONE, "missed", missed_at=NOW, delay=timedelta(seconds=delay_s), asterisk_event=True
            )

    ids = await asyncio.gather(*(queue(d) for d in (300, 60, 120, 240)))
    async with db.transaction() as s:
        call_id = await s.scalar(
            text(
                "INSERT INTO calls (id, direction, channel, status, phone) "
                "VALUES (gen_random_uuid(), 'inbound', 'voice', 'ended', :p) RETURNING id"
            ),
            {"p": PHONE},
        )
        requested = await schedule_callback(
            s, PHONE, "requested", missed_at=None, due_at=NOW + timedelta(hours=3), source_call_id=call_id
        )
    async with db.session() as s:
        rows = list(await s.scalars(select(Callback)))
    assert len(rows) == 1 and set(ids) == {rows[0].id} and requested == rows[0].id
    assert rows[0].due_at == NOW + timedelta(seconds=60)  # the earliest promise wins


async def test_the_database_refuses_a_second_open_callback(db):
    insert = text(
        "INSERT INTO callbacks (phone, reason, due_at, status, attempts) VALUES (:p, 'missed', now(), :s, 0)"
    )
    async with db.transaction() as s:
        await s.execute(insert, {"p": PHONE, "s": "done"})
        await s.execute(insert, {"p": PHONE, "s": "pending"})
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await s.execute(insert, {"p": PHONE, "s": "pending"})


async def test_a_missed_call_callback_is_due_within_ten_minutes(db):
    with pytest.raises(ValueError, match="10 minutes"):
        async with db.transaction() as s:
            await schedule_callback(
                s, PHONE, "missed", missed_at=NOW, delay=timedelta(minutes=11), asterisk_event=True
            )
