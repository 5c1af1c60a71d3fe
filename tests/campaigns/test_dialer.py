"""The dialer against a real database with a fake telephone and a fake clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.campaigns.helpers import FakeClock, FakePhone, write_dialogue_row
from voicebot.asterisk.ami_originate import OriginateResult
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.store import (
    CampaignError,
    campaign_progress,
    cancel_campaign,
    create_campaign,
    pause_campaign,
    resume_campaign,
)
from voicebot.db.models import Callback, Campaign, CampaignContact, DoNotCall
from voicebot.sla.callbacks import CallbackQueue

# Wednesday 12:00 in Moscow
NOON = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def rows(n: int, **extra: str) -> list[dict[str, str]]:
    return [{"phone": f"+7916000{i:04d}", "full_name": "Иванов", "amount": "100", **extra} for i in range(n)]


async def contacts(db) -> dict[str, CampaignContact]:
    async with db.session() as session:
        result = await session.execute(select(CampaignContact))
        return {c.phone: c for c in result.scalars()}


async def make(db, n=3, scenario="announcement", start=True, **kwargs):
    data = [{"phone": f"+7916000{i:04d}", "message": "Отключение воды"} for i in range(n)]
    report = await create_campaign(
        db, name="t", scenario=scenario, rows=data, calls_per_second=100, start=start, **kwargs
    )
    assert report.campaign_id is not None
    return report.campaign_id


async def test_campaign_runs_to_done_with_dialogue_outcomes(db):
    clock = FakeClock(NOON)
    campaign_id = await make(db, 4, max_concurrent=10)
    phone = FakePhone(db, outcome="informed", clock=clock)
    dialer = Dialer(db, phone, clock=clock, max_calls=10)
    assert await dialer.tick() == 4
    await dialer.wait_idle()
    assert {r.campaign_id for r in phone.dialled} == {campaign_id}
    assert all(r.direction == "outbound" and r.variables["message"] for r in phone.dialled)
    await dialer.tick()  # settles: the calls rows carry outcomes
    by_phone = await contacts(db)
    assert {c.state for c in by_phone.values()} == {"done"}
    assert {c.outcome for c in by_phone.values()} == {"informed"}
    assert all(c.attempts == 1 and c.lease_owner is None for c in by_phone.values())
    progress = await campaign_progress(db, campaign_id)
    assert progress.status == "finished" and progress.by_state == {"done": 4}
    assert progress.by_outcome == {"informed": 4}
    assert await dialer.tick() == 0


@pytest.mark.parametrize(
    ("result", "rule_delay", "final_after"),
    [
        (OriginateResult.BUSY, timedelta(minutes=15), 3),
        (OriginateResult.NO_ANSWER, timedelta(hours=1), 3),
        (OriginateResult.CONGESTION, timedelta(minutes=30), 2),
        (OriginateResult.FAILED, timedelta(minutes=30), 2),
        (OriginateResult.UNKNOWN, timedelta(minutes=30), 2),
    ],
)
async def test_originate_results_map_to_retries(db, result, rule_delay, final_after):
    clock = FakeClock(NOON)
    await make(db, 1)
    phone = FakePhone(db, {"+79160000000": [result] * 5})
    dialer = Dialer(db, phone, clock=clock)
    for attempt in range(1, final_after + 1):
        assert await dialer.tick() == 1
        await dialer.wait_idle()
        contact = (await contacts(db))["+79160000000"]
        assert contact.attempts == attempt and contact.last_result == result.value
        if attempt < final_after:
            assert contact.state == "pending"
            assert contact.next_attempt_at == clock.now + rule_delay
            assert await dialer.tick() == 0  # not due yet
            clock.now = contact.next_attempt_at
    assert contact.state == "failed" and contact.outcome == result.value
    assert len(phone.dialled) == final_after


async def test_retry_policy_from_campaign_settings(db):
    clock = FakeClock(NOON)
    await make(db, 1, settings={"retry": {"busy": {"delay_minutes": 2, "max_attempts": 2}}})
    phone = FakePhone(db, {"+79160000000": [OriginateResult.BUSY, OriginateResult.ANSWERED]})
    dialer = Dialer(db, phone, clock=clock)
    await dialer.tick()
    await dialer.wait_idle()
    assert (await contacts(db))["+79160000000"].next_attempt_at == NOON + timedelta(minutes=2)
    clock.advance(minutes=2)
    await dialer.tick()
    await dialer.wait_idle()
    await dialer.tick()
    contact = (await contacts(db))["+79160000000"]
    assert contact.state == "done" and contact.attempts == 2


async def test_calling_window_in_the_contacts_time_zone(db):
    # 21:30 in Moscow = 04:30 next day in Vladivostok (Thursday): neither may be called now.
    clock = FakeClock(datetime(2026, 3, 11, 18, 30, tzinfo=UTC))
    data = [
        {"phone": "+79160000001", "message": "m", "timezone": "Europe/Moscow"},
        {"phone": "+79160000002", "message": "m", "timezone": "Asia/Vladivostok"},
        {"phone": "+79160000003", "message": "m", "timezone": "Asia/Vladivostok"},
    ]
    await create_campaign(db, name="w", scenario="announcement", rows=data, start=True, calls_per_second=50)
    phone = FakePhone(db)
    dialer = Dialer(db, phone, clock=clock)
    assert await dialer.tick() == 1  # Moscow 21:30 is inside 08–22
    await dialer.wait_idle()
    assert [r.phone for r in phone.dialled] == ["+79160000001"]
    later = await contacts(db)
    # Vladivostok (UTC+10): Thursday 08:00 local = Wednesday 22:00 UTC
    assert later["+79160000002"].next_attempt_at == datetime(2026, 3, 11, 22, 0, tzinfo=UTC)
    assert later["+79160000002"].attempts == 0 and later["+79160000002"].state == "pending"
    clock.now = datetime(2026, 3, 11, 22, 0, tzinfo=UTC)
    assert await dialer.tick() == 2


async def test_do_not_call_list_blocks(db):
    clock = FakeClock(NOON)
    await make(db, 2)
    async with db.transaction() as session:
        await session.execute(insert(DoNotCall).values(phone="+79160000001", reason="opt_out"))
    phone = FakePhone(db)
    dialer = Dialer(db, phone, clock=clock)
    assert await dialer.tick() == 1
    contact = (await contacts(db))["+79160000001"]
    assert contact.state == "blocked" and contact.outcome == "do_not_call" and contact.attempts == 0


async def test_max_concurrent_and_cps(db):
    clock = FakeClock(NOON)
    campaign_id = await make(db, 6, max_concurrent=2)
    async with db.transaction() as session:
        await session.execute(
            Campaign.__table__.update().where(Campaign.id == campaign_id).values(calls_per_second=10)
        )
    phone = FakePhone(db)
    phone.hold = asyncio.Event()
    dialer = Dialer(db, phone, clock=clock, max_calls=10)
    assert await dialer.tick() == 2
    assert await dialer.tick() == 0  # two in flight = max_concurrent
    phone.hold.set()
    started = time.monotonic()
    await dialer.wait_idle()
    await dialer.tick()  # settles the two, claims two more
    await dialer.wait_idle()
    assert time.monotonic() - started >= 0.09  # 10 calls/s: 0.1 s between originates
    assert len(phone.dialled) == 4


async def test_pause_resume_cancel(db):
    clock = FakeClock(NOON)
    campaign_id = await make(db, 3, start=False)
    phone = FakePhone(db)
    dialer = Dialer(db, phone, clock=clock, max_calls=1)
    assert await dialer.tick() == 0  # draft
    await resume_campaign(db, campaign_id)
    assert await dialer.tick() == 1
    await dialer.wait_idle()
    assert await pause_campaign(db, campaign_id) == "paused"
    assert await dialer.tick() == 0
    assert len(phone.dialled) == 1
    await resume_campaign(db, campaign_id)
    assert await dialer.tick() == 1
    await dialer.wait_idle()
    assert await cancel_campaign(db, campaign_id) == "cancelled"
    assert await dialer.tick() == 0
    states = sorted(c.state for c in (await contacts(db)).values())
    assert states == ["cancelled", "done", "done"]
    with pytest.raises(CampaignError):
        await resume_campaign(db, campaign_id)


async def test_callbacks_outrank_campaign_calls(db):
    clock = FakeClock(NOON)
    await make(db, 3)
    async with db.transaction() as session:
        await session.execute(
            insert(Callback).values(phone="+79169999999", reason="missed", missed_at=NOON, due_at=NOON)
        )
    phone = FakePhone(db, outcome="hangup")
    queue = CallbackQueue(db, worker="w1")
    dialer = Dialer(db, phone, clock=clock, max_calls=1, callbacks=queue, worker="w1")
    assert await dialer.tick() == 1
    await dialer.wait_idle()
    assert phone.dialled[0].phone == "+79169999999" and phone.dialled[0].callback_id is not None
    await dialer.tick()
    async with db.session() as session:
        callback = (await session.execute(select(Callback))).scalar_one()
    assert callback.status == "done" and callback.attempts == 1
    assert callback.placed_call_id == phone.dialled[0].call_id


async def test_unreachable_telephony_puts_work_back(db):
    clock = FakeClock(NOON)
    await make(db, 1)

    async def broken(request):
        raise ConnectionError("AMI down")

    dialer = Dialer(db, broken, clock=clock)
    assert await dialer.tick() == 1
    await dialer.wait_idle()
    contact = (await contacts(db))["+79160000000"]
    assert contact.state == "pending" and contact.attempts == 0 and contact.lease_owner is None
    assert contact.next_attempt_at == NOON + timedelta(seconds=30)


async def test_answered_without_dialogue_is_retried(db):
    clock = FakeClock(NOON)
    await make(db, 1)
    phone = FakePhone(db, outcome=None)  # answered, but no dialogue ever wrote a row (machine)
    dialer = Dialer(db, phone, clock=clock)
    await dialer.tick()
    await dialer.wait_idle()
    assert (await contacts(db))["+79160000000"].state == "in_progress"
    clock.advance(minutes=4)
    await dialer.tick()
    contact = (await contacts(db))["+79160000000"]
    assert contact.last_result == "no_dialogue" and contact.state == "pending"


async def test_every_callback_is_an_outbound_call_flagged_as_a_callback(db):
    clock = FakeClock(NOON)
    async with db.transaction() as session:
        await session.execute(insert(Callback).values([
            dict(phone="+79169999991", reason="requested", scenario="debt_reminder", missed_at=None, due_at=NOON),
            dict(phone="+79169999992", reason="missed", scenario=None, missed_at=NOON, due_at=NOON),
        ]))  # fmt: skip
    phone = FakePhone(db, outcome=None)
    dialer = Dialer(db, phone, clock=clock, callbacks=CallbackQueue(db, worker="w"), worker="w")
    await dialer.tick()
    await dialer.wait_idle()
    got = {r.phone: (r.scenario, r.direction, r.variables["callback"]) for r in phone.dialled}
    assert got == {
        "+79169999991": ("debt_reminder", "outbound", "1"),
        "+79169999992": ("inbound_router", "outbound", "1"),  # the bot placed it (issue 10 item 9)
    }


async def test_callbacks_wait_for_calling_hours(db):
    night = datetime(2026, 3, 11, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    async with db.transaction() as session:
        await session.execute(insert(Callback).values(phone="+79169999991", reason="missed", due_at=night))
    phone = FakePhone(db)
    dialer = Dialer(db, phone, clock=FakeClock(night), callbacks=CallbackQueue(db, worker="w"), worker="w")
    assert await dialer.tick() == 0
    async with db.session() as session:
        callback = (await session.execute(select(Callback))).scalar_one()
    assert callback.status == "pending" and callback.due_at == datetime(2026, 3, 12, 5, 0, tzinfo=UTC)


async def test_campaigns_leave_lines_for_callbacks(db):
    clock = FakeClock(NOON)
    await make(db, 10, max_concurrent=10)
    phone = FakePhone(db)
    phone.hold = asyncio.Event()  # campaign calls stay up
    queue = CallbackQueue(db, worker="w")
    dialer = Dialer(db, phone, clock=clock, max_calls=5, callbacks=queue, worker="w", callback_reserve=1)
    assert await dialer.tick() == 4
    async with db.transaction() as session:
        await session.execute(insert(Callback).values(phone="+79169999999", reason="missed", due_at=NOON))
    assert await dialer.tick() == 1
    await asyncio.sleep(0.1)  # campaign calls are paced (100/s): let every placement reach the phone
    assert sum(1 for r in phone.dialled if r.callback_id is not None) == 1 and len(phone.dialled) == 5
    phone.hold.set()
    await dialer.wait_idle()


async def test_dialogue_that_never_ends_frees_its_line(db):
    clock = FakeClock(NOON)
    await make(db, 1)
    phone = FakePhone(db, outcome=None)

    async def answered_without_outcome(request):
        result = await phone(request)
        await write_dialogue_row(db, request, None)
        return result

    dialer = Dialer(db, answered_without_outcome, clock=clock)
    await dialer.tick()
    await dialer.wait_idle()
    clock.advance(minutes=30)
    await dialer.tick()
    assert dialer.in_flight == 1
    clock.advance(minutes=31)
    await dialer.tick()
    assert dialer.in_flight == 0
    contact = (await contacts(db))["+79160000000"]
    assert contact.state == "done" and contact.outcome == "unfinished"


async def test_callbacks_wait_for_a_free_dialogue_slot(db):
    clock = FakeClock(NOON)
    async with db.transaction() as session:
        await session.execute(insert(Callback).values(
            phone="+79169999993", reason="overflow", scenario=None, missed_at=NOON, due_at=NOON))  # fmt: skip
    phone = FakePhone(db, outcome="hangup")
    slots = [0]
    dialer = Dialer(db, phone, clock=clock, callbacks=CallbackQueue(db, worker="w"), worker="w",
                    dialogue_slots=lambda: slots[0])  # fmt: skip
    assert (
        await dialer.tick() == 0
    )  # every dialogue slot taken: calling back now means «все операторы заняты»
    assert phone.dialled == []
    slots[0] = 1
    assert await dialer.tick() == 1
    await dialer.wait_idle()
    assert [r.phone for r in phone.dialled] == ["+79169999993"]
