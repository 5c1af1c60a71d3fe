"""300 inbound calls within one minute, 20 dialogue slots: everyone is answered, the overflow gets a
callback (or, without a number, leaves a voice message), and every callback is placed within 10 minutes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.campaigns.helpers import FakeClock, FakePhone
from tests.emulators.agi_client import AGIClientEmulator
from voicebot.asterisk.ami_protocol import AMIMessage
from voicebot.asterisk.fastagi import FastAGIServer
from voicebot.campaigns.dialer import Dialer
from voicebot.db.models import Call, Callback, VoiceMessage
from voicebot.sla.callbacks import CallbackQueue
from voicebot.sla.inbound import DialogueCapacity, InboundRouter
from voicebot.sla.missed import MissedCallWatcher
from voicebot.sla.report import daily_sla

T0 = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Moscow
CALLS, SLOTS, DIALOGUE = 300, 20, timedelta(seconds=90)
ANONYMOUS = set(range(0, CALLS, 30))  # 10 callers without a number


async def test_burst_of_300_calls_with_20_slots(db):
    clock = FakeClock(T0)
    dialogues: list[tuple[datetime, datetime]] = []

    def busy() -> int:
        return sum(1 for start, end in dialogues if start <= clock.now < end)

    router = InboundRouter(db, DialogueCapacity(SLOTS, busy), clock=clock, check_outages=False)
    watcher = MissedCallWatcher(db, clock=clock)
    actions: dict[str, int] = {"dialogue": 0, "overflow": 0}
    async with FastAGIServer({"inbound": router}, host="127.0.0.1", port=0) as server:
        for i in range(CALLS):
            clock.now = T0 + timedelta(seconds=i * 60 / CALLS)
            caller = "unknown" if i in ANONYMOUS else f"+7916200{i:04d}"
            peer = AGIClientEmulator("127.0.0.1", server.port, callerid=caller, uniqueid=f"1795316510.{i}",
                                     args=("74951234567",))  # fmt: skip
            await peer.run()
            action = peer.variables["VOICEBOT_ACTION"]
            actions[action] += 1
            call_id = uuid.UUID(peer.variables["VOICEBOT_UUID"])
            if action == "dialogue":  # what the voice channel and the runtime do with an admitted call
                dialogues.append((clock.now, clock.now + DIALOGUE))
                ledger = router.records.ledger
                await ledger.started(call_id, direction="inbound", channel="voice", scenario="inbound_router",
                                     started_at=clock.now + timedelta(seconds=1), phone=caller)  # fmt: skip
                await ledger.ended(call_id, outcome="hangup", ended_at=clock.now + DIALOGUE)
            else:  # the dialplan plays the busy message, records, and reports the message over AMI
                await router.flush()
                await watcher.on_user_event(AMIMessage([
                    ("Event", "UserEvent"), ("UserEvent", "VoicebotVoiceMessage"), ("VoicebotUUID", str(call_id)),
                    ("CallerIDNum", caller), ("File", f"/var/spool/asterisk/voicebot/{i}.wav"),
                    ("Status", "SILENCE"), ("Reason", "overflow"),
                ]))  # fmt: skip
        await router.flush()
    assert sum(actions.values()) == CALLS  # every call answered with an action
    assert actions["dialogue"] >= SLOTS and actions["overflow"] > 0
    # Slots freed after 90 s are reused: never more than 20 at once.
    assert max(sum(1 for s, e in dialogues if s <= t < e) for t, _ in dialogues) <= SLOTS

    async with db.session() as session:
        overflow = (await session.execute(select(Call).where(Call.outcome == "overflow"))).scalars().all()
        callbacks = (await session.execute(select(Callback))).scalars().all()
        messages = (await session.execute(select(VoiceMessage))).scalars().all()
    assert len(overflow) == actions["overflow"]
    with_number = [c for c in overflow if c.phone and c.phone.startswith("+")]
    assert {c.source_call_id for c in callbacks} == {c.id for c in with_number}
    assert len(messages) == len(overflow)  # everyone in the overflow could leave a message
    assert all(
        m.review_due_at == m.created_at + timedelta(minutes=10) or m.review_due_at > T0 for m in messages
    )

    # Call the overflow back: 20 outbound lines, the dialer ticking every 5 simulated seconds.
    queue = CallbackQueue(db, worker="burst")
    phone = FakePhone(db, outcome="hangup", clock=clock)
    dialer = Dialer(db, phone, clock=clock, max_calls=SLOTS, callbacks=queue, worker="burst")
    clock.now = T0 + timedelta(seconds=60)
    while clock.now < T0 + timedelta(minutes=12):
        await dialer.tick()
        await dialer.wait_idle()
        clock.advance(seconds=5)
    await dialer.tick()
    async with db.session() as session:
        callbacks = (await session.execute(select(Callback))).scalars().all()
    assert callbacks and all(c.status == "done" and c.attempts == 1 for c in callbacks)
    late = [c for c in callbacks if c.last_attempt_at - c.missed_at > timedelta(minutes=10)]
    assert not late
    assert len(phone.dialled) == len(callbacks)

    [day] = await daily_sla(db, T0.date(), T0.date())
    assert day.offered == CALLS and day.answered == actions["dialogue"]
    assert day.answered_within_5 == day.answered  # the offer time is the AGI time, 1 s before the answer
    assert day.missed == actions["overflow"]
    assert day.called_back_within_10 == len(with_number)
