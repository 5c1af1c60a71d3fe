"""Webhook mode: the bot subscribes its URL with a secret; MAX deliveries reach /max/webhook of the app."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import uvicorn

from tests.max.conftest import Resident, max_settings
from voicebot.api.app import create_app
from voicebot.demo import load_demo_data
from voicebot.max.service import MaxService


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_deliveries_run_the_same_conversation(db, max_api, nlu, library, tmp_path) -> None:
    await load_demo_data(db)
    port = _free_port()
    settings = max_settings(
        max_api,
        tmp_path,
        max_mode="webhook",
        max_webhook_url=f"http://127.0.0.1:{port}/max/webhook",
        max_webhook_secret="s3cret-hook",
    )
    app = create_app(settings, database=db)
    service = MaxService(settings, db, nlu=nlu, library=library)
    app.state.max_service = service
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes only a flag)
        await asyncio.sleep(0.02)
    try:
        await service.start()
        assert max_api.subscription is not None
        assert max_api.subscription["secret"] == "s3cret-hook"
        assert not any(r.path == "/updates" for r in max_api.requests)  # no polling in webhook mode
        galina = Resident(max_api, 2001)
        await galina.start()
        _, menu = await galina.share_phone("+79161234503")
        (confirm,) = await galina.press(menu, "Передать показания")
        assert "Мира" in confirm.text
        assert set(max_api.webhook_responses) == {200}
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                settings.max_webhook_url,
                json={"update_type": "bot_started"},
                headers={"X-Max-Bot-Api-Secret": "x"},
            )
        assert forged.status_code == 403
    finally:
        await service.stop()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
