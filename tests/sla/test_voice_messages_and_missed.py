"""Voice messages with their 10-minute review deadline; missed and abandoned calls become callbacks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from voicebot.asterisk.ami_protocol import AMIMessage
from voicebot.db.models import Call, Callback, VoiceMessage
from voicebot.sla.missed import MissedCallWatcher
from voicebot.sla.voice_messages import list_voice_messages, overdue_count, review_voice_message

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def event(name: str, *pairs: tuple[str, str]) -> AMIMessage:
    return AMIMessage([("Event", name), ("Privilege", "call,all"), *pairs])


def voice_event(**fields: str) -> AMIMessage:
    base = {"UserEvent": "VoicebotVoiceMessage", "Uniqueid": "1795316510.28", "CallerIDNum": "89161234567",
            "DNID": "74951234567", "File": "/var/spool/asterisk/voicebot/x.wav", "Status": "SILENCE",
            "Reason": "transfer"}  # fmt: skip
    return event("UserEvent", *(base | fields).items())


async def rows(db, model):
    async with db.session() as session:
        return (await session.execute(select(model))).scalars().all()


async def test_voice_message_listed_with_deadline_and_overdue_flag(db):
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    call_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(insert(Call).values(id=call_id, direction="inbound", channel="voice"))
    await watcher.on_user_event(voice_event(VoicebotUUID=str(call_id)))
    [message] = await rows(db, VoiceMessage)
    assert message.call_id == call_id and message.phone == "+79161234567"
    assert message.review_due_at == NOW + timedelta(minutes=10)
    assert await rows(db, Callback) == []  # a recorded message after a transfer: staff review it
    [view] = await list_voice_messages(db, NOW + timedelta(minutes=5))
    assert not view.overdue
    [view] = await list_voice_messages(db, NOW + timedelta(minutes=11), overdue_only=True)
    assert view.overdue and await overdue_count(db, NOW + timedelta(minutes=11)) == 1
    reviewed = await review_voice_message(db, view.id, "operator1", NOW + timedelta(minutes=12))
    assert reviewed.reviewed_by == "operator1" and not reviewed.overdue
    assert await list_voice_messages(db, NOW + timedelta(minutes=13)) == []
    assert await overdue_count(db, NOW + timedelta(minutes=13)) == 0
    again = await review_voice_message(db, view.id, "someone_else", NOW + timedelta(minutes=14))
    assert again.reviewed_by == "operator1"
    with pytest.raises(LookupError):
        await review_voice_message(db, 999, "x", NOW)


async def test_caller_who_left_no_message_is_called_back(db):
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    await watcher.on_user_event(voice_event(Status="", VoicebotUUID=str(uuid.uuid4())))  # unknown uuid: no FK
    assert await rows(db, VoiceMessage) == []
    [callback] = await rows(db, Callback)
    assert callback.reason == "missed" and callback.due_at <= NOW + timedelta(minutes=10)


async def test_message_asking_for_a_callback(db):
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    await watcher.on_user_event(voice_event(Callback="1"))
    [callback] = await rows(db, Callback)
    assert callback.reason == "requested"


async def test_unanswered_inbound_hangup_and_queue_abandon(db):
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    ringing = [("Channel", "PJSIP/trunk-00000001"), ("ChannelState", "4"), ("CallerIDNum", "+79161111111"),
               ("Context", "voicebot-inbound"), ("Uniqueid", "1.1"), ("Cause", "16")]  # fmt: skip
    await watcher.on_hangup(event("Hangup", *ringing))
    answered = [(k, "6" if k == "ChannelState" else v) for k, v in ringing]
    await watcher.on_hangup(
        event("Hangup", *[(k, "+79162222222" if k == "CallerIDNum" else v) for k, v in answered])
    )
    await watcher.on_abandon(event("QueueCallerAbandon", ("Channel", "PJSIP/trunk-2"), ("CallerIDNum", "89163333333"),
                                   ("Queue", "operators"), ("ChanVariable", "VOICEBOT_UUID=not-a-uuid")))  # fmt: skip
    await watcher.on_abandon(event("QueueCallerAbandon", ("CallerIDNum", "anonymous")))
    by_phone = {c.phone: c for c in await rows(db, Callback)}
    assert set(by_phone) == {"+79161111111", "+79163333333"}
    assert by_phone["+79161111111"].reason == "missed" and by_phone["+79163333333"].reason == "abandoned"
    assert all(c.due_at == NOW + timedelta(minutes=1) for c in by_phone.values())


async def test_a_caller_cut_off_by_an_asterisk_restart_is_called_back(db):
    """`core restart now` on a real Asterisk: every leg gets `SoftHangupRequest` with cause 4 (shutdown) and
    the bot saw only its AudioSocket close, like a hang-up. An inbound caller still in dialogue is a missed
    caller; one the bot had finished with, an outbound call, or another cause is not."""
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    inbound, outbound, finished = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.transaction() as session:
        for call_id, direction, phone in ((inbound, "inbound", "+79161230001"), (outbound, "outbound", "+79161230002"),
                                          (finished, "inbound", "+79161230003")):  # fmt: skip
            await session.execute(
                insert(Call).values(id=call_id, direction=direction, channel="voice", phone=phone)
            )

    def cut(call_id, phone, cause="4", action=""):
        return event("SoftHangupRequest", ("Channel", "PJSIP/trunk-00000001"), ("Context", "voicebot-audiosocket"),
                     ("CallerIDNum", phone), ("Cause", cause), ("ChanVariable", f"VOICEBOT_UUID={call_id}"),
                     ("ChanVariable", f"VOICEBOT_ACTION={action}"))  # fmt: skip

    for message in (cut(inbound, "89161230001"), cut(inbound, "89161230001"),  # two legs of one call
                    cut(outbound, "89161230002"), cut(finished, "89161230003", action="hangup"),
                    cut(finished, "89161230003", cause="16")):  # fmt: skip
        await watcher.on_soft_hangup(message)
    [callback] = await rows(db, Callback)
    assert (callback.phone, callback.reason, callback.source_call_id) == ("+79161230001", "missed", inbound)


async def test_second_miss_from_one_number_brings_the_callback_forward(db):
    watcher = MissedCallWatcher(db, clock=lambda: NOW, callback_delay=timedelta(minutes=5))
    abandon = event("QueueCallerAbandon", ("CallerIDNum", "+79161111111"))
    await watcher.on_abandon(abandon)
    watcher.callback_delay = timedelta(minutes=1)
    await watcher.on_abandon(abandon)
    [callback] = await rows(db, Callback)
    assert callback.due_at == NOW + timedelta(minutes=1)


async def test_a_recorded_message_gets_its_length_and_a_transfer_fallback_its_callback(db, tmp_path):
    from voicebot.asterisk.sounds import tone, write_wav

    path = tmp_path / "20260311-090000-1795316510.28.wav"
    write_wav(path, tone(440, 2500))  # what Record() leaves in the absolute VOICEBOT_VM_DIR
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    await watcher.on_user_event(voice_event(File=str(path), Callback="1"))
    [message] = await rows(db, VoiceMessage)
    assert message.recording_path == str(path) and float(message.duration) == 2.5
    [callback] = await rows(db, Callback)  # nobody answered the transfer: called back within 10 minutes
    assert callback.phone == "+79161234567" and callback.due_at <= NOW + timedelta(minutes=10)


async def test_a_relative_recording_path_is_kept_but_has_no_length(db, caplog):
    watcher = MissedCallWatcher(db, clock=lambda: NOW)
    await watcher.on_user_event(voice_event(File="var/voicebot/x.wav"))
    [message] = await rows(db, VoiceMessage)
    assert message.duration is None and "is relative" in caplog.text


async def test_transfer_nobody_answers_then_a_voice_message_through_the_emulator(db, tmp_path):
    from tests.emulators.ami_server import AMIServerEmulator
    from voicebot.asterisk.ami import AMIClient

    async with AMIServerEmulator(channelvars=["VOICEBOT_UUID"]) as asterisk:
        client = AMIClient("127.0.0.1", asterisk.port, "voicebot", "s3cret")
        await client.connect()
        try:
            MissedCallWatcher(db, clock=lambda: NOW).attach(client)
            asterisk.add_channel("PJSIP/voicebot-trunk-00000011", {"VOICEBOT_UUID": str(uuid.uuid4())})
            asterisk.run_queue("PJSIP/voicebot-trunk-00000011", "timeout")
            vm_dir = str(tmp_path / "spool" / "voicebot")  # absolute, as telephony/extensions.conf ships it
            landed = asterisk.record_voice_message("PJSIP/voicebot-trunk-00000011", vm_dir, 3.2, reason="transfer",
                                                   callback="1")  # fmt: skip
            for _ in range(100):
                if await rows(db, VoiceMessage) and await rows(db, Callback):
                    break
                await asyncio.sleep(0.02)
        finally:
            await client.close()
    [message] = await rows(db, VoiceMessage)
    assert message.recording_path == str(landed) and float(message.duration) == 3.2
    [callback] = await rows(db, Callback)
    assert callback.phone == "+79161234501"


def test_a_relative_folder_lands_under_the_sounds_folder_as_on_asterisk(tmp_path):
    from tests.emulators.ami_server import AMIServerEmulator, EmuChannel

    asterisk = AMIServerEmulator()
    asterisk.channels["X"] = EmuChannel("X", "1.2", "1.2", "voicebot-voicemail", "s")
    landed = asterisk.record_voice_message(
        "X", "var/asterisk/spool/voicebot", 0.5, data_dir=tmp_path / "data"
    )
    assert landed.is_relative_to(tmp_path / "data" / "sounds")  # where the bot never looks (item 8)
