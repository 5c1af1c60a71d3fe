"""«Проверить бота» for ops is a sandbox with a demo resident; the microphone socket checks Origin."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import websockets
from sqlalchemy import text

from tests.web.conftest import csrf_of, login
from tests.web.test_voice_gate import server_url  # noqa: F401 - the real app on a free port (fixture)
from voicebot.demo import load_demo_data
from voicebot.services.keys import create_key


async def test_ops_chatting_as_a_real_resident_hears_only_the_demo_resident(client, keys, db, web_settings):
    await load_demo_data(db, web_settings.default_timezone)
    await login(client, keys["ops"])
    page = await client.get("/try")
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf_of(page.text)}
    started = await client.post(
        "/try/chats", json={"scenario": "meter_readings", "phone": "+79161234501"}, headers=headers
    )
    assert started.status_code == 201, started.text
    heard = json.dumps(started.json(), ensure_ascii=False)
    assert "Гагарина" not in heard and "Примерная" in heard
    async with db.session() as s:
        assert await s.scalar(text("SELECT count(*) FROM calls")) == 0


@pytest.fixture
def served(server_url: str) -> int:  # noqa: F811 - pytest injects the imported fixture
    return int(server_url.rsplit(":", 1)[1])


async def _session_cookie(port: int, key: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        form = await http.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
        await http.post("/login", data={"key": key, "login_token": token, "next": "/"})
        return f"vb_session={http.cookies['vb_session']}"


async def test_a_foreign_site_cannot_open_the_microphone_socket_with_the_users_cookie(db, served):
    key = await create_key(db, "ops", "origin test")
    cookie = await _session_cookie(served, key.key)
    url = f"ws://127.0.0.1:{served}/ws/voice/meter_readings"
    for origin in ("https://evil.example", "http://127.0.0.1:1", None):  # foreign, other port, none at all
        headers = {"Cookie": cookie, **({"Origin": origin} if origin else {})}
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=headers, origin=None):
                pass
        assert refused.value.response.status_code == 403
    same = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{served}"}
    async with websockets.connect(url, additional_headers=same) as ws:
        message = json.loads(await ws.recv())  # in: no voice service runs in this app, a clear refusal
        assert message["type"] == "error"
