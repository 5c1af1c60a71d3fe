"""Outages through the HTTP API and the web UI: declare, reach shown, change, end; house-chat mapping."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from tests.emulators.max_api import MaxApiEmulator
from tests.web.conftest import csrf_of, login
from voicebot.api.app import create_app
from voicebot.db.models import AuditEntry
from voicebot.demo import load_demo_data
from voicebot.max.client import MaxClient
from voicebot.services.keys import create_key
from voicebot.settings import Settings


@pytest.fixture
async def setup(db, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, MaxApiEmulator, dict[str, str]]]:
    await load_demo_data(db)
    async with MaxApiEmulator() as api:
        api.add_chat(7001, "Гагарина 15", 130)
        api.add_chat(7002, "Мира 8", 70)
        client = MaxClient(api.token, api.url)
        app = create_app(Settings(data_dir=tmp_path), database=db,
                         max_service=SimpleNamespace(client=client, mode="polling"))  # fmt: skip
        keys = {
            role: (await create_key(db, role, f"t {role}")).key for role in ("admin", "staff", "supervisor")
        }
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            yield http, api, keys
        await client.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_api_declares_changes_and_ends_an_outage(db, setup) -> None:
    http, api, keys = setup
    for chat_id, street, house in ((7001, "Гагарина", "15"), (7002, "Мира", "8")):
        created = await http.post("/api/v1/house-chats", headers=_auth(keys["admin"]),
                                  json={"street": street, "house": house, "chat_id": chat_id})  # fmt: skip
        assert created.status_code == 201, created.text
    refused = await http.post("/api/v1/house-chats", headers=_auth(keys["staff"]),
                              json={"street": "Лесная", "house": "3", "chat_id": 1})  # fmt: skip
    assert refused.status_code == 403
    bad = await http.post("/api/v1/outages", headers=_auth(keys["staff"]),
                          json={"message": "  ", "buildings": [{"street": "Гагарина", "house": "15"}]})  # fmt: skip
    assert bad.status_code == 422 and "empty" in bad.text
    declared = await http.post(
        "/api/v1/outages", headers=_auth(keys["staff"]),
        json={"title": "Нет горячей воды", "message": "Горячей воды нет до вечера.",
              "buildings": [{"street": "Гагарина", "house": "15"}]},
    )  # fmt: skip
    assert declared.status_code == 201, declared.text
    body = declared.json()
    assert body["reach"]["chats"] == 1 and body["reach"]["chat_members"] == 130
    assert [len(api.sent_to_chat(c)) for c in (7001, 7002)] == [1, 0]
    assert (await http.get("/api/v1/outages", headers=_auth(keys["supervisor"]))).status_code == 403
    changed = await http.patch(f"/api/v1/outages/{body['id']}", headers=_auth(keys["staff"]),
                               json={"message": "Горячую воду дадут в 21:00."})  # fmt: skip
    assert changed.json()["message"] == "Горячую воду дадут в 21:00."
    assert "21:00" in api.sent_to_chat(7001)[0].text
    ended = await http.post(f"/api/v1/outages/{body['id']}/end", headers=_auth(keys["staff"]))
    assert ended.json()["ended_at"] is not None and ended.json()["posts"][0]["state"] == "closed"
    again = await http.patch(
        f"/api/v1/outages/{body['id']}", headers=_auth(keys["staff"]), json={"message": "x"}
    )
    assert again.status_code == 409
    async with db.session() as s:
        actions = list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["house_chat.add", "house_chat.add", "outage.declare", "outage.change", "outage.end"]


async def test_ui_declares_an_outage_and_shows_how_many_residents_it_reached(db, setup) -> None:
    http, api, keys = setup
    await login(http, keys["admin"])
    page = await http.get("/house-chats")
    token = csrf_of(page.text)
    added = await http.post("/house-chats", data={"street": "ул. Гагарина", "house": "д. 15", "chat_id": "7001",
                                                  "title": "Гагарина 15", "csrf": token})  # fmt: skip
    assert added.status_code == 303
    wrong = await http.post(
        "/house-chats", data={"street": "Мира", "house": "8", "chat_id": "abc", "csrf": token}
    )
    assert wrong.status_code == 422 and "не номер чата" in wrong.text
    empty = await http.post("/outages", data={"title": "Авария", "message": "", "buildings": "Гагарина, 15",
                                              "csrf": token})  # fmt: skip
    assert empty.status_code == 422 and "Напишите текст для жителей" in empty.text
    assert 'value="Авария"' in empty.text  # what was typed is kept
    declared = await http.post(
        "/outages",
        data={"title": "Авария водопровода", "message": "Нет холодной воды, бригада работает.",
              "buildings": "Гагарина, 15\nПолевая", "ends_at": "2099-01-01T18:00", "csrf": token},
    )  # fmt: skip
    assert declared.status_code == 303
    detail = await http.get(declared.headers["location"])
    reached = re.search(r'id="reach-residents">(\d+)<', detail.text)
    assert reached and int(reached.group(1)) == 130
    assert "в 1 домовых чатах" in detail.text
    assert api.sent_to_chat(7001)[0].text.startswith("⚠️ Авария водопровода")
    listing = await http.get("/outages")
    assert "Авария водопровода" in listing.text and "действует" in listing.text
    token = csrf_of(detail.text)
    ended = await http.post(declared.headers["location"] + "/end", data={"csrf": token})
    assert ended.status_code == 303
    assert api.sent_to_chat(7001)[0].text.startswith("✅ Завершено")
