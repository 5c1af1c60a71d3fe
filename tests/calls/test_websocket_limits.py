"""One user cannot hog the microphone channel: sockets per minute and open at once, per key, refused with
"retry later" (close 1013 and `retry_after`) while other users still get in."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.calls.test_websocket import _serve, _stop
from voicebot.api.app import create_app
from voicebot.services.keys import create_key


async def _refused_for(url: str, key: str) -> int:
    async with websockets.connect(url, additional_headers={"X-API-Key": key}) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "error" and "Слишком много подключений" in message["message"]
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1013
        return int(message["retry_after"])


async def test_sockets_per_user_at_once_and_per_minute(db, settings, make_engine) -> None:  # noqa: ANN001
    settings.voice_sockets_per_user, settings.voice_sockets_per_minute = 1, 3
    app = create_app(settings, database=db, voice_engine=make_engine())
    hog, other = (await create_key(db, "staff", "hog")).key, (await create_key(db, "staff", "other")).key
    base, server, task = await _serve(app)
    url = f"{base}/ws/voice/voicetest"
    try:
        held = await websockets.connect(url, additional_headers={"X-API-Key": hog})  # 1st: holds its slot
        assert await _refused_for(url, hog) > 0  # 2nd while the first is open
        async with websockets.connect(url, additional_headers={"X-API-Key": other}) as ws:  # others: fine
            await ws.send(json.dumps({"sample_rate": 16000}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] in ("bot", "caller", "end")
        await held.close()
        async with asyncio.timeout(10):  # the server notices the close and frees the slot
            while app.state.voice_socket_cap._open:  # noqa: ASYNC110 - no event to wait on
                await asyncio.sleep(0.05)
        third = await websockets.connect(url, additional_headers={"X-API-Key": hog})  # 3rd in the minute
        await third.close()
        wait = await _refused_for(url, hog)  # 4th in the minute: over the rate
        assert 30 <= wait <= 60
    finally:
        await _stop(server, task)
