"""Originate results of every kind, through the AMI emulator, mapped to contact states and retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.campaigns.helpers import FakeClock
from tests.emulators.ami_server import AMIServerEmulator, OriginateScript
from voicebot.asterisk.ami import AMIClient, Backoff
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.placing import AMIPlacer, dial_string
from voicebot.campaigns.store import create_campaign
from voicebot.db.models import CampaignContact

NOON = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
SECRET = "s3cret"


class Registry:
    def __init__(self) -> None:
        self.announced: list[tuple] = []

    def announce(self, call_uuid, scenario, phone=None, variables=None, direction=None, campaign_id=None,
                 contact_id=None):  # fmt: skip
        self.announced.append((call_uuid, scenario, phone, direction, campaign_id, contact_id))


@pytest.fixture
async def ami() -> AsyncIterator[tuple[AMIServerEmulator, AMIClient]]:
    async with AMIServerEmulator(
        secret=SECRET, auth_fail_delay=0.05, channelvars=["VOICEBOT_UUID"]
    ) as server:
        client = AMIClient(
            "127.0.0.1", server.port, "voicebot", SECRET, backoff=Backoff(initial=0.02, maximum=0.1)
        )
        await client.connect()
        yield server, client
        await client.close()


SCRIPTS = {
    "+79160000001": (OriginateScript(reason=4), "in_progress", "answered"),
    "+79160000002": (OriginateScript(reason=5), "pending", "busy"),
    "+79160000003": (OriginateScript(reason=3, delay=0.05), "pending", "no_answer"),
    "+79160000004": (OriginateScript(reason=1), "pending", "no_answer"),
    "+79160000005": (OriginateScript(reason=8), "pending", "congestion"),
    "+79160000006": (OriginateScript(reason=0), "pending", "failed"),
    "+79160000007": (OriginateScript(queue_error="Extension does not exist."), "pending", "failed"),
}
DELAYS = {"busy": timedelta(minutes=15), "no_answer": timedelta(hours=1), "congestion": timedelta(minutes=30),
          "failed": timedelta(minutes=30)}  # fmt: skip


async def test_every_originate_result_maps_to_a_state(db, ami):
    server, client = ami
    for phone, (script, _, _) in SCRIPTS.items():
        server.originate_scripts[dial_string("PJSIP/{number}@voicebot-trunk", phone)] = script
    rows = [{"phone": phone, "message": "m"} for phone in SCRIPTS]
    report = await create_campaign(
        db, name="ami", scenario="announcement", rows=rows, max_concurrent=10, calls_per_second=100, start=True,
        settings={"amd": True},
    )  # fmt: skip
    registry = Registry()
    clock = FakeClock(NOON)
    dialer = Dialer(db, AMIPlacer(client, registry), clock=clock, max_calls=10)
    assert await dialer.tick() == len(SCRIPTS)
    await dialer.wait_idle()
    async with db.session() as session:
        contacts = {c.phone: c for c in (await session.execute(select(CampaignContact))).scalars()}
    for phone, (_, state, result) in SCRIPTS.items():
        contact = contacts[phone]
        assert (contact.state, contact.last_result) == (state, result), phone
        if state == "pending":
            assert contact.next_attempt_at == NOON + DELAYS[result] and contact.attempts == 1
    # The originate carried our call id and the outbound context of extensions.conf.
    originates = [dict(a) | {"Variable": [v for k, v in a if k == "Variable"]}
                  for a in server.actions if dict(a).get("Action") == "Originate"]  # fmt: skip
    answered = next(o for o in originates if o["Channel"] == "PJSIP/79160000001@voicebot-trunk")
    assert answered["Context"] == "voicebot-outbound" and answered["Exten"] == "s"
    call_id = str(contacts["+79160000001"].last_call_id)
    assert f"VOICEBOT_UUID={call_id}" in answered["Variable"]
    assert f"VOICEBOT_CAMPAIGN={report.campaign_id}" in answered["Variable"]
    assert "VOICEBOT_AMD=1" in answered["Variable"]
    assert len(registry.announced) == len(SCRIPTS)
    assert {str(a[0]) for a in registry.announced} >= {call_id}


async def test_ami_down_puts_the_contact_back(db):
    client = AMIClient("127.0.0.1", 1, "voicebot", SECRET)  # never connected
    await create_campaign(
        db, name="down", scenario="announcement", rows=[{"phone": "+79160000001", "message": "m"}], start=True
    )
    dialer = Dialer(db, AMIPlacer(client, None), clock=FakeClock(NOON))
    await dialer.tick()
    await dialer.wait_idle()
    async with db.session() as session:
        contact = (await session.execute(select(CampaignContact))).scalar_one()
    assert contact.state == "pending" and contact.attempts == 0 and contact.last_result == "not_placed"


def test_dial_string_refuses_junk():
    assert dial_string("Local/{phone}@x", "+79161234567") == "Local/+79161234567@x"
    with pytest.raises(ValueError):
        dial_string("PJSIP/{number}@t", "+7916&Dial(x)")
