"""A database outage in the middle of a call loses nothing and duplicates nothing (issue 12, items 1–2).

Real PostgreSQL behind a TCP proxy the test cuts: while it is cut the call's records go to the local
SQLite journal and every write returns; when it is restored they are replayed in order, exactly once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from voicebot.calls.records import CallRecords
from voicebot.db.session import Database

pytestmark = pytest.mark.faults

WRITE_BOUND = 15.0  # a write that takes longer than this is hung, not slow


async def _seed_meter(db: Database) -> tuple[int, int]:
    async with db.transaction() as s:
        account = await s.scalar(
            text("INSERT INTO accounts (number, address, owner, timezone, debt) "
                 "VALUES ('7001', 'ул. Ленина, 1', '', 'Europe/Moscow', 0) RETURNING id")
        )  # fmt: skip
        meter = await s.scalar(
            text("INSERT INTO meters (account_id, meter_id, resource, position) "
                 "VALUES (:a, 'ХВС-1', 'cold_water', 0) RETURNING id"),
            {"a": account},
        )  # fmt: skip
    return account, meter


async def _one_call(records: CallRecords, account: int, meter: int) -> uuid.UUID:
    call_id = uuid.uuid4()
    phone = f"+7916{call_id.int % 10**7:07d}"  # one open callback per phone: a phone per call
    now = datetime.now(UTC)
    ledger, writer = records.ledger, records.writer
    await ledger.started(call_id, direction="inbound", channel="voice", scenario="meter_readings",
                         started_at=now, phone=phone)  # fmt: skip
    await writer.write("turns.add", {"call_id": call_id, "turns": [
        {"seq": 1, "speaker": "bot", "text": "Здравствуйте", "step": "start"},
        {"seq": 2, "speaker": "caller", "text": "да", "step": "start", "intent": "yes", "entities": []},
    ]})  # fmt: skip
    await writer.write("readings.save", {"date": now.date(), "readings": [
        {"account_id": account, "meter_pk": meter, "value": Decimal("123.45"), "period": "2026-12",
         "status": "accepted", "call_id": call_id}]})  # fmt: skip
    await records.schedule_callback(phone, "requested", missed_at=now, delay=timedelta(minutes=1),
                                    source_call_id=call_id)  # fmt: skip
    await ledger.ended(call_id, outcome="readings_saved", ended_at=now + timedelta(seconds=30))
    return call_id


async def _counts(db: Database, call_id: uuid.UUID) -> dict[str, object]:
    async with db.session() as s:
        row = (
            await s.execute(text("SELECT status, outcome, ended_at FROM calls WHERE id = :i"), {"i": call_id})
        ).first()
        return {
            "call": tuple(row[:2]) if row else None,
            "ended": row is not None and row[2] is not None,
            "turns": await s.scalar(
                text("SELECT count(*) FROM call_turns WHERE call_id = :i"), {"i": call_id}
            ),
            "readings": await s.scalar(
                text("SELECT count(*) FROM readings WHERE call_id = :i"), {"i": call_id}
            ),
            "callbacks": await s.scalar(
                text("SELECT count(*) FROM callbacks WHERE source_call_id = :i"), {"i": call_id}
            ),
        }


EXPECTED = {"call": ("ended", "readings_saved"), "ended": True, "turns": 2, "readings": 1, "callbacks": 1}


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
async def test_records_written_during_an_outage_are_replayed_once(db, pg_proxy, proxied_url, tmp_path, mode):
    account, meter = await _seed_meter(db)
    records = await CallRecords.open(
        proxied_url, tmp_path / "journal.sqlite3", read_timeout=0.5, write_wait=1.0
    )
    records.replayer.statement_timeout = 1.0
    try:
        before = await _one_call(records, account, meter)  # database up: written straight through
        assert await _counts(db, before) == EXPECTED

        await pg_proxy.cut(mode)
        during = await asyncio.wait_for(_one_call(records, account, meter), WRITE_BOUND)
        assert (await _counts(db, during))["call"] is None  # nothing reached PostgreSQL …
        backlog = await records.journal.backlog()
        assert backlog.pending >= 5  # … everything waits on local disk

        pg_proxy.restore()
        assert await records.replayer.drain(within=30)
        assert await _counts(db, during) == EXPECTED
        assert await _counts(db, before) == EXPECTED
    finally:
        await records.close()


async def test_a_database_closed_to_connections_is_an_outage_not_a_bad_entry(
    db, pg_proxy, proxied_url, tmp_path
):
    """Seen on the real exchange: `ALTER DATABASE … ALLOW_CONNECTIONS false` for 8 s made every journal
    entry of the calls in progress "refused by the database" (SQLSTATE 55000 at connect) after three
    tries: their ends and callbacks were never written. A server that will not open a session is an
    outage; the entries wait for it."""
    account, meter = await _seed_meter(db)
    records = await CallRecords.open(
        proxied_url, tmp_path / "journal.sqlite3", read_timeout=0.5, write_wait=1.0
    )
    records.replayer.statement_timeout = 1.0
    try:
        await pg_proxy.cut("reject")
        call_id = await asyncio.wait_for(_one_call(records, account, meter), WRITE_BOUND)
        for _ in range(5):  # more rounds than an entry's attempts: none of them may count against it
            assert await records.replayer.replay_once() == -1
        backlog = await records.journal.backlog()
        assert (backlog.pending >= 5, backlog.failed) == (True, 0)
        assert not records.replayer.database_up

        pg_proxy.restore()
        assert await records.replayer.drain(within=30)
        assert await _counts(db, call_id) == EXPECTED
        assert (await records.journal.backlog()).failed == 0
    finally:
        await records.close()


async def test_an_entry_applied_just_before_a_crash_is_not_applied_twice(db, proxied_url, tmp_path):
    account, meter = await _seed_meter(db)
    path = tmp_path / "journal.sqlite3"
    records = await CallRecords.open(proxied_url, path)
    call_id = await _one_call(records, account, meter)
    await records.close()
    # The crash window: PostgreSQL committed, the local file never heard of it.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE entries SET state = 'pending'")
    records = await CallRecords.open(proxied_url, path)
    try:
        assert await records.replayer.drain(within=30)
        assert await _counts(db, call_id) == EXPECTED
    finally:
        await records.close()


async def test_the_journal_survives_a_restart_during_the_outage(db, pg_proxy, proxied_url, tmp_path):
    account, meter = await _seed_meter(db)
    path = tmp_path / "journal.sqlite3"
    await pg_proxy.cut("refuse")
    records = await CallRecords.open(proxied_url, path, read_timeout=0.5)
    call_id = await asyncio.wait_for(_one_call(records, account, meter), WRITE_BOUND)
    await records.close()  # the process goes away with the database still down

    pg_proxy.restore()
    records = await CallRecords.open(proxied_url, path)
    try:
        assert await records.replayer.drain(within=30)
        assert await _counts(db, call_id) == EXPECTED
    finally:
        await records.close()


async def test_voice_messages_and_missed_callers_reported_during_an_outage_are_kept(db, pg_proxy, records):
    """Seen on the real exchange: the dialplan's `VoicebotVoiceMessage` event (an overflowed caller hanging
    up after the beep) and Asterisk's missed/abandoned reports were written straight to PostgreSQL and
    dropped while it was away. Through the journal they wait for it."""
    from voicebot.asterisk.ami_protocol import AMIMessage
    from voicebot.sla.missed import MissedCallWatcher

    watcher = MissedCallWatcher(records.db, clock=lambda: datetime.now(UTC), writer=records.writer)
    await pg_proxy.cut("reject")
    wav = "/nonexistent/vm.wav"  # its length is read at replay; unreadable here, the row is kept anyway
    voice = AMIMessage([("Event", "UserEvent"), ("UserEvent", "VoicebotVoiceMessage"), ("CallerIDNum", "89161110001"),
                        ("File", wav), ("Status", "HANGUP"), ("Reason", "overflow"),
                        ("VoicebotUUID", "")])  # fmt: skip
    missed = AMIMessage([("Event", "Hangup"), ("Context", "voicebot-inbound"), ("ChannelState", "4"),
                         ("CallerIDNum", "89161110002")])  # fmt: skip
    abandoned = AMIMessage([("Event", "QueueCallerAbandon"), ("CallerIDNum", "89161110003")])
    for handler, message in ((watcher.on_user_event, voice), (watcher.on_hangup, missed),
                             (watcher.on_abandon, abandoned)):  # fmt: skip
        await asyncio.wait_for(handler(message), WRITE_BOUND)
    assert (await records.journal.backlog()).pending == 3

    pg_proxy.restore()
    assert await records.replayer.drain(within=30)
    async with db.session() as s:
        messages = (await s.execute(text("SELECT phone, recording_path FROM voice_messages"))).all()
        callbacks = dict((await s.execute(text("SELECT phone, reason FROM callbacks"))).all())
    assert messages == [("+79161110001", wav)]
    assert callbacks == {"+79161110001": "overflow", "+79161110002": "missed", "+79161110003": "abandoned"}
    assert (await records.journal.backlog()).failed == 0
