"""The microphone mode in Chromium (fake audio device) against a stand-in for /ws/voice/{scenario}.

The stand-in speaks the voice channel's protocol (voicebot/calls/websocket.py): it checks the hello and the
PCM the page sends, answers with a bot line and bot audio, then ends the call.
"""

from __future__ import annotations

import json

import pytest
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from tests.web.conftest import browser_missing
from tests.web.test_browser import DESKTOP, _page, _shot

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


class FakeVoiceChannel:
    def __init__(self) -> None:
        self.hello: dict | None = None
        self.scenario: str | None = None
        self.received = 0
        self.odd_frames = 0

    async def __call__(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.scenario = websocket.path_params["scenario"]
        self.hello = json.loads(await websocket.receive_text())
        await websocket.send_text(json.dumps({"type": "bot", "text": "Здравствуйте! Назовите лицевой счёт."}))
        await websocket.send_bytes(b"\x00\x10" * 1600)  # 0.1 s of bot audio at 16 kHz
        while self.received < 16000 * 2:  # one second of caller audio
            message = await websocket.receive()
            if message.get("bytes"):
                self.received += len(message["bytes"])
                self.odd_frames += len(message["bytes"]) % 2
            elif message["type"] == "websocket.disconnect":
                return
        await websocket.send_text(json.dumps({"type": "caller", "text": "ноль семь двадцать три"}))
        await websocket.send_text(json.dumps({"type": "end", "outcome": "hangup"}))
        await websocket.close()


async def test_microphone_streams_16khz_pcm_and_shows_the_conversation(
    browser, base_url, web_app, db, keys, screenshots
):
    fake = FakeVoiceChannel()

    # first in the route list, so it answers even when the real voice endpoint is mounted
    async def endpoint(websocket: WebSocket) -> None:
        await fake(websocket)

    route = WebSocketRoute("/ws/voice/{scenario}", endpoint)
    web_app.router.routes.insert(0, route)
    try:
        context, page = await _page(browser, base_url, keys["ops"], viewport=DESKTOP, start="/try")
        await context.grant_permissions(["microphone"])
        await page.select_option("#scenario", "meter_readings")
        await page.fill("#phone", "+79161234501")
        await page.click("#mic-start")
        await page.wait_for_selector("#mic-log li.bot", timeout=10_000)
        await page.wait_for_selector("#mic-log li.system", timeout=15_000)
        log = await page.locator("#mic-log").inner_text()
        assert "ноль семь двадцать три" in log and "Исход" in log
        await _shot(page, screenshots, "microphone-1366")
        assert fake.scenario == "meter_readings"
        assert fake.hello == {"sample_rate": 16000, "vars": {}, "phone": "+79161234501"}
        assert fake.received >= 32000 and fake.odd_frames == 0  # whole int16 samples only
        # the socket closed: the page offers a new call and no longer the hang-up button
        await page.wait_for_function(
            "() => !document.getElementById('mic-start').disabled && document.getElementById('mic-stop').disabled",
            timeout=5_000,
        )
        assert "Отключено" in await page.locator("#mic-status").inner_text()
        await context.close()
    finally:
        web_app.router.routes.remove(route)
