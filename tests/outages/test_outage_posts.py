"""Declaring an outage posts to exactly the affected house chats, edits the posts and closes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.emulators.max_api import MaxApiEmulator
from voicebot.db.models import Call
from voicebot.db.session import Database
from voicebot.demo import load_demo_data
from voicebot.max.client import MaxClient
from voicebot.services.outages import Building, HouseChats, OutageError, OutageService
from voicebot.sla.inbound import outage_for_phone

GAGARINA_15, GAGARINA_10, POLEVAYA_9, MIRA_8 = 5001, 5002, 5003, 5004


@pytest.fixture
async def outages(db: Database):
    await load_demo_data(db)
    async with MaxApiEmulator() as api:
        chats = HouseChats(db)
        for chat_id, street, house, members in (
            (GAGARINA_15, "Гагарина", "15", 120),
            (GAGARINA_10, "Гагарина", "10", 80),
            (POLEVAYA_9, "Полевая", "9", 45),
            (MIRA_8, "Мира", "8", 60),
        ):
            api.add_chat(chat_id, f"Дом {street}, {house}", members)
            await chats.add(street, house, chat_id, f"Дом {street}, {house}")
        client = MaxClient(api.token, api.url)
        yield api, OutageService(db, client)
        await client.close()


async def test_declare_posts_to_exactly_the_affected_chats_and_end_closes_them(db, outages) -> None:
    api, service = outages
    outage = await service.declare(
        title="Отключение горячей воды",
        message="В доме отключена горячая вода до восемнадцати часов, идёт ремонт трубы.",
        buildings=[Building("ул. Гагарина", "15"), Building("Полевая", None)],
        ends_at=datetime.now(UTC) + timedelta(hours=5),
        by="staff-key",
    )
    posted = {
        chat_id: api.sent_to_chat(chat_id) for chat_id in (GAGARINA_15, GAGARINA_10, POLEVAYA_9, MIRA_8)
    }
    assert [len(posted[c]) for c in (GAGARINA_15, GAGARINA_10, POLEVAYA_9, MIRA_8)] == [1, 0, 1, 0]
    post = posted[GAGARINA_15][0]
    assert "отключена горячая вода" in post.text and "Ориентировочно до" in post.text
    reach = await service.reach(outage)
    assert (reach.chats, reach.chat_members, reach.failed_chats) == (2, 165, 0)
    # Phone callers from the building hear the same row's text.
    assert await outage_for_phone(db, "+79161234501", datetime.now(UTC)) == outage.message
    assert await outage_for_phone(db, "+79161234506", datetime.now(UTC)) is None  # Ленина, 26

    await service.update(outage.id, message="Горячую воду дадут к двадцати часам.")
    assert "к двадцати часам" in post.text and len(post.edits) == 1
    assert (
        await outage_for_phone(db, "+79161234504", datetime.now(UTC))
        == "Горячую воду дадут к двадцати часам."
    )

    ended = await service.end(outage.id)
    assert post.text.startswith("✅ Завершено") and len(post.edits) == 2
    assert posted[POLEVAYA_9][0].text.startswith("✅ Завершено")
    assert {p.state for p in await service.posts(outage.id)} == {"closed"}
    assert ended.ended_at is not None
    assert await outage_for_phone(db, "+79161234501", datetime.now(UTC) + timedelta(seconds=1)) is None
    # Nothing else was posted anywhere: two posts, four edits in all.
    puts = [r for r in api.requests if r.method == "PUT" and r.path == "/messages"]
    posts = [r for r in api.requests if r.method == "POST" and r.path == "/messages"]
    assert (len(posts), len(puts)) == (2, 4)


async def test_a_failing_chat_is_reported_and_the_others_still_get_the_post(db, outages) -> None:
    api, service = outages
    await HouseChats(db).add("Гагарина", "15а", 777, "чат без бота")  # the bot is not in it: 404
    outage = await service.declare(
        title="Нет света", message="Отключено электричество.", buildings=[Building("Гагарина", None)]
    )
    reach = await service.reach(outage)
    assert (reach.chats, reach.failed_chats) == (2, 1)
    failed = [p for p in await service.posts(outage.id) if p.state == "failed"]
    assert failed[0].chat_id == 777 and failed[0].error


async def test_bad_declarations_are_refused_with_the_reason(db, outages) -> None:
    _, service = outages
    with pytest.raises(OutageError, match="empty"):
        await service.declare(title="x", message=" ", buildings=[Building("Гагарина", "15")])
    with pytest.raises(OutageError, match="building"):
        await service.declare(title="x", message="текст", buildings=[])
    with pytest.raises(OutageError, match="later"):
        await service.declare(
            title="x", message="текст", buildings=[Building("Гагарина", "15")],
            ends_at=datetime.now(UTC) - timedelta(hours=1),
        )  # fmt: skip
    assert await service.list() == []


async def test_calls_avoided_compares_with_the_same_hours_a_week_before(db, outages) -> None:
    _, service = outages
    start = datetime.now(UTC) - timedelta(hours=2)
    outage = await service.declare(
        title="Нет воды", message="Нет холодной воды.", buildings=[Building("Полевая", "9")], starts_at=start
    )
    async with db.transaction() as s:
        for phone, at in (
            ("+79161234504", start + timedelta(minutes=10)),
            ("+79161234504", start - timedelta(days=7) + timedelta(minutes=5)),
            ("+79161234505", start - timedelta(days=7) + timedelta(minutes=20)),
            ("+79161234505", start - timedelta(days=7) + timedelta(minutes=50)),
            ("+79161234501", start + timedelta(minutes=15)),  # another building: not counted
        ):
            s.add(
                Call(
                    direction="inbound",
                    channel="voice",
                    phone=phone,
                    started_at=at,
                    scenario="inbound_router",
                )
            )
    avoided = await service.calls_avoided(outage)
    assert (avoided.during, avoided.before, avoided.avoided) == (1, 3, 2)
    assert (await service.reach(outage)).phone_callers == 1
