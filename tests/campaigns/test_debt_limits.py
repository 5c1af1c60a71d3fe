"""230-ФЗ: 1 call a day, 2 a week, 8 a month per debtor; 08–22 weekdays, 09–20 days off, local time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.campaigns.helpers import FakeClock, FakePhone, write_dialogue_row
from voicebot.campaigns.calls import CallRequest
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.limits import debt_call_allowed_at
from voicebot.campaigns.policy import CampaignPolicy
from voicebot.campaigns.store import create_campaign
from voicebot.db.models import CampaignContact

MSK = ZoneInfo("Europe/Moscow")
VLAD = ZoneInfo("Asia/Vladivostok")


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_one_call_a_day_reopens_at_local_midnight():
    called = [local(VLAD, 2026, 3, 11, 10, 0)]  # Wednesday
    now = local(VLAD, 2026, 3, 11, 23, 0)
    assert debt_call_allowed_at(called, now, "Asia/Vladivostok") == local(VLAD, 2026, 3, 12, 0, 0)
    # The same moment seen from Moscow is still "today" in Vladivostok.
    assert debt_call_allowed_at(called, now.astimezone(MSK), "Asia/Vladivostok") is not None
    # In Moscow's calendar the call was on the same day too; the next day is free.
    assert debt_call_allowed_at(called, local(VLAD, 2026, 3, 12, 9, 0), "Asia/Vladivostok") is None


def test_two_a_week_reopens_on_monday():
    called = [local(MSK, 2026, 3, 9, 10), local(MSK, 2026, 3, 10, 10)]  # Monday, Tuesday
    assert debt_call_allowed_at(called, local(MSK, 2026, 3, 13, 12), "Europe/Moscow") == local(
        MSK, 2026, 3, 16, 0, 0
    )
    assert debt_call_allowed_at(called, local(MSK, 2026, 3, 16, 9), "Europe/Moscow") is None


def test_eight_a_month_reopens_on_the_first():
    called = [local(MSK, 2026, 3, d, 10) for d in (2, 4, 9, 11, 16, 18, 23, 25)]
    assert debt_call_allowed_at(called, local(MSK, 2026, 3, 31, 12), "Europe/Moscow") == local(
        MSK, 2026, 4, 1, 0, 0
    )
    assert debt_call_allowed_at(called[:7], local(MSK, 2026, 3, 31, 12), "Europe/Moscow") is None


def test_a_week_spanning_two_months_counts_both():
    called = [local(MSK, 2026, 3, 30, 10), local(MSK, 2026, 3, 31, 10)]  # Mon, Tue
    assert debt_call_allowed_at(called, local(MSK, 2026, 4, 2, 10), "Europe/Moscow") == local(
        MSK, 2026, 4, 6, 0, 0
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(MSK, 2026, 3, 11, 7, 59), local(MSK, 2026, 3, 11, 8, 0)),  # Wednesday before 08
        (local(MSK, 2026, 3, 11, 21, 59), None),  # Wednesday inside
        (local(MSK, 2026, 3, 11, 22, 0), local(MSK, 2026, 3, 12, 8, 0)),  # Wednesday 22:00 -> Thursday 08
        (local(MSK, 2026, 3, 13, 22, 30), local(MSK, 2026, 3, 14, 9, 0)),  # Friday night -> Saturday 09
        (local(MSK, 2026, 3, 14, 20, 0), local(MSK, 2026, 3, 15, 9, 0)),  # Saturday 20:00 -> Sunday 09
        (local(MSK, 2026, 3, 8, 8, 30), local(MSK, 2026, 3, 8, 9, 0)),  # 8 March (holiday, Sunday)
        (local(MSK, 2026, 5, 1, 8, 30), local(MSK, 2026, 5, 1, 9, 0)),  # 1 May, a Friday holiday
    ],
)
def test_debt_windows(moment, expected):
    policy = CampaignPolicy.from_settings("debt_reminder", None)
    got = policy.next_call_time(moment.astimezone(UTC), "Europe/Moscow")
    assert got == (moment.astimezone(UTC) if expected is None else expected.astimezone(UTC))


def test_custom_window_is_clipped_to_the_law_for_debts():
    policy = CampaignPolicy.from_settings("debt_reminder", {"windows": {"weekend": ["07:00", "23:00"]}})
    assert (policy.weekend.start.hour, policy.weekend.end.hour) == (9, 20)
    other = CampaignPolicy.from_settings("announcement", {"windows": {"weekend": ["07:00", "23:00"]}})
    assert (other.weekend.start.hour, other.weekend.end.hour) == (7, 23)
    with pytest.raises(ValueError, match="230"):
        CampaignPolicy.from_settings("debt_reminder", {"windows": {"weekday": ["22:30", "23:00"]}})
    with pytest.raises(ValueError, match="unknown"):
        CampaignPolicy.from_settings("announcement", {"retries": {}})


async def _debt_campaign(db, data):
    report = await create_campaign(
        db, name="debt", scenario="debt_reminder", rows=data, start=True, calls_per_second=100
    )
    assert report.campaign_id is not None, report.rejected
    return report.campaign_id


async def test_counters_per_phone_and_account_across_campaigns(db):
    now = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # Wednesday 12:00 MSK
    first = await _debt_campaign(
        db, [{"phone": "+79160000001", "full_name": "А", "amount": "10", "account": "111"}]
    )
    # A call to the same account's other phone earlier today, from another campaign.
    other = await _debt_campaign(
        db, [{"phone": "+79160000009", "full_name": "А", "amount": "10", "account": "111"}]
    )
    async with db.session() as session:
        other_contact = (
            await session.execute(select(CampaignContact).where(CampaignContact.campaign_id == other))
        ).scalar_one()
    await write_dialogue_row(
        db,
        CallRequest(
            uuid.uuid4(), "+79160000009", "debt_reminder", campaign_id=other, contact_id=other_contact.id
        ),
        "promise_to_pay",
        now - timedelta(hours=2),
    )
    # ...and a phone-only match: two calls this week to a number without an account.
    await _debt_campaign(db, [{"phone": "+79160000002", "full_name": "Б", "amount": "10"}])
    for days in (1, 2):
        await write_dialogue_row(
            db,
            CallRequest(uuid.uuid4(), "+79160000002", "debt_reminder"),
            "refused",
            now - timedelta(days=days),
        )
    # A third debtor with no history.
    await _debt_campaign(db, [{"phone": "+79160000003", "full_name": "В", "amount": "10"}])
    async with db.transaction() as session:
        await session.execute(
            CampaignContact.__table__.update()
            .where(CampaignContact.campaign_id == other)
            .values(state="done")
        )
    clock = FakeClock(now)
    phone = FakePhone(db, outcome="promise_to_pay", clock=clock)
    dialer = Dialer(db, phone, clock=clock, max_calls=10)
    await dialer.tick()
    await dialer.wait_idle()
    assert [r.phone for r in phone.dialled] == ["+79160000003"]
    async with db.session() as session:
        rows = {c.phone: c for c in (await session.execute(select(CampaignContact))).scalars()}
    # account 111: today's call used the day -> tomorrow 00:00 MSK (+ window 08:00)
    assert rows["+79160000001"].next_attempt_at == datetime(2026, 3, 12, 5, 0, tzinfo=UTC)
    # two calls this week (Mon, Tue) -> next Monday 08:00 MSK
    assert rows["+79160000002"].next_attempt_at == datetime(2026, 3, 16, 5, 0, tzinfo=UTC)
    assert first


async def test_two_contacts_of_one_debtor_in_one_batch_get_one_call(db):
    now = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    await _debt_campaign(
        db,
        [
            {"phone": "+79160000001", "full_name": "А", "amount": "10", "account": "222"},
            {"phone": "+79160000002", "full_name": "А", "amount": "10", "account": "222"},
        ],
    )
    phone = FakePhone(db, outcome=None)
    dialer = Dialer(db, phone, clock=FakeClock(now), max_calls=10)
    assert await dialer.tick() == 1


async def test_a_debt_call_in_progress_elsewhere_counts(db):
    """Another process is dialling this debtor right now (in progress, no calls row yet): not again today."""
    now = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    first = await _debt_campaign(
        db, [{"phone": "+79160000001", "full_name": "А", "amount": "10", "account": "333"}]
    )
    await _debt_campaign(db, [{"phone": "+79160000002", "full_name": "А", "amount": "10", "account": "333"}])
    async with db.transaction() as session:
        await session.execute(
            CampaignContact.__table__.update()
            .where(CampaignContact.campaign_id == first)
            .values(state="in_progress", lease_owner="other", lease_expires_at=now + timedelta(minutes=1),
                    last_call_id=uuid.uuid4(), attempts=1)
        )  # fmt: skip
    phone = FakePhone(db, outcome=None)
    dialer = Dialer(db, phone, clock=FakeClock(now), max_calls=10)
    assert await dialer.tick() == 0
