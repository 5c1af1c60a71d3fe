"""The browser voice channel of the real app admits signed-in users and API keys, nobody else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import pytest
import uvicorn
import websockets

from voicebot.api.app import create_app
from voicebot.services.keys import create_key
from voicebot.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def server_url(db, tmp_path):  # noqa: ANN001, ANN201
    app = create_app(Settings(data_dir=tmp_path), database=db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes only a flag)
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def test_anonymous_and_wrong_key_are_refused(server_url: str) -> None:
    for headers in ({}, {"X-API-Key": "vb_not_a_real_key"}):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                f"{server_url}/ws/voice/meter_readings", additional_headers=headers
            ):
                pass
        assert refused.value.response.status_code == 403


async def test_a_valid_key_gets_through_to_the_channel(db, server_url: str) -> None:  # noqa: ANN001
    key = await create_key(db, "ops", "voice test")
    headers = {"Authorization": f"Bearer {key.key}"}
    async with websockets.connect(f"{server_url}/ws/voice/meter_readings", additional_headers=headers) as ws:
        # No voice service runs in this app (tests build it without the lifespan): a clear refusal, not a 403.
        message = json.loads(await ws.recv())
        assert message["type"] == "error" and "not running" in message["message"]
