"""The reaper closes calls nobody runs any more as `interrupted`; their inbound callers get a callback."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from voicebot.calls.reaper import Reaper
from voicebot.calls.records import CallRecords
from voicebot.db.models import Call, Callback

NODE = "host-a:9092"


async def _active(db, *, node: str, age: timedelta, direction: str = "inbound", phone: str | None = None):
    call_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(insert(Call).values(
            id=call_id, direction=direction, channel="voice", scenario="inbound_router", phone=phone,
            status="active", started_at=datetime.now(UTC) - age, meta={"node": node},
        ))  # fmt: skip
    return call_id


async def test_dead_calls_are_closed_and_missed_callers_called_back(db):
    records = CallRecords.direct(db, node=NODE)
    born = datetime.now(UTC) - timedelta(seconds=30)
    crashed = await _active(db, node=NODE, age=timedelta(minutes=5), phone="+79161110001")
    crashed_outbound = await _active(db, node=NODE, age=timedelta(minutes=5), direction="outbound",
                                     phone="+79161110002")  # fmt: skip
    other_node_recent = await _active(db, node="host-b:9092", age=timedelta(minutes=5), phone="+79161110003")
    other_node_stale = await _active(db, node="host-b:9092", age=timedelta(hours=3), phone="+79161110004")
    mine_running = uuid.uuid4()  # started by this process after it was born: the ledger knows it
    await records.ledger.started(mine_running, direction="inbound", channel="voice", scenario="inbound_router",
                                 started_at=born - timedelta(seconds=1), phone="+79161110005")  # fmt: skip

    reaper = Reaper(records, node=NODE, stale_after=timedelta(hours=1), born=born)
    assert await reaper.reap_once() == 3
    assert await reaper.reap_once() == 0  # nothing twice

    async with db.session() as session:
        rows = {c.id: c for c in (await session.execute(select(Call))).scalars()}
        callbacks = (await session.execute(select(Callback))).scalars().all()
    for dead in (crashed, crashed_outbound, other_node_stale):
        assert rows[dead].status == "ended" and rows[dead].outcome == "interrupted" and rows[dead].ended_at
    for alive in (other_node_recent, mine_running):
        assert rows[alive].status == "active" and rows[alive].outcome is None
    # inbound callers whose call broke off get a call back; the outbound one is the dialer's to retry
    assert sorted(c.phone for c in callbacks) == ["+79161110001", "+79161110004"]
    assert {c.reason for c in callbacks} == {"missed"}
