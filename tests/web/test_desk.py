"""The dispatcher's desk over HTTP: queue actions with their audit lines, sorting, filtering, the live
snapshot and its event stream, Russian error pages for unknown addresses."""

from __future__ import annotations

from sqlalchemy import text

from tests.web.conftest import csrf_of, login
from tests.web.seed import seed


async def _ids(db, sql: str) -> list:
    async with db.session() as s:
        return list((await s.execute(text(sql))).scalars())


async def _audit(db) -> list[tuple[str, str, str]]:
    async with db.session() as s:
        rows = await s.execute(text("SELECT actor, action, object_id FROM audit_log ORDER BY id"))
        return [tuple(r) for r in rows]


async def test_ticket_status_and_assignee_change_and_are_audited(client, keys, db, web_settings):
    await seed(db, web_settings.recordings_path)
    await login(client, keys["supervisor"])
    page = await client.get("/queues")
    assert "Протечка" in page.text or "протечка" in page.text
    csrf = csrf_of(page.text)
    [ticket_id] = await _ids(db, "SELECT id FROM tickets WHERE number = 'Т-0001'")
    moved = await client.post(
        f"/queues/tickets/{ticket_id}/status",
        data={
            "status": "in_progress",
            "comment": "бригада выехала",
            "csrf": csrf,
            "back": "/queues?tab=tickets",
        },
    )
    assert moved.status_code == 303 and "done=ticket_status" in moved.headers["location"]
    assigned = await client.post(
        f"/queues/tickets/{ticket_id}/assign", data={"responsible": "Иванов", "csrf": csrf}
    )
    assert assigned.status_code == 303
    async with db.session() as s:
        row = (
            await s.execute(text("SELECT status, responsible FROM tickets WHERE id = :i"), {"i": ticket_id})
        ).one()
        event = (
            await s.execute(
                text("SELECT actor, comment FROM ticket_events WHERE ticket_id = :i"), {"i": ticket_id}
            )
        ).one()
    assert tuple(row) == ("in_progress", "Иванов")
    assert event.comment == "бригада выехала" and event.actor.startswith("web:")
    actions = [a for _, a, _ in await _audit(db)]
    assert actions == ["ticket.status", "ticket.assign"]
    closed = await client.post(f"/queues/tickets/{ticket_id}/status", data={"status": "done", "csrf": csrf})
    assert closed.status_code == 303
    open_page = await client.get("/queues?tab=tickets")
    assert "Т-0001" not in open_page.text
    assert "Т-0001" in (await client.get("/queues?tab=tickets&state=closed")).text
    bad = await client.post(f"/queues/tickets/{ticket_id}/status", data={"status": "lost", "csrf": csrf})
    assert bad.status_code == 422 and "Нет такого статуса" in bad.text
    forged = await client.post(f"/queues/tickets/{ticket_id}/status", data={"status": "new", "csrf": "x"})
    assert forged.status_code == 403


async def test_voice_message_listened_then_processed_with_who_and_when(client, keys, db, web_settings):
    await seed(db, web_settings.recordings_path)
    await login(client, keys["supervisor"])
    page = await client.get("/queues?tab=voice_messages")
    csrf = csrf_of(page.text)
    first, second = await _ids(db, "SELECT id FROM voice_messages ORDER BY review_due_at")
    assert (
        await client.post(f"/queues/voice_messages/{first}/listened", data={"csrf": csrf})
    ).status_code == 303
    assert (
        await client.post(f"/queues/voice_messages/{second}/reviewed", data={"csrf": csrf})
    ).status_code == 303
    again = await client.post(f"/queues/voice_messages/{second}/reviewed", data={"csrf": csrf})
    assert again.status_code == 303  # a repeat changes nothing and writes no second audit line
    async with db.session() as s:
        rows = (
            await s.execute(text("SELECT id, listened_by, reviewed_by FROM voice_messages ORDER BY id"))
        ).all()
    by_id = {r.id: r for r in rows}
    assert by_id[first].listened_by == "web:тест supervisor" and by_id[first].reviewed_by is None
    assert (
        by_id[second].reviewed_by == "web:тест supervisor"
        and by_id[second].listened_by == "web:тест supervisor"
    )
    assert [a for _, a, _ in await _audit(db)] == ["voice_message.listened", "voice_message.reviewed"]
    listed = (await client.get("/queues?tab=voice_messages")).text
    assert "тест supervisor" in listed and "Обработано" in listed
    missing = await client.post("/queues/voice_messages/999999/reviewed", data={"csrf": csrf})
    assert missing.status_code == 404 and "не найдено" in missing.text


async def test_callback_closed_with_an_outcome_once(client, keys, db, web_settings):
    await seed(db, web_settings.recordings_path)
    await login(client, keys["supervisor"])
    csrf = csrf_of((await client.get("/queues?tab=callbacks")).text)
    [callback] = await _ids(db, "SELECT id FROM callbacks")
    no_result = await client.post(f"/queues/callbacks/{callback}/close", data={"csrf": csrf})
    assert no_result.status_code == 422 and "итог" in no_result.text
    done = await client.post(
        f"/queues/callbacks/{callback}/close",
        data={"result": "resolved", "note": "перезвонил сам", "csrf": csrf},
    )
    assert done.status_code == 303
    twice = await client.post(
        f"/queues/callbacks/{callback}/close", data={"result": "resolved", "csrf": csrf}
    )
    assert twice.status_code == 409 and "уже закрыт" in twice.text
    closed = (await client.get("/queues?tab=callbacks&state=closed")).text
    assert "Дозвонились, вопрос решён" in closed and "перезвонил сам" in closed
    assert [a for _, a, _ in await _audit(db)] == ["callback.closed"]


async def test_queues_sort_filter_and_search(client, keys, db, web_settings):
    await seed(db, web_settings.recordings_path)
    await login(client, keys["supervisor"])
    ascending = (await client.get("/queues?tab=tickets&sort=number")).text
    descending = (await client.get("/queues?tab=tickets&sort=number&desc=1")).text
    assert ascending.index("Т-0001") < ascending.index("Т-0002")
    assert descending.index("Т-0002") < descending.index("Т-0001")
    found = (await client.get("/queues?tab=tickets&q=Мира")).text
    assert "Т-0002" in found and "Т-0001" not in found
    overdue = (await client.get("/queues?tab=tickets&overdue=1")).text
    assert "Т-0001" in overdue and "Т-0002" not in overdue
    assert "1 запись" in overdue
    injected = await client.get("/queues?tab=tickets&sort=id;drop table tickets")
    assert injected.status_code == 200


async def test_live_snapshot_and_stream(client, keys, db, web_settings):
    await seed(db, web_settings.recordings_path)
    async with db.transaction() as s:
        await s.execute(
            text(
                "INSERT INTO calls (id, direction, channel, status, scenario, phone) "
                "VALUES (gen_random_uuid(), 'inbound', 'voice', 'active', 'meter_readings', '+79161234599')"
            )
        )
    await login(client, keys["supervisor"])
    page = await client.get("/live")
    assert page.status_code == 200 and "Сейчас на линии" in page.text
    data = (await client.get("/live.json")).json()
    assert [c["scenario"] for c in data["calls"]] == ["meter_readings"]
    assert data["calls"][0]["phone"] == "+7916•••4599"  # masked on a shared screen
    assert data["totals"]["voice_messages"] == 2 and data["totals"]["callbacks"] == 1
    assert "+79161234599" not in page.text
    client.cookies.clear()
    assert (await client.get("/live.json")).status_code == 401


async def test_unknown_addresses_get_a_russian_page_and_the_api_keeps_json(client, keys):
    anonymous = await client.get("/no/such/page")
    assert anonymous.status_code == 404 and "text/html" in anonymous.headers["content-type"]
    assert "Не найдено" in anonymous.text and "Такой страницы нет" in anonymous.text
    await login(client, keys["supervisor"])
    signed_in = await client.get("/no/such/page")
    assert signed_in.status_code == 404 and 'href="/calls"' in signed_in.text  # the menu is there
    api = await client.get("/api/v1/no/such")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
