"""Attacks on the FastAGI router: a foreign peer, sessions without the shared secret, made-up caller ids,
and call backs to numbers that never called. None may take a dialogue slot or make us dial anyone."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, update

from tests.emulators.agi_client import AGIClientEmulator
from tests.sla.test_inbound import Busy, Registry
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.db.callbacks import CallbackRefused, schedule_callback
from voicebot.db.models import Call, Callback
from voicebot.sla.inbound import DialogueCapacity, InboundRouter

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
SECRET = "s3cr3t-agi-token-for-tests"


@pytest.fixture
async def guarded(db) -> AsyncIterator[tuple]:
    registry, busy = Registry(), Busy()
    router = InboundRouter(
        db, DialogueCapacity(20, busy), registry=registry, clock=lambda: NOW, offer_ttl=0.3
    )
    server = FastAGIServer(
        {"inbound": router}, host="127.0.0.1", port=0, allowed_networks="127.0.0.1/32", secret=SECRET
    )
    async with server:
        yield server, router, registry, busy
    await router.close()


def fake(server: FastAGIServer, caller: str, *args: str, source: str | None = None) -> AGIClientEmulator:
    return AGIClientEmulator(
        "127.0.0.1", server.port, args=("74951234567", *args), callerid=caller, source=source
    )


async def _run_quietly(client: AGIClientEmulator) -> None:
    with contextlib.suppress(ConnectionError):  # the server may close before the header is written
        await client.run()


async def _counts(db) -> tuple[int, int]:
    async with db.session() as session:
        calls = await session.scalar(select(func.count()).select_from(Call))
        callbacks = await session.scalar(select(func.count()).select_from(Callback))
    return calls, callbacks


async def test_a_peer_from_a_foreign_address_gets_nothing(guarded, db):
    server, router, registry, _ = guarded
    clients = [fake(server, f"+7916{i:07d}", f"secret={SECRET}", source="127.0.0.2") for i in range(25)]
    await asyncio.gather(*(_run_quietly(c) for c in clients))
    await router.flush()
    assert all(c.commands == [] for c in clients)  # not one AGI command reached a foreign peer
    assert len(registry) == 0 and router.routed == []
    assert await _counts(db) == (0, 0)


async def test_25_sessions_without_the_secret_fill_no_slot_and_queue_no_callback(guarded, db):
    server, router, registry, busy = guarded
    busy.active = 20  # full: every admitted session would become an overflow with a call back
    for extra in ((), ("secret=wrong",), ("secret=",), (f"secret={SECRET}x",)):
        clients = [fake(server, f"+7916{i:07d}", *extra) for i in range(25)]
        await asyncio.gather(*(_run_quietly(c) for c in clients))
        assert all(c.commands == [] for c in clients)
    busy.active = 0
    clients = [fake(server, f"+7916{i:07d}") for i in range(25)]
    await asyncio.gather(*(_run_quietly(c) for c in clients))
    await router.flush()
    assert len(registry) == 0 and router.routed == []
    assert await _counts(db) == (0, 0)


async def test_the_real_asterisk_with_the_secret_is_served_and_never_sees_it(guarded):
    server, router, registry, _ = guarded
    client = fake(server, "+79161234567", f"secret={SECRET}")
    await client.run()
    assert client.variables["VOICEBOT_ACTION"] == "dialogue"
    assert len(registry) == 1
    assert SECRET not in repr(router.routed) and all(SECRET not in c for c in client.commands)


async def test_one_number_is_called_back_at_most_the_hourly_cap(guarded, db):
    server, router, _, busy = guarded
    router.callback_max_per_hour = 3
    busy.active = 20
    for _ in range(6):
        await fake(server, "+79161234567", f"secret={SECRET}").run()
        await router.flush()
        async with db.transaction() as session:  # each call back done: the next miss may queue another
            await session.execute(update(Callback).values(status="done"))
    calls, callbacks = await _counts(db)
    assert calls == 6 and callbacks == 3


async def test_a_callback_to_a_number_that_never_called_is_refused(db):
    call_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(
            insert(Call).values(id=call_id, direction="inbound", channel="voice", phone="+79161234567")
        )
    for phone, source in (("+79990000000", call_id), ("+79161234567", uuid.uuid4())):
        with pytest.raises(CallbackRefused):
            async with db.transaction() as session:
                await schedule_callback(session, phone, "overflow", missed_at=NOW, source_call_id=source)
    async with db.transaction() as session:
        assert await schedule_callback(
            session, "+79161234567", "overflow", missed_at=NOW, source_call_id=call_id
        )
    assert (await _counts(db))[1] == 1
