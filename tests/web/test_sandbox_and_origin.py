"""«Проверить бота» for ops is a sandbox with a demo resident; the microphone socket checks Origin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket

import httpx
import pytest
import uvicorn
import websockets
from sqlalchemy import text

from tests.web.conftest import csrf_of, login
from voicebot.api.app import create_app
from voicebot.demo import load_demo_data
from voicebot.services.keys import create_key
from voicebot.settings import Settings


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def served(db, tmp_path):  # noqa: ANN001, ANN201
    app = create_app(Settings(data_dir=tmp_path), database=db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes only a flag)
        await asyncio.sleep(0.02)
    yield port
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


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
