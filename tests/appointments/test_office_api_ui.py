"""Staff see and edit the day's appointments through the API and the UI (one schedule with the bots)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.web.conftest import csrf_of, login
from voicebot.api.app import create_app
from voicebot.services.keys import create_key
from voicebot.settings import Settings


@pytest.fixture
async def http(db, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    app = create_app(Settings(data_dir=tmp_path), database=db)
    keys = {role: (await create_key(db, role, f"t {role}")).key for role in ("admin", "staff", "supervisor")}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_api_schedule_booking_conflict_and_changes(http) -> None:
    client, keys = http
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    staff = _auth(keys["staff"])
    csv = f"date,start,end,window\n{day},09:00,09:30,1\n{day},09:30,09:20,1\n"
    imported = await client.post("/api/v1/office/slots/import", content=csv.encode(), headers=staff)
    assert imported.json()["inserted"] == 1 and imported.json()["rejected"][0]["line"] == 3
    added = await client.post("/api/v1/office/slots", headers=staff,
                              json={"day": day, "first": "10:00", "last": "11:00", "minutes": 30})  # fmt: skip
    assert added.json() == {"added": 2}
    rows = (await client.get(f"/api/v1/office/appointments?day={day}", headers=staff)).json()
    assert [r["start"] for r in rows] == ["09:00", "10:00", "10:30"]
    booked = await client.post("/api/v1/office/appointments", headers=staff,
                               json={"slot_id": rows[0]["slot_id"], "phone": "8 916 123-45-01", "name": "Орлова"})  # fmt: skip
    assert booked.status_code == 201
    twice = await client.post("/api/v1/office/appointments", headers=staff,
                              json={"slot_id": rows[0]["slot_id"], "phone": "+79161234502"})  # fmt: skip
    assert twice.status_code == 409
    moved = await client.patch(f"/api/v1/office/appointments/{booked.json()['id']}", headers=staff,
                               json={"slot_id": rows[2]["slot_id"]})  # fmt: skip
    assert moved.json()["slot_id"] == rows[2]["slot_id"]
    rows = (await client.get(f"/api/v1/office/appointments?day={day}", headers=staff)).json()
    assert rows[2]["appointment"]["phone"] == "+79161234501" and rows[0]["appointment"] is None
    assert (
        await client.get(f"/api/v1/office/appointments?day={day}", headers=_auth(keys["supervisor"]))
    ).status_code == 403


async def test_ui_day_page_books_moves_and_cancels(http) -> None:
    client, keys = http
    await login(client, keys["staff"])
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    page = await client.get(f"/office?day={day}")
    assert "окон приёма нет" in page.text
    token = csrf_of(page.text)
    added = await client.post("/office/slots", data={"day": day, "first": "09:00", "last": "10:00", "minutes": "30",
                                                     "windows": "2", "csrf": token})  # fmt: skip
    assert "Добавлено окон приёма: 4" in added.text
    slot = int(__import__("re").search(r'<option value="(\d+)">09:00 \(окно 1\)', added.text).group(1))
    bad = await client.post(
        "/office/book", data={"day": day, "slot_id": slot, "phone": "сосед", "csrf": token}
    )
    assert bad.status_code == 422 and "не номер телефона" in bad.text
    ok = await client.post("/office/book", data={"day": day, "slot_id": slot, "phone": "+79161234503",
                                                 "name": "Петрова", "topic": "перерасчёт", "csrf": token})  # fmt: skip
    assert ok.status_code == 303
    page = await client.get(f"/office?day={day}")
    assert "Петрова" in page.text and "перерасчёт" in page.text and "сотрудник" in page.text
    appointment = int(__import__("re").search(r'action="/office/appointments/(\d+)"', page.text).group(1))
    cancelled = await client.post(f"/office/appointments/{appointment}",
                                  data={"day": day, "action": "cancelled", "csrf": token})  # fmt: skip
    assert cancelled.status_code == 303
    after = (await client.get(f"/office?day={day}")).text
    assert "Петрова" not in after and after.count("свободно") == 4  # the slot is free again
