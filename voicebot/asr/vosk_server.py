"""vosk-server client: the same streaming interface, decoded on another machine over WebSocket.

Protocol (alphacep/vosk-server websocket/asr_server.py): an optional text frame
`{"config": {...}}` first (no reply), then binary PCM frames, each answered by exactly one JSON text
frame (`{"partial": ...}` or a result `{"text", "result"}`), and the literal text `{"eof" : 1}`, answered
by the final result, after which the server closes the connection. The server compares the eof frame
as a string, so its spelling (with the spaces) matters.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from voicebot.asr.results import parse_json, parse_result
from voicebot.asr.types import ASRError, ASRUnavailableError, Partial, Transcript, _Segments
from voicebot.asr.vosk_local import _check_pcm

logger = logging.getLogger(__name__)

EOF_MESSAGE = '{"eof" : 1}'


class VoskServerRecognizer:
    def __init__(
        self,
        url: str = "ws://127.0.0.1:2700",
        sample_rate: int = 16000,
        call_id: str | None = None,
        max_alternatives: int = 0,
        connect_timeout: float = 5.0,
        reply_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.sample_rate = sample_rate
        self.call_id = call_id
        self.max_alternatives = max_alternatives
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self._ws: ClientConnection | None = None
        self._grammar: list[str] | None = None
        self._segments = _Segments()
        self._last_partial = ""
        self._lock = asyncio.Lock()
        self._stale = False  # reset() asked for a fresh stream; drop the connection before the next chunk

    def set_grammar(self, phrases: list[str] | None) -> None:
        """vosk-server reads the phrase list only when a stream starts, so it applies from the next
        utterance (after final() or reset())."""
        self._grammar = list(phrases) if phrases is not None else None

    def reset(self) -> None:
        self._segments.items.clear()
        self._last_partial = ""
        self._stale = True

    async def accept(self, pcm: bytes) -> Partial | None:
        _check_pcm(pcm)
        if not pcm:
            return None
        async with self._lock:
            if self._stale:
                await self._disconnect()
            ws = await self._connection()
            data = await self._exchange(ws, bytes(pcm))
            if "partial" not in data:
                self._segments.add(parse_result(data, grammar=self._grammar is not None))
                self._last_partial = ""
                return Partial(text=self._segments.text_with(""), endpoint=True)
            partial = str(data.get("partial", "")).strip()
            if partial == self._last_partial:
                return None
            self._last_partial = partial
            return Partial(text=self._segments.text_with(partial))

    async def final(self) -> Transcript:
        async with self._lock:
            grammar = self._grammar is not None
            if self._ws is None or self._stale:
                await self._disconnect()
                return self._segments.merge(Transcript(text="", confidence=0.0, grammar=grammar))
            ws = self._ws
            try:
                data = await self._exchange(ws, EOF_MESSAGE)
            finally:
                await self._disconnect()  # the server ends the stream after eof
            self._last_partial = ""
            return self._segments.merge(parse_result(data, grammar=grammar))

    async def close(self) -> None:
        async with self._lock:
            await self._disconnect()

    # --- connection ---------------------------------------------------------------------------------

    async def _connection(self) -> ClientConnection:
        if self._ws is not None:
            return self._ws
        try:
            ws = await asyncio.wait_for(
                websockets.connect(self.url, max_size=2**22, open_timeout=None), self.connect_timeout
            )
        except (OSError, TimeoutError, websockets.InvalidURI, websockets.InvalidHandshake) as exc:
            raise ASRUnavailableError(f"cannot reach vosk-server at {self.url}: {exc}") from exc
        await ws.send(json.dumps({"config": self._config()}, ensure_ascii=False))
        self._ws = ws
        self._stale = False
        logger.debug("vosk-server stream opened", extra={"call_id": self.call_id, "url": self.url})
        return ws

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"sample_rate": self.sample_rate, "words": 1}
        if self.max_alternatives:
            config["max_alternatives"] = self.max_alternatives
        if self._grammar is not None:
            from voicebot.asr.vosk_local import grammar_json

            config["phrase_list"] = json.loads(grammar_json(self._grammar))
        return config

    async def _exchange(self, ws: ClientConnection, message: bytes | str) -> dict[str, Any]:
        try:
            await ws.send(message)
            reply = await asyncio.wait_for(ws.recv(), self.reply_timeout)
        except (websockets.ConnectionClosed, OSError, TimeoutError) as exc:
            await self._disconnect()
            raise ASRError(f"vosk-server stream at {self.url} broke: {exc!r}") from exc
        return parse_json(reply)

    async def _disconnect(self) -> None:
        ws, self._ws = self._ws, None
        self._stale = False
        if ws is not None:
            try:
                await ws.close()
            except Exception:  # closing a dead socket must not hide the original problem
                logger.debug("vosk-server close failed", exc_info=True, extra={"call_id": self.call_id})
