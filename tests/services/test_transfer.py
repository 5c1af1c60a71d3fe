"""Handing a caller to a human over the AMI emulator: the variables the dialplan reads, the call card,
and the recorded outcome (answered / abandoned / fell back) with its times."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.emulators.ami_server import AMIServerEmulator
from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.channels import ChannelBook
from voicebot.db.models import Account, Call, CallTurn, Ticket, WebhookOutbox
from voicebot.db.session import Database
from voicebot.services.callcard import CardHub
from voicebot.services.transfer import TransferDesk

CHANNEL = "PJSIP/voicebot-trunk-00000007"


class Desk:
    def __init__(self, emulator: AMIServerEmulator, desk: TransferDesk, call_id: uuid.UUID) -> None:
        self.emulator, self.desk, self.call_id = emulator, desk, call_id

    async def handover(self, db: Database) -> dict:
        async with db.session() as session:
            return (await session.get(Call, self.call_id)).meta.get("handover", {})


@pytest.fixture
async def desk(db: Database) -> AsyncIterator[Desk]:
    call_id = uuid.uuid4()
    async with db.transaction() as session:
        account_id = await session.scalar(
            insert(Account).values(number="07234501", address="ул. Гагарина, д. 15, кв. 42",
                                   owner="Орлова Наталья Петровна").returning(Account.id)
        )  # fmt: skip
        await session.execute(insert(Call).values(
            id=call_id, direction="inbound", channel="voice", scenario="inbound_router", phone="+79161234501",
            status="ended", outcome="transferred", account_id=account_id, started_at=datetime.now(UTC),
        ))  # fmt: skip
        await session.execute(insert(CallTurn), [
            {"call_id": call_id, "seq": 1, "speaker": "bot", "text": "Чем могу помочь?"},
            {"call_id": call_id, "seq": 2, "speaker": "caller", "text": "течёт батарея в комнате", "intent": "report_problem"},
            {"call_id": call_id, "seq": 3, "speaker": "caller", "text": "соедините с оператором", "intent": "operator"},
        ])  # fmt: skip
        await session.execute(insert(Ticket).values(
            number="5001", account_id=account_id, category="heating", description="Холодные батареи", status="new",
            due_at=datetime.now(UTC) + timedelta(days=1),
        ))  # fmt: skip
    async with AMIServerEmulator(channelvars=["VOICEBOT_UUID", "VOICEBOT_TRANSFERRED"]) as emulator:
        emulator.add_channel(CHANNEL, {"VOICEBOT_UUID": str(call_id), "VOICEBOT_ACTION": ""})
        ami = AMIClient("127.0.0.1", emulator.port, "voicebot", "s3cret")
        await ami.connect()
        channels = ChannelBook()
        channels.remember(call_id, CHANNEL)
        transfer = TransferDesk(db, ami, channels, CardHub(), operator_queue="operators", wait_seconds=45)
        transfer.attach()
        try:
            yield Desk(emulator, transfer, call_id)
        finally:
            await transfer.flush()
            await ami.close()


async def settled(desk: Desk, db: Database, status: str) -> dict:
    for _ in range(100):
        await desk.desk.flush()
        handover = await desk.handover(db)
        if handover.get("status") == status:
            # The settling task may have stored the handover while this read ran and still be writing
            # its webhook event: let it finish before the caller looks at the outbox.
            await desk.desk.flush()
            return handover
        await asyncio.sleep(0.02)
    raise AssertionError(f"handover never became {status}: {handover}")


async def test_the_dialplan_gets_the_transfer_and_the_operator_gets_the_card(
    desk: Desk, db: Database
) -> None:
    assert await desk.desk.leave(desk.call_id, "transfer", "operators") is True
    variables = desk.emulator.channels[CHANNEL].variables
    assert variables["VOICEBOT_ACTION"] == "transfer" and variables["VOICEBOT_TRANSFER"] == "operators"
    assert variables["VOICEBOT_QUEUE_TIMEOUT"] == "45"
    setvars = [dict(a)["Variable"] for a in desk.emulator.actions if dict(a).get("Action") == "Setvar"]
    assert setvars[-1] == "VOICEBOT_ACTION"  # last: the dialplan acts on it as soon as the leg ends
    [card] = desk.desk.hub.recent
    assert card["phone"] == "+79161234501" and card["account"]["number"] == "07234501"
    assert card["account"]["address"] == "ул. Гагарина, д. 15, кв. 42"
    assert [t["text"] for t in card["understood"]] == ["течёт батарея в комнате", "соедините с оператором"]
    assert [r["number"] for r in card["open_requests"]] == ["5001"]
    assert card["transfer"]["status"] == "offered"
    async with db.session() as session:
        events = (
            (await session.execute(select(WebhookOutbox).where(WebhookOutbox.event_type == "call.transfer")))
            .scalars()
            .all()
        )
    assert [(e.event_type, e.payload["event"]) for e in events] == [("call.transfer", "offered")]
    assert events[0].payload["account"]["number"] == "07234501"


@pytest.mark.parametrize(
    ("queue", "status"), [("answered", "answered"), ("abandoned", "abandoned"), ("timeout", "fell_back")]
)
async def test_the_outcome_and_its_times_are_recorded(
    desk: Desk, db: Database, queue: str, status: str
) -> None:
    await desk.desk.leave(desk.call_id, "transfer", "operators")
    desk.emulator.run_queue(CHANNEL, queue, hold=3)
    handover = await settled(desk, db, status)
    assert handover["target"] == "operators" and handover["wait_seconds"] >= 0
    assert datetime.fromisoformat(handover["settled_at"]) >= datetime.fromisoformat(handover["offered_at"])
    if status == "answered":
        assert handover["operator"] == "PJSIP/operator1" and handover["hold_seconds"] == "3"
    if status == "fell_back":
        assert handover["reason"] == "TIMEOUT"
    assert desk.desk.hub.recent[-1]["transfer"]["status"] == status
    async with db.session() as session:
        query = select(WebhookOutbox.payload).where(WebhookOutbox.event_type == "call.transfer")
        events = (await session.execute(query.order_by(WebhookOutbox.id))).scalars().all()
    assert [e["event"] for e in events] == ["offered", status]


async def test_a_goodbye_is_told_to_the_dialplan_and_an_unknown_call_is_not(desk: Desk) -> None:
    assert await desk.desk.leave(desk.call_id, "hangup") is True
    assert desk.emulator.channels[CHANNEL].variables["VOICEBOT_ACTION"] == "hangup"
    assert await desk.desk.leave(uuid.uuid4(), "hangup") is False


def test_targets_map_to_dialplan_extensions() -> None:
    desk = TransferDesk(None, None, ChannelBook(), dispatcher="PJSIP/dispatcher", wait_seconds=30)  # type: ignore[arg-type]
    assert desk.route("operators") == ("operators", {"VOICEBOT_QUEUE_TIMEOUT": "30"})
    assert desk.route("support") == (
        "operators",
        {"VOICEBOT_QUEUE_TIMEOUT": "30", "VOICEBOT_OPERATOR_QUEUE": "support"},
    )
    assert desk.route("PJSIP/dispatcher") == (
        "dispatcher", {"VOICEBOT_QUEUE_TIMEOUT": "30", "VOICEBOT_DISPATCHER": "PJSIP/dispatcher"}
    )  # fmt: skip
