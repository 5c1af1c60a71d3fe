"""Campaigns in MAX: `settings.channel = "max"` (or a contact's own `channel` column) reaches residents
in the messenger with the same scenario, outcome codes and dialer rules as a phone campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.campaigns.helpers import FakeClock, FakePhone
from tests.max.conftest import Resident
from voicebot.campaigns.claims import ContactFilter
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.store import create_campaign
from voicebot.db.models import Call, CampaignContact
from voicebot.max.channel import MaxUnavailable

NOON = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Moscow
MAX = ContactFilter(dialer="max")
MESSAGE = "Завтра с 10 до 14 отключат горячую воду."


@pytest.fixture(autouse=True)
def _channel_at_noon(bot) -> None:  # noqa: ANN001
    """The channel's own legal checks (230-ФЗ quiet hours) read the same moment as the dialers here, not
    the machine's clock: at night in Moscow a debt message is refused, whatever the test's clock says."""
    bot.channel.clock = FakeClock(NOON)


async def _contacts(db) -> dict[str, CampaignContact]:
    async with db.session() as s:
        return {c.phone: c for c in await s.scalars(select(CampaignContact))}


async def test_a_max_campaign_runs_as_conversations_with_the_same_outcomes(db, bot, max_api) -> None:
    natalia = Resident(max_api, 6001)
    await natalia.start()
    await natalia.share_phone("+79161234501")
    await natalia.write("нет, спасибо")
    rows = [{"phone": "+79161234501", "message": MESSAGE}, {"phone": "+79990000001", "message": MESSAGE}]
    report = await create_campaign(db, name="m", scenario="announcement", rows=rows, start=True,
                                   calls_per_second=50, settings={"channel": "max"})  # fmt: skip
    clock = FakeClock(NOON)
    phone_dialer = Dialer(db, FakePhone(db, clock=clock), clock=clock)
    assert await phone_dialer.tick() == 0  # a MAX campaign is not the telephony dialer's
    dialer = Dialer(db, bot.place, clock=clock, contacts=MAX)
    assert await dialer.tick() == 2
    await dialer.wait_idle()
    (announcement,) = await natalia._replies(1)
    assert MESSAGE in announcement.text
    await natalia.write("нет, всё понятно, спасибо")
    await dialer.tick()
    contacts = await _contacts(db)
    reached, absent = contacts["+79161234501"], contacts["+79990000001"]
    assert (reached.state, reached.outcome) == ("done", "announcement_heard")
    # nobody shared that phone with the bot: an attempt that failed, retried by the policy's rule
    assert (absent.state, absent.last_result) == ("pending", "failed")
    assert absent.next_attempt_at == NOON + timedelta(minutes=30)
    async with db.session() as s:  # by id: Natalia's own conversation before the campaign is a call too
        reached_call, absent_call = (
            await s.get(Call, reached.last_call_id),
            await s.get(Call, absent.last_call_id),
        )
    assert reached_call.phone == "+79161234501"
    assert reached_call.channel == "max" and reached_call.campaign_id == report.campaign_id
    assert (absent_call.phone, absent_call.channel, absent_call.outcome) == ("+79990000001", "max", "failed")


async def test_a_contact_who_prefers_max_is_reached_there_from_a_phone_campaign(db, bot, max_api) -> None:
    olga = Resident(max_api, 6002)
    await olga.start()
    await olga.share_phone("+79161234506")
    await olga.write("нет, спасибо")
    rows = [{"phone": "+79161234506", "message": MESSAGE, "channel": "max"},
            {"phone": "+79161110000", "message": MESSAGE}]  # fmt: skip
    await create_campaign(db, name="p", scenario="announcement", rows=rows, start=True, calls_per_second=50)
    clock = FakeClock(NOON)
    phone = FakePhone(db, outcome="announcement_heard", clock=clock)
    # the MAX channel runs (in this process or the other): the phone dialer leaves her to the MAX dialer
    dialer = Dialer(db, phone, clock=clock, contacts=ContactFilter(dialer="voice", skip_max=True))
    messenger = Dialer(db, bot.place, clock=clock, contacts=MAX)
    assert await dialer.tick() == 1
    assert await messenger.tick() == 1
    await dialer.wait_idle()
    await messenger.wait_idle()
    assert [r.phone for r in phone.dialled] == ["+79161110000"]
    (announcement,) = await olga._replies(1)
    assert MESSAGE in announcement.text
    await olga.write("понятно, спасибо")
    await dialer.tick()
    await messenger.tick()
    contacts = await _contacts(db)
    assert {c.state for c in contacts.values()} == {"done"}
    assert contacts["+79161234506"].outcome == "announcement_heard"
    async with db.session() as s:
        channel = await s.scalar(select(Call.channel).where(Call.id == contacts["+79161234506"].last_call_id))
    assert channel == "max"
    # without the MAX channel the phone dialer calls everybody
    await create_campaign(db, name="q", scenario="announcement", rows=rows, start=True, calls_per_second=50)
    assert await Dialer(db, phone, clock=clock).tick() == 2


async def test_a_resident_who_says_do_not_write_gets_no_campaign_until_they_subscribe(
    db, bot, max_api
) -> None:
    irina = Resident(max_api, 6003)
    await irina.start()
    _, menu = await irina.share_phone("+79161234503")
    (stopped,) = await irina.write("Не пишите мне больше, пожалуйста!")  # also ends the open menu
    assert "больше не буду писать вам первой" in stopped.text
    with pytest.raises(MaxUnavailable):
        await bot.channel.start_outbound("+79161234503", "announcement", {"message": MESSAGE})
    rows = [{"phone": "+79161234503", "message": MESSAGE}]
    await create_campaign(
        db, name="o", scenario="announcement", rows=rows, start=True, settings={"channel": "max"}
    )
    dialer = Dialer(db, bot.place, clock=FakeClock(NOON), contacts=MAX)
    assert await dialer.tick() == 0
    (contact,) = (await _contacts(db)).values()
    assert (contact.state, contact.outcome) == ("blocked", "do_not_call")
    # their own questions are still answered
    menu, hint = await irina.write("привет", replies=2)
    assert menu.buttons and "передать показания" in hint.text
    (again,) = await irina.write("подписаться")
    assert "снова буду присылать" in again.text
    await bot.channel.start_outbound("+79161234503", "announcement", {"message": MESSAGE})
    (announcement,) = await irina._replies(1)
    assert MESSAGE in announcement.text


async def test_a_debt_campaign_in_max_counts_messages_not_calls(db, bot, max_api) -> None:
    """230-ФЗ: two phone calls today do not use up the messages; two MAX conversations today do (2 a day)."""
    sergey = Resident(max_api, 6004)
    await sergey.start()
    await sergey.share_phone("+79161234504")
    await sergey.write("нет, спасибо")
    debt = {"phone": "+79161234504", "account_number": "33000031", "full_name": "Козлов Сергей Николаевич",
            "amount": "4870.50"}  # fmt: skip

    async def earlier(channel: str, count: int) -> None:
        async with db.transaction() as s:
            for k in range(count):
                at = NOON - timedelta(hours=k + 1)
                s.add(Call(direction="outbound", channel=channel, scenario="debt_reminder", phone=debt["phone"],
                           status="ended", outcome="hangup", started_at=at, answered_at=at, ended_at=at,
                           variables={"account": "33000031"}))  # fmt: skip

    await earlier("voice", 2)
    await create_campaign(db, name="d1", scenario="debt_reminder", rows=[debt], start=True,
                          settings={"channel": "max"})  # fmt: skip
    dialer = Dialer(db, bot.place, clock=FakeClock(NOON), contacts=MAX)
    assert await dialer.tick() == 1  # the calls are counted apart
    await dialer.wait_idle()
    await sergey._replies(1)
    await sergey.write("до свидания")
    await dialer.tick()
    await earlier("max", 2)  # two messages today in MAX
    await create_campaign(db, name="d2", scenario="debt_reminder", rows=[debt], start=True,
                          settings={"channel": "max"})  # fmt: skip
    assert await dialer.tick() == 0
    async with db.session() as s:
        deferred = await s.scalar(select(CampaignContact).where(CampaignContact.state == "pending"))
    # the next day's first legal hour in Moscow (08:00 on a working day)
    assert deferred.next_attempt_at == datetime(2026, 3, 12, 5, 0, tzinfo=UTC)
