"""Outbound attempts as a real SIP trunk reports them (AMI emulator): busy as Reason 0 + Hangup Cause 17,
no answer, an answering machine found by AMD; each attempt has its `calls` row and the contact's
last_call_id points at it; a machine is recorded at once and retried per the campaign's policy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.campaigns.helpers import FakeClock
from tests.emulators.ami_server import AMIServerEmulator, OriginateScript
from voicebot.asterisk.ami import AMIClient
from voicebot.campaigns.dialer import Dialer
from voicebot.campaigns.placing import AMIPlacer, HangupCauses, MachineWatcher, dial_string
from voicebot.campaigns.store import create_campaign
from voicebot.db.models import Call, CampaignContact

NOON = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
CHANNELVARS = ["VOICEBOT_UUID", "VOICEBOT_CAMPAIGN", "VOICEBOT_ACTION", "VOICEBOT_AMD_STATUS"]  # manager.conf


@pytest.fixture
async def trunk() -> AsyncIterator[tuple[AMIServerEmulator, AMIClient]]:
    async with AMIServerEmulator(secret="s", channelvars=CHANNELVARS) as server:
        client = AMIClient("127.0.0.1", server.port, "voicebot", "s")
        await client.connect()
        yield server, client
        await client.close()


async def dial(db, server, client, scripts: dict[str, OriginateScript], settings: dict | None = None):  # noqa: ANN001, ANN201
    for phone, script in scripts.items():
        server.originate_scripts[dial_string("PJSIP/{number}@voicebot-trunk", phone)] = script
    await create_campaign(db, name="trunk", scenario="announcement", start=True, max_concurrent=10,
                          calls_per_second=100, rows=[{"phone": p, "message": "m"} for p in scripts],
                          settings=settings or {})  # fmt: skip
    causes = HangupCauses()
    causes.attach(client)
    dialer = Dialer(db, AMIPlacer(client, None, causes=causes), clock=FakeClock(NOON), max_calls=10)
    MachineWatcher(dialer.machine).attach(client)
    assert await dialer.tick() == len(scripts)
    await dialer.wait_idle()
    return dialer


async def rows(db) -> dict[str, tuple[CampaignContact, Call | None]]:  # noqa: ANN001
    async with db.session() as session:
        contacts = (await session.execute(select(CampaignContact))).scalars().all()
        return {c.phone: (c, await session.get(Call, c.last_call_id)) for c in contacts}


async def test_busy_from_a_sip_trunk_is_busy_and_every_attempt_has_its_row(db, trunk) -> None:  # noqa: ANN001
    server, client = trunk
    await dial(db, server, client, {
        "+79160000001": OriginateScript(reason=0, cause=17),  # 486 Busy Here through chan_pjsip
        "+79160000002": OriginateScript(reason=3, delay=0.05),  # rang out: no answer
        "+79160000003": OriginateScript(reason=0, cause=34),  # no circuit: congestion
        "+79160000004": OriginateScript(reason=0),  # no such channel at all: a failure
    })  # fmt: skip
    found = await rows(db)
    expected = {"+79160000001": ("busy", timedelta(minutes=15)), "+79160000002": ("no_answer", timedelta(hours=1)),
                "+79160000003": ("congestion", timedelta(minutes=30)),
                "+79160000004": ("failed", timedelta(minutes=30))}  # fmt: skip
    for phone, (result, delay) in expected.items():
        contact, call = found[phone]
        assert (contact.state, contact.last_result) == ("pending", result), phone
        assert contact.next_attempt_at == NOON + delay
        assert call is not None, f"{phone}: last_call_id points at no calls row"
        assert (call.direction, call.outcome, call.status, call.answered_at) == (
            "outbound",
            result,
            "ended",
            None,
        )
        assert call.contact_id == contact.id and call.ended_at is not None


async def test_an_answering_machine_is_recorded_at_once_and_retried_per_policy(db, trunk) -> None:  # noqa: ANN001
    server, client = trunk
    dialer = await dial(db, server, client, {"+79160000009": OriginateScript(reason=4, amd="MACHINE")},
                        {"amd": True, "retry": {"machine": {"delay_minutes": 90, "max_attempts": 2}}})  # fmt: skip
    for _ in range(100):
        contact, call = (await rows(db))["+79160000009"]
        if contact.last_result == "machine":
            break
        await asyncio.sleep(0.02)
    assert (contact.state, contact.last_result) == ("pending", "machine")
    assert contact.next_attempt_at == NOON + timedelta(minutes=90)
    assert call is not None and call.outcome == "machine" and call.answered_at is not None
    assert dialer.in_flight == 0  # not held for minutes waiting for a dialogue
    originate = next(dict(a) for a in server.actions if dict(a).get("Action") == "Originate")
    assert "VOICEBOT_AMD=1" in [v for k, v in next(a for a in server.actions if dict(a).get("Action") == "Originate")
                                 if k == "Variable"] and originate["Context"] == "voicebot-outbound"  # fmt: skip
