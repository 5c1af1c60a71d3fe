"""PostgreSQL goes away around live voice calls (issue 12, items 1, 2 and the /metrics bar).

Real PostgreSQL behind a TCP proxy the test cuts, real AudioSocket calls through the emulator, the
records going through the local journal exactly as in `serve`. Each test asserts the caller was served
(the dialogue or the overflow message, never silence or a dropped call), and once the database is back,
that nothing was lost and nothing written twice.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.calls.test_voice_call import voiced, wait_for, wait_quiet
from tests.emulators.audiosocket_peer import AudioSocketPeer
from voicebot.api.app import create_app
from voicebot.calls.records import CallRecords
from voicebot.db.models import Call, Callback, CallTurn

pytestmark = pytest.mark.faults

PHONE = "+79990000001"  # has an account in the demo data


async def _replayed(records: CallRecords) -> None:
    assert await records.replayer.drain(within=30), "the journal did not drain once the database was back"


async def _scrape(app) -> dict[str, float]:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        text = (await http.get("/metrics")).text
    return {
        s.name + "".join(f"[{k}={v}]" for k, v in sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_call_arriving_during_an_outage_hears_the_overflow_message_and_gets_a_callback(
    demo_db,
    make_engine,
    audiosocket,
    records,
    pg_proxy,
):
    engine = make_engine(records=records)
    server = await audiosocket(engine)
    await pg_proxy.cut("refuse")
    call_id = uuid.uuid4()
    engine.registry.announce(call_id, "voicetest", PHONE, direction="inbound")
    peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id).connect()
    peer.start_stream(bytes(320 * 50 * 20))
    assert await peer.wait_ended(30) == "bot_hangup"
    assert len(voiced(peer.audio_frames())) > 100  # the whole message, not a 40 ms hang-up
    assert (await records.journal.backlog()).pending >= 2  # the call row and the callback, on local disk

    pg_proxy.restore()
    await _replayed(records)
    async with demo_db.session() as session:
        row = await session.get(Call, call_id)
        callbacks = (await session.execute(select(Callback).where(Callback.phone == PHONE))).scalars().all()
    assert row.outcome == "overflow" and row.meta.get("overflow") == "database" and row.status == "ended"
    assert [c.source_call_id for c in callbacks] == [call_id] and callbacks[0].reason == "overflow"


async def test_outage_mid_call_loses_neither_outcome_nor_turns_and_metrics_show_it(
    demo_db,
    make_engine,
    audiosocket,
    records,
    pg_proxy,
    settings,
):
    app = create_app(settings, database=demo_db)
    app.state.health.register("journal", records.journal_probe)
    engine = make_engine(records=records)
    server = await audiosocket(engine)
    call_id = uuid.uuid4()
    engine.registry.announce(call_id, "voicelong", PHONE, direction="inbound")
    before = await _scrape(app)
    peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id).connect()
    peer.start_stream(bytes(320 * 50 * 30))
    assert await wait_for(lambda: len(voiced(peer.audio_frames())) > 25, 20)

    await pg_proxy.cut("blackhole")  # the network to the database goes silent mid-prompt
    during = await _scrape(app)
    assert during["voicebot_calls_in_progress[channel=voice][scenario=voicelong]"] >= 1
    frames = "voicebot_audio_frame_lateness_seconds_count"
    assert during[frames] > before.get(frames, 0)  # the call's frames are being paced and measured
    await wait_quiet(peer, 0.0, quiet=0.6, within=40)  # the whole prompt still plays
    assert not peer.ended
    await peer.hang_up()
    assert await wait_for(lambda: call_id not in server.calls, 20)
    after_call = await _scrape(app)
    assert after_call["voicebot_journal_backlog"] > 0  # turns and the outcome wait on local disk
    assert (await app.state.health.check())[1]["journal"]["database_reachable"] is False

    pg_proxy.restore()
    await _replayed(records)
    async with demo_db.session() as session:
        row = await session.get(Call, call_id)
        turns = await session.scalar(
            select(func.count()).select_from(CallTurn).where(CallTurn.call_id == call_id)
        )
        seqs = (
            (await session.execute(select(CallTurn.seq).where(CallTurn.call_id == call_id))).scalars().all()
        )
    assert row.status == "ended" and row.outcome == "hangup" and row.ended_at is not None
    assert row.answered_at is not None and turns >= 1 and len(seqs) == len(set(seqs))
    assert (await _scrape(app))["voicebot_journal_backlog"] == 0


async def test_data_needed_mid_call_is_unavailable_overflow_message_and_callback(
    demo_db,
    make_engine,
    audiosocket,
    records,
    pg_proxy,
):
    engine = make_engine(records=records)
    server = await audiosocket(engine)
    call_id = uuid.uuid4()
    engine.registry.announce(call_id, "voicetest", "+79990000009", direction="inbound")
    peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id).connect()
    peer.start_stream(bytes(320 * 50 * 30))
    await wait_quiet(peer, 0.0)  # "Номер счёта?"
    await pg_proxy.cut("refuse")
    pressed = peer.now()
    for digit in "07234501#":  # the account lookup cannot be answered now
        await peer.send_dtmf(digit)
    await wait_quiet(peer, pressed)
    assert await peer.wait_ended(30) == "bot_hangup"

    pg_proxy.restore()
    await _replayed(records)
    async with demo_db.session() as session:
        row = await session.get(Call, call_id)
        callbacks = (
            (await session.execute(select(Callback).where(Callback.source_call_id == call_id)))
            .scalars()
            .all()
        )
    assert row.status == "ended" and row.outcome == "overflow" and row.meta.get("overflow") == "database"
    assert len(callbacks) == 1 and callbacks[0].phone == "+79990000009"
