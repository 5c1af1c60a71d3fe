"""The browser voice channel end to end: a real uvicorn on 127.0.0.1 and a WebSocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from voicebot.calls.websocket import router


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _allow_everyone(connection) -> str:  # noqa: ANN001
    return "admin"  # the gate answers with the caller's role


async def _serve(app: FastAPI):  # noqa: ANN202
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes only a flag)
        await asyncio.sleep(0.02)
    return f"ws://127.0.0.1:{port}", server, task


async def _stop(server, task) -> None:  # noqa: ANN001
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def web(make_engine):  # noqa: ANN001, ANN201
    app = FastAPI()
    app.include_router(router)
    app.state.voice_engine = make_engine()
    app.state.voice_socket_allowed = _allow_everyone
    url, server, task = await _serve(app)
    yield url
    await _stop(server, task)


async def test_nobody_gets_in_without_a_gate(make_engine) -> None:  # noqa: ANN001
    app = FastAPI()
    app.include_router(router)
    app.state.voice_engine = make_engine()
    url, server, task = await _serve(app)
    try:
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(f"{url}/ws/voice/voicetest"):
                pass
    finally:
        await _stop(server, task)


async def next_json(ws, kind: str, within: float = 15.0) -> tuple[dict, int]:  # noqa: ANN001
    """The next JSON message of this type; also how many audio bytes came before it."""
    audio = 0
    async with asyncio.timeout(within):
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                audio += len(message)
                continue
            event = json.loads(message)
            if event["type"] == kind:
                return event, audio


async def test_browser_call_end_to_end(demo_db, web: str) -> None:  # noqa: ANN001
    async with websockets.connect(f"{web}/ws/voice/voicetest") as ws:
        await ws.send(json.dumps({"sample_rate": 8000, "phone": "+79990000001"}))
        greeting, _ = await next_json(ws, "bot")
        assert greeting["text"] == "Номер счёта?"
        await ws.send(bytes(320) * 10)  # some microphone silence
        await ws.send(json.dumps({"type": "dtmf", "digits": "07234501#"}))
        caller, audio = await next_json(ws, "caller")
        assert caller["text"] == "07234501"
        assert audio > 8000  # the greeting's voice came back as PCM (8 kHz, > 0.5 s)
        confirm, _ = await next_json(ws, "bot")
        assert confirm["step"] == "confirm" and "07234501" in confirm["text"]
        await ws.send(json.dumps({"type": "hangup"}))
        end, _ = await next_json(ws, "end")
        assert end["outcome"] == "hangup"


@pytest.mark.parametrize(
    ("path", "hello", "needle"),
    [
        ("/ws/voice/voicetest", {"sample_rate": 44100}, "sample_rate"),
        ("/ws/voice/nope", {"sample_rate": 8000}, "unknown scenario"),
        ("/ws/voice/voicetest", {"phone": "not a phone"}, ""),
        ("/ws/voice/voicelong", {"direction": "outbound"}, "outbound"),
    ],
)
async def test_bad_opening_is_refused_clearly(web: str, path: str, hello: dict, needle: str) -> None:
    async with websockets.connect(f"{web}{path}") as ws:
        await ws.send(json.dumps(hello))
        error = json.loads(await ws.recv())
        assert error["type"] == "error" and needle in error["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 1008


async def test_garbage_audio_ends_the_call_not_the_server(db, web: str) -> None:  # noqa: ANN001
    async with websockets.connect(f"{web}/ws/voice/voicetest") as ws:
        await ws.send(json.dumps({"sample_rate": 16000}))
        await next_json(ws, "bot")
        await ws.send(b"\x01\x02\x03")  # odd length: not int16 PCM
        error, _ = await next_json(ws, "error")
        assert "int16" in error["message"]
        await next_json(ws, "end")
    async with websockets.connect(f"{web}/ws/voice/voicetest") as ws:  # the server still serves
        await ws.send(json.dumps({"sample_rate": 16000}))
        assert (await next_json(ws, "bot"))[0]["text"]
