"""The FastAGI inbound router through the Asterisk AGI emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.emulators.agi_client import AGIClientEmulator, HangupScript
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.db.models import Account, AccountPhone, Call, Callback, Outage, OutageBuilding
from voicebot.sla.inbound import DialogueCapacity, InboundRouter, parse_scenario_map

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


class Registry:
    def __init__(self) -> None:
        self.entries: dict[uuid.UUID, tuple] = {}
        self.outages: dict[uuid.UUID, str] = {}

    def announce(self, call_uuid, scenario, phone=None, variables=None, direction=None, campaign_id=None,
                 contact_id=None, outage=None):  # fmt: skip
        self.entries[call_uuid] = (scenario, phone, variables, direction)
        if outage is not None:
            self.outages[call_uuid] = outage

    def __len__(self) -> int:
        return len(self.entries)


class Busy:
    def __init__(self) -> None:
        self.active = 0

    def __call__(self) -> int:
        return self.active


@pytest.fixture
async def setup(db) -> AsyncIterator[tuple]:
    registry, busy = Registry(), Busy()
    router = InboundRouter(
        db,
        DialogueCapacity(2, busy),
        registry=registry,
        scenarios=parse_scenario_map("74951234567=request_intake, +100=meter_readings"),
        clock=lambda: NOW,
        offer_ttl=0.5,
    )
    async with FastAGIServer({"inbound": router}, host="127.0.0.1", port=0) as server:
        yield server, router, registry, busy
    await router.close()


def peer(server, **kwargs) -> AGIClientEmulator:
    return AGIClientEmulator("127.0.0.1", server.port, args=(kwargs.pop("dialled", "74951234567"),), **kwargs)


async def test_admitted_call_gets_id_scenario_and_dialogue(setup, db):
    server, router, registry, _ = setup
    client = peer(server, callerid="89161234567")
    await client.run()
    call_id = uuid.UUID(client.variables["VOICEBOT_UUID"])
    assert client.variables["VOICEBOT_ACTION"] == "dialogue"
    assert client.variables["VOICEBOT_SCENARIO"] == "request_intake"
    assert client.commands[0].startswith('SET VARIABLE VOICEBOT_UUID "')
    assert registry.entries[call_id] == (
        "request_intake",
        "+79161234567",
        {"dialed": "74951234567"},
        "inbound",
    )
    # The router reports the offer to the call ledger, the dialogue runtime its start: one row, both times.
    await router.flush()
    await router.records.ledger.started(call_id, direction="inbound", channel="voice", scenario="request_intake",
                                        started_at=NOW + timedelta(seconds=2), phone="+79161234567")  # fmt: skip
    async with db.session() as session:
        row = await session.get(Call, call_id)
    assert row.offered_at == NOW and row.dialed == "74951234567"
    assert row.answered_at == NOW + timedelta(seconds=2) and row.status == "active"
    await asyncio.sleep(0.7)  # past offer_ttl: a started call is never recorded as missed
    async with db.session() as session:
        assert (await session.get(Call, call_id)).outcome is None
        assert (await session.execute(select(Callback))).first() is None


async def test_unknown_number_goes_to_the_router_scenario(setup):
    server, _, _, _ = setup
    client = peer(server, dialled="74950000000")
    await client.run()
    assert client.variables["VOICEBOT_SCENARIO"] == "inbound_router"
    client = peer(server, dialled="100")
    await client.run()
    assert client.variables["VOICEBOT_SCENARIO"] == "meter_readings"


async def test_outage_at_the_callers_building_routes_to_the_announcing_router(setup, db):
    server, _, registry, busy = setup
    async with db.transaction() as session:
        account_id = await session.scalar(
            insert(Account).values(number="100200", address="ул. Ленина, 5", street="Ленина", house="5")
            .returning(Account.id)
        )  # fmt: skip
        await session.execute(insert(AccountPhone).values(account_id=account_id, phone="+79161234567"))
        session.add(
            Outage(
                message="Нет воды",
                starts_at=NOW - timedelta(hours=1),
                buildings=[OutageBuilding(street="ленина", house="5")],
            )
        )
    client = peer(server, callerid="+79161234567")
    await client.run()
    assert client.variables["VOICEBOT_SCENARIO"] == "inbound_router"
    assert registry.outages[uuid.UUID(client.variables["VOICEBOT_UUID"])] == "Нет воды"
    other = peer(server, callerid="+79169999999")
    await other.run()
    assert other.variables["VOICEBOT_SCENARIO"] == "request_intake"
    assert uuid.UUID(other.variables["VOICEBOT_UUID"]) not in registry.outages
    # The announcement needs no dialogue slot: with every slot taken the caller still goes to the bot.
    busy.active = 2
    again = peer(server, callerid="+79161234567")
    await again.run()
    assert again.variables["VOICEBOT_ACTION"] == "dialogue"
    assert uuid.UUID(again.variables["VOICEBOT_UUID"]) in registry.outages
    late = peer(server, callerid="+79169999999")
    await late.run()
    assert late.variables["VOICEBOT_ACTION"] == "overflow"


async def test_company_wide_outage_reaches_every_caller(setup, db):
    server, _, registry, busy = setup
    busy.active = 2
    async with db.transaction() as session:
        session.add(Outage(message="Авария на подстанции", starts_at=NOW - timedelta(hours=1)))
    for callerid in ("+79169999999", "unknown"):
        client = peer(server, callerid=callerid)
        await client.run()
        assert client.variables["VOICEBOT_ACTION"] == "dialogue"
        assert registry.outages[uuid.UUID(client.variables["VOICEBOT_UUID"])] == "Авария на подстанции"


async def test_overflow_is_answered_recorded_and_called_back(setup, db):
    server, router, registry, busy = setup
    busy.active = 2
    client = peer(server, callerid="+79161234567")
    await client.run()
    assert client.variables["VOICEBOT_ACTION"] == "overflow"
    assert registry.entries == {}
    await router.flush()
    call_id = uuid.UUID(client.variables["VOICEBOT_UUID"])
    async with db.session() as session:
        row = await session.get(Call, call_id)
        callback = (await session.execute(select(Callback))).scalar_one()
    # The dialplan answered it (Answer() comes before routing) and it heard the message: answered.
    assert row.outcome == "overflow" and row.offered_at == NOW and row.answered_at == NOW
    assert callback.reason == "overflow" and callback.phone == "+79161234567"
    assert callback.source_call_id == call_id and callback.due_at == NOW + timedelta(minutes=1)


async def test_anonymous_overflow_gets_no_callback(setup, db):
    server, router, _, busy = setup
    busy.active = 5
    client = peer(server, callerid="unknown")
    await client.run()
    await router.flush()
    assert client.variables["VOICEBOT_ACTION"] == "overflow"
    async with db.session() as session:
        assert (await session.execute(select(Callback))).first() is None


async def test_caller_hanging_up_during_routing_is_a_missed_call(setup, db):
    server, router, _, _ = setup
    client = peer(server, callerid="+79161234567", hangup=HangupScript("SET VARIABLE VOICEBOT_SCENARIO"))
    await client.run()
    await router.flush()
    async with db.session() as session:
        row = (await session.execute(select(Call))).scalar_one()
        callback = (await session.execute(select(Callback))).scalar_one()
    assert row.outcome == "missed" and callback.reason == "missed"


async def test_admitted_call_that_never_reaches_the_bot_becomes_missed(setup, db):
    server, router, _, _ = setup
    client = peer(server, callerid="+79161234567")
    await client.run()
    await router.flush()
    for _ in range(40):  # offer_ttl is 0.5 s in this fixture
        async with db.session() as session:
            callback = (await session.execute(select(Callback))).scalar_one_or_none()
        if callback:
            break
        await asyncio.sleep(0.1)
    assert callback is not None and callback.reason == "missed"


async def test_a_broken_database_still_answers(setup, db):
    server, router, _, busy = setup
    busy.active = 9

    class Down:
        def transaction(self):
            raise ConnectionError("database down")

    router.db = Down()  # type: ignore[assignment]
    client = peer(server)
    await client.run()
    await router.flush()
    assert client.variables["VOICEBOT_ACTION"] == "overflow"


def test_scenario_map_errors():
    assert parse_scenario_map("") == {}
    with pytest.raises(ValueError, match="NUMBER=scenario"):
        parse_scenario_map("74951234567")


async def test_advertised_audiosocket_pairs_the_call_with_this_process(setup):
    server, router, _, busy = setup
    router.audiosocket_target = "10.0.0.7:9092"
    client = peer(server)
    await client.run()
    assert client.variables["VOICEBOT_AUDIOSOCKET"] == "10.0.0.7:9092"
    assert client.commands[-1].startswith("SET VARIABLE VOICEBOT_ACTION")  # the action comes last
    busy.active = 9
    overflow = peer(server)
    await overflow.run()
    assert "VOICEBOT_AUDIOSOCKET" not in overflow.variables
