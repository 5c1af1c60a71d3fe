"""A restart loses no MAX conversation: the open dialogue is kept in PostgreSQL between messages, a new
process continues it at the same step (buttons of the last message still work), the reaper leaves its
call alone, and the idle sweep still ends it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.max.conftest import Resident, max_settings
from voicebot.calls.reaper import Reaper
from voicebot.calls.records import CallRecords
from voicebot.db.models import Call, MaxConversation, Reading
from voicebot.dialogue.snapshot import decode, encode
from voicebot.max.service import MaxService


async def _settled(db, user_id: int, within: float = 10.0) -> None:
    """Wait until the resident's conversation is kept with nothing open."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with db.session() as s:
            kept = await s.get(MaxConversation, user_id)
        if kept is not None and kept.state is None:
            return
        assert asyncio.get_running_loop().time() < deadline, "the conversation was not closed"
        await asyncio.sleep(0.05)


async def _restart(bot: MaxService, db, max_api, nlu, library, tmp_path) -> MaxService:
    await bot.stop()
    fresh = MaxService(max_settings(max_api, tmp_path), db, nlu=nlu, library=library, poll_timeout=1)
    await fresh.start()
    return fresh


async def test_readings_continue_after_a_restart_at_the_same_step(db, bot, max_api, nlu, library, tmp_path):
    anna = Resident(max_api, 5001, "Анна")
    await anna.start()
    _, menu = await anna.share_phone("+79161234501")
    (confirm,) = await anna.press(menu, "Передать показания")
    (cold,) = await anna.press(confirm, "Да")
    (hot,) = await anna.write("215")
    assert "горяч" in hot.text.lower()
    fresh = await _restart(bot, db, max_api, nlu, library, tmp_path)
    try:
        # the call is not a dead one for the reaper of the new process: it waits for the resident
        records = CallRecords.direct(db, node="restarted:9092")
        reaper = Reaper(records, node="restarted:9092", stale_after=timedelta(hours=1),
                        born=datetime.now(UTC) + timedelta(seconds=1))  # fmt: skip
        async with db.transaction() as s:  # even one this node ran before it was born
            await s.execute(update(Call).values(meta={"node": "restarted:9092"}))
        assert await reaper.reap_once() == 0
        (readback,) = await anna.write("сто двадцать")
        assert "215" in readback.text and "120" in readback.text
        (done,) = await anna.press(readback, "Да")  # the kept message's buttons still answer
        assert "принят" in done.text.lower()
        await anna.write("нет, спасибо")
        await _settled(db, 5001)  # nothing open any more (kept right after the reply is sent)
        async with db.session() as s:
            calls = list(await s.scalars(select(Call)))
            readings = [float(r.value) for r in await s.scalars(select(Reading).order_by(Reading.id))]
        assert [(c.channel, c.outcome) for c in calls] == [("max", "readings_accepted")]
        assert readings == [215.0, 120.0]
    finally:
        await fresh.stop()


async def test_idle_sweep_of_a_new_process_ends_a_kept_conversation(db, bot, max_api, nlu, library, tmp_path):
    boris = Resident(max_api, 5002)
    await boris.start()
    _, menu = await boris.share_phone("+79161234501")
    await boris.press(menu, "Передать показания")
    fresh = await _restart(bot, db, max_api, nlu, library, tmp_path)
    try:
        async with db.transaction() as s:
            await s.execute(update(MaxConversation).values(seen_at=datetime.now(UTC) - timedelta(hours=1)))
        assert await fresh.channel.close_idle(30 * 60) == 1
        async with db.session() as s:
            call = await s.scalar(select(Call))
            assert (await s.get(MaxConversation, 5002)).state is None
        assert call.status == "ended" and call.outcome is not None
        (menu_again,) = await boris.write("привет")  # a new conversation, not the old step
        assert menu_again.buttons
    finally:
        await fresh.stop()


async def test_a_kept_conversation_whose_step_is_gone_starts_afresh(db, bot, max_api, nlu, library, tmp_path):
    clara = Resident(max_api, 5003)
    await clara.start()
    _, menu = await clara.share_phone("+79161234501")
    await clara.press(menu, "Передать показания")
    await bot.stop()
    async with db.transaction() as s:
        row = await s.get(MaxConversation, 5003)
        row.state = {**row.state, "awaiting": "no_such_step"}
    fresh = MaxService(max_settings(max_api, tmp_path), db, nlu=nlu, library=library, poll_timeout=1)
    await fresh.start()
    try:
        (reply,) = await clara.write("привет")
        assert reply.buttons  # the menu of a new conversation
        async with db.session() as s:
            outcomes = sorted(str(c.outcome) for c in await s.scalars(select(Call)))
        assert "interrupted" in outcomes
    finally:
        await fresh.stop()


def test_snapshot_values_round_trip_and_refuse_foreign_types() -> None:
    from dataclasses import dataclass
    from decimal import Decimal

    import pytest

    from voicebot.dialogue.actions.visits import Slot
    from voicebot.dialogue.snapshot import SnapshotError

    day = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    value = {"when": day, "sum": Decimal("4870.50"), "slot": Slot(day.date(), day.time(), day.time()),
             "pair": (1, "a"), "n": None, "list": [day.date()]}  # fmt: skip
    assert decode(encode(value)) == value

    @dataclass
    class Foreign:
        x: int

    with pytest.raises(TypeError):
        encode({"x": Foreign(1)})
    with pytest.raises(SnapshotError):
        decode({"__t": "dc", "c": "os:system", "f": {}})
    with pytest.raises(SnapshotError):
        decode({"__t": "dc", "c": "voicebot.settings:Settings", "f": {}})


async def test_two_processes_answering_one_resident_continue_each_others_conversation(
    db, max_api, nlu, library, tmp_path
) -> None:
    """Updates of one resident handled by two processes in turn (a webhook behind two replicas, a restart
    between messages): each continues from what the other stored, never from its own stale memory."""
    from voicebot.demo import load_demo_data

    await load_demo_data(db)
    first, second = (
        MaxService(max_settings(max_api, tmp_path), db, nlu=nlu, library=library) for _ in range(2)
    )
    user = 5004

    async def say(service: MaxService, text: str, replies: int = 1) -> list:
        seen = len(max_api.sent_to(user))
        await service.channel.handle_update(max_api._message_created(user, "Дина", text, []))
        return (await max_api.wait_for(user, seen + replies))[seen:]

    try:
        await first.channel.handle_update(
            {"update_type": "bot_started", "timestamp": 1, "user": {"user_id": user}}
        )
        vcf = "BEGIN:VCARD\r\nTEL;TYPE=cell:+79161234501\r\nEND:VCARD\r\n"
        contact = {
            "type": "contact",
            "payload": {"vcf_info": vcf, "max_info": {"user_id": user, "first_name": "Дина"}},
        }
        await first.channel.handle_update(max_api._message_created(user, "Дина", None, [contact]))
        await say(first, "передать показания")  # first: the address question
        await say(second, "да")  # second: cold water
        await say(first, "двести пятнадцать")  # first again: its memory is at the address question
        (readback,) = await say(second, "сто двадцать")
        assert "215" in readback.text and "120" in readback.text
    finally:
        await first.client.close()
        await second.client.close()
