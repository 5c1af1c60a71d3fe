"""A stand-in for alphacep/vosk-server's WebSocket server, speaking its exact wire format and backed by a
real Vosk model. It records what clients sent so tests can check the protocol."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import vosk
from websockets.asyncio.server import Server, ServerConnection, serve

EOF_TEXT = '{"eof" : 1}'


@dataclass
class FakeVoskServer:
    model: vosk.Model
    configs: list[dict] = field(default_factory=list)
    text_frames: list[str] = field(default_factory=list)
    garbage: bool = False  # answer with something that is not JSON
    server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = next(iter(self.server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    async def start(self) -> FakeVoskServer:
        self.server = await serve(self._session, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _session(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        rec, sample_rate, phrases = None, 8000.0, None
        async for message in ws:
            if isinstance(message, str):
                self.text_frames.append(message)
            if isinstance(message, str) and "config" in message:
                config = json.loads(message)["config"]
                self.configs.append(config)
                sample_rate = float(config.get("sample_rate", sample_rate))
                phrases = config.get("phrase_list")
                continue
            if rec is None:
                grammar = [json.dumps(phrases, ensure_ascii=False)] if phrases else []
                rec = vosk.KaldiRecognizer(self.model, sample_rate, *grammar)
                rec.SetWords(True)
            reply, done = await loop.run_in_executor(None, _decode, rec, message)
            await ws.send("not json" if self.garbage else reply)
            if done:
                break


def _decode(rec: vosk.KaldiRecognizer, message: bytes | str) -> tuple[str, bool]:
    if message == EOF_TEXT:
        return rec.FinalResult(), True
    if rec.AcceptWaveform(message):
        return rec.Result(), False
    return rec.PartialResult(), False
