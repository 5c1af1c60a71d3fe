"""Transfer to a human, end to end: the caller (AudioSocket emulator) identifies by keypad and is handed
over; the bot tells the dialplan over AMI (emulator), the caller enters the operators' queue, the call
card is on the operator's screen (Chromium via Playwright) within a second of the offer, and the outcome
with its times is stored."""

# ruff: noqa: F811 (the browser fixtures come from tests/web/conftest.py by import)
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from tests.emulators.ami_server import AMIServerEmulator
from tests.emulators.audiosocket_peer import AudioSocketPeer
from tests.web.conftest import base_url, browser, browser_missing, keys, web_app, web_settings  # noqa: F401
from voicebot.asterisk.ami import AMIClient
from voicebot.asterisk.channels import ChannelBook
from voicebot.db.models import Account, Call, Ticket
from voicebot.services.callcard import CardHub
from voicebot.services.transfer import TransferDesk

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
CHANNEL = "PJSIP/voicebot-trunk-0000002a"
PHONE = "+79161234501"


async def eventually(check, within: float = 15.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_caller_asks_for_an_operator_and_the_card_is_on_screen_within_a_second(  # noqa: PLR0915
    demo_db,
    make_engine,
    audiosocket,
    browser,
    base_url,
    web_app,
    keys,
) -> None:
    db = demo_db
    async with db.transaction() as session:
        account_id = await session.scalar(Account.__table__.select().with_only_columns(Account.id).where(
            Account.number == "07234501"))  # fmt: skip
        await session.execute(insert(Ticket).values(
            number="7001", account_id=account_id, category="heating", description="Холодные батареи в спальне",
            status="in_progress", due_at=datetime.now(UTC) + timedelta(days=1)))  # fmt: skip
    call_id = uuid.uuid4()
    hub = CardHub()
    web_app.state.call_cards = hub
    async with AMIServerEmulator(channelvars=["VOICEBOT_UUID", "VOICEBOT_TRANSFERRED"]) as asterisk:
        asterisk.add_channel(CHANNEL, {"VOICEBOT_UUID": str(call_id)})
        ami = AMIClient("127.0.0.1", asterisk.port, "voicebot", "s3cret")
        await ami.connect()
        channels = ChannelBook()
        channels.remember(call_id, CHANNEL)  # what FastAGI `inbound` learns from agi_channel
        desk = TransferDesk(db, ami, channels, hub, operator_queue="operators", wait_seconds=30)
        desk.attach()
        engine = make_engine(on_leave=desk.leave)
        server = await audiosocket(engine)
        context = await browser.new_context(locale="ru-RU", base_url=base_url)
        try:
            page = await context.new_page()
            await page.goto("/operator")
            await page.fill("#key", keys["staff"])
            await page.click("button[type=submit]")
            await page.goto("/operator")
            await eventually(lambda: asyncio.sleep(0, hub.subscribers == 1))  # the page is listening

            # The caller: identifies by keypad; the flow hands them over («Соединяю.»).
            engine.registry.announce(call_id, "voicehandover", PHONE, direction="inbound")
            peer = await AudioSocketPeer("127.0.0.1", server.bound_port, call_uuid=call_id,
                                         inactivity_timeout=None).connect()  # fmt: skip
            await asyncio.sleep(1.0)
            for digit in "07234501#":
                await peer.send_dtmf(digit)
            assert await peer.wait_ended(30) == "bot_hangup"  # the bot leaves its leg to the dialplan...
            variables = asterisk.channels[CHANNEL].variables
            assert variables["VOICEBOT_ACTION"] == "transfer"  # ...after telling it where the caller goes
            assert variables["VOICEBOT_TRANSFER"] == "operators"

            card = page.locator(f"#card-{call_id}")
            await card.wait_for(timeout=10_000)
            offered_at = datetime.fromisoformat(await card.get_attribute("data-offered-at"))
            shown_ms = int(await card.get_attribute("data-shown-at"))
            latency = shown_ms / 1000 - offered_at.timestamp()
            assert 0 <= latency < 1.0, f"the card took {latency:.3f} s to reach the operator's screen"
            text = await card.inner_text()
            for expected in (PHONE, "07234501", "ул. Гагарина, д. 15, кв. 42", "№ 7001", "Холодные батареи"):
                assert expected in text, expected
            assert "Ждёт оператора" in text

            # The dialplan puts the caller in the queue; an operator answers after 4 s of ringing.
            asterisk.run_queue(CHANNEL, "answered", hold=4)
            await page.locator(f"#card-{call_id}[data-status=answered]").wait_for(timeout=5_000)
            assert "Оператор ответил" in await page.locator(f"#card-{call_id}").inner_text()

            async def stored() -> bool:
                async with db.session() as session:
                    row = await session.get(Call, call_id)
                return row is not None and row.meta.get("handover", {}).get("status") == "answered"

            await eventually(stored)
            async with db.session() as session:
                row = await session.get(Call, call_id)
            handover = row.meta["handover"]
            assert row.outcome == "transferred" and row.account_id == account_id
            assert handover["target"] == "operators" and handover["operator"] == "PJSIP/operator1"
            assert handover["wait_seconds"] >= 0 and handover["hold_seconds"] == "4"
        finally:
            web_app.state.call_cards = None
            await context.close()
            await desk.flush()
            await ami.close()
