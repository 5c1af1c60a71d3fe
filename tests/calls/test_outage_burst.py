"""An outage burst through the Asterisk emulators: 40 callers from an affected building, 2 dialogue slots.

Every caller is routed to the bot by FastAGI and hears the announcement over AudioSocket (checked against
the audio the bot renders, not just "some sound"); it takes no slot and no recogniser. The callers who
stay silent end `announcement_heard` with no callback; the ones who press a key ask for more and compete
for the 2 slots: two get a dialogue, the rest the overflow message and a callback. One who hangs up during
the announcement ends `announcement_partial`.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.emulators.agi_client import AGIClientEmulator
from tests.emulators.audiosocket_peer import AudioSocketPeer
from voicebot.asr import VoskFactory
from voicebot.asterisk.audiosocket import AudioSocketServer
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.calls import outage as outage_calls
from voicebot.calls.admission import Admission
from voicebot.calls.engine import VoiceEngine
from voicebot.calls.registry import CallRegistry
from voicebot.calls.speech import BotVoice
from voicebot.db.models import Account, AccountPhone, Call, Callback, Outage, OutageBuilding
from voicebot.dialogue.library import FlowLibrary
from voicebot.media.pipeline import MediaConfig
from voicebot.runtime import dialogue_capacity
from voicebot.sla.inbound import InboundRouter
from voicebot.tts import CachedTTS, EspeakTTS

CALLERS, SLOTS, ASKING = 40, 2, 6
PHONE = "+7916300{:04d}"


def contains_announcement(received: bytes, expected: bytes) -> bool:
    """The caller got the announcement itself: three 200 ms pieces of it, in order, byte for byte."""
    piece = 6400  # 200 ms at 16 kHz
    at = 0
    for share in (0.2, 0.5, 0.8):
        start = int(len(expected) * share) // 2 * 2
        found = received.find(expected[start : start + piece], at)
        if found < 0:
            return False
        at = found
    return True


@pytest.fixture
def short_listen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage_calls, "LISTEN_SECONDS", 1.5)


async def test_forty_callers_hear_the_outage_with_two_slots(
    db, settings, nlu, ko_pool, tts_cache, short_listen
) -> None:
    async with db.transaction() as session:
        account = await session.scalar(
            insert(Account).values(number="500100", address="ул. Ленина, 5", street="Ленина", house="5")
            .returning(Account.id)
        )  # fmt: skip
        await session.execute(
            insert(AccountPhone), [{"account_id": account, "phone": PHONE.format(i)} for i in range(CALLERS)]
        )
        session.add(
            Outage(
                message="В доме пять по улице Ленина нет холодной воды до восемнадцати часов",
                starts_at=datetime.now(UTC) - timedelta(hours=1),
                buildings=[OutageBuilding(street="Ленина", house="5")],
            )
        )
    engine = VoiceEngine(
        db=db,
        settings=settings,
        nlu=nlu,
        library=FlowLibrary.load(settings.scenarios_dir),
        voice=BotVoice(CachedTTS(EspeakTTS(rate=300, sample_rate=16000), tts_cache)),
        recognizers=VoskFactory(ko_pool),
        admission=Admission(SLOTS),
        registry=CallRegistry(),
        media_config=MediaConfig(trailing_silence_ms=500, silence_timeout=20.0),
        use_grammar=False,
    )
    router = InboundRouter(db, dialogue_capacity(engine), registry=engine.registry, records=engine.records)
    audiosocket = AudioSocketServer(
        engine.handle_audiosocket, "127.0.0.1", 0, announced=engine.registry.is_announced
    )
    await audiosocket.start()
    peers: list[AudioSocketPeer] = []
    actions: list[str] = []
    asking: set[uuid.UUID] = set()
    leaving: set[uuid.UUID] = set()

    try:
        async with FastAGIServer({"inbound": router}, host="127.0.0.1", port=0) as agi:

            async def caller(i: int) -> None:
                await asyncio.sleep(i * 0.05)
                agi_leg = AGIClientEmulator(
                    "127.0.0.1", agi.port, callerid=PHONE.format(i), args=("74951234567",)
                )
                await agi_leg.run()
                actions.append(agi_leg.variables["VOICEBOT_ACTION"])
                peer = AudioSocketPeer(
                    "127.0.0.1",
                    audiosocket.bound_port,
                    call_uuid=uuid.UUID(agi_leg.variables["VOICEBOT_UUID"]),
                    sample_rate=16000,
                    inactivity_timeout=None,
                )
                peers.append(peer)
                await peer.connect()
                peer.start_stream(b"", then_silence=60.0)
                if i < ASKING:  # asks for more: a key during the announcement
                    asking.add(peer.call_uuid)
                    await asyncio.sleep(1.0)
                    await peer.send_dtmf("1")
                elif i == CALLERS - 1:  # hangs up during the announcement
                    leaving.add(peer.call_uuid)
                    await asyncio.sleep(1.5)
                    await peer.hang_up()

            await asyncio.gather(*(caller(i) for i in range(CALLERS)))
            silent = [p for p in peers if p.call_uuid not in asking | leaving]
            ended = await asyncio.gather(*(p.wait_ended(60.0) for p in silent))
            assert ended == ["bot_hangup"] * len(silent)
            # The askers without a slot hear the overflow message and are hung up; then the two in a
            # dialogue hang up themselves.
            askers = [p for p in peers if p.call_uuid in asking]
            for _ in range(300):
                if sum(p.ended for p in askers) >= ASKING - SLOTS:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert sorted(p.end_reason or "talking" for p in askers) == (
                ["bot_hangup"] * (ASKING - SLOTS) + ["talking"] * SLOTS
            )
            for peer in peers:
                await peer.close()
            for _ in range(100):
                if not audiosocket.calls:
                    break
                await asyncio.sleep(0.1)
            await router.flush()
    finally:
        await audiosocket.stop()
        await router.close()
    assert actions == ["dialogue"] * CALLERS  # nobody overflowed at the router: no slot was needed
    text = outage_calls.announcement_text(
        settings.company_name, "В доме пять по улице Ленина нет холодной воды до восемнадцати часов"
    )
    expected = await engine.announcements.audio(text, 16000)
    deaf = [
        str(p.call_uuid)
        for p in peers
        if p.call_uuid not in leaving and not contains_announcement(p.audio(), expected)
    ]
    assert not deaf
    assert engine.announcements.renders == 2  # the announcement and the goodbye, once each for 40 callers

    async with db.session() as session:
        rows = {c.id: c for c in (await session.execute(select(Call))).scalars()}
        callbacks = (await session.execute(select(Callback))).scalars().all()
    assert len(rows) == CALLERS
    heard = [c for c in rows.values() if c.outcome == "announcement_heard"]
    assert len(heard) == CALLERS - ASKING - 1
    assert all(c.scenario == "announcement" and c.answered_at is not None for c in heard)
    [partial] = [c for c in rows.values() if c.outcome == "announcement_partial"]
    assert partial.id in leaving and partial.scenario == "announcement"
    overflow = [c for c in rows.values() if c.outcome == "overflow"]
    dialogues = [c for c in rows.values() if c.scenario == "inbound_router" and c.outcome != "overflow"]
    assert len(dialogues) == SLOTS and len(overflow) == ASKING - SLOTS
    # Only the callers who asked for more and found no slot are called back.
    assert {c.source_call_id for c in callbacks} == {c.id for c in overflow}
